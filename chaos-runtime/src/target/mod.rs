//! The targets an experiment acts on, and the kit they share.
//!
//! Targets: [`http`] and [`process`], and behind cargo features `aws` (EC2), `k8s`
//! (Kubernetes) and `proxy` (the network fault proxy). The kit, for target writers:
//!
//! - [`Select`]: how many of the matching objects an action takes (all, a count, a
//!   percentage rounded up, the oldest), drawn from the run's seed, and the [`Selection`]
//!   recorded in the journal ([`Selection::record`]); [`glob`] for name patterns;
//! - [`TargetSettings`]: the typed reader of a `[targets.NAME]` section, with unknown-key
//!   errors, and the dry-run switch;
//! - [`Guard`] and [`Refusal`]: blast-radius limits; [`touches_nothing`]: the one decision
//!   that an action touches nothing (a dry run, or nothing chosen);
//! - [`TargetContext::on_rollback`]: the undo of a change, run with the run's rollbacks
//!   whatever ended the run, so that authors need not write that rollback;
//!   [`TargetContext::intend`]: the same, written to the run's ledger before the change, so
//!   that a recovery runs it if the run dies, through its registered [`UndoKind`].
//!
//! A new target is a module here that uses these, so that no target copies another's
//! selection, settings, guard or dry-run code.

mod choice;
mod context;
mod guard;
mod settings;
pub(crate) mod undo;

pub mod http;
pub mod marker;
pub mod process;
pub mod touches;

#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "k8s")]
pub mod k8s;
#[cfg(feature = "proxy")]
pub mod proxy;

pub use choice::{glob, Amount, Order, Select, Selection};
pub use context::TargetContext;
pub use guard::{touches_nothing, Guard, Refusal, Untouched};
pub use settings::{TargetSettings, TargetSettingsError};
pub use undo::{undo_kind, IntendError, Intent, UndoKind};

/// The extensions the compiled-in targets need on every run: with the `k8s` feature, its
/// Events ([`k8s::ClusterEvents`]) and, in a Job `--k8s-manifests` rendered, each run's
/// verdict left in the cluster ([`k8s::JobResults`]). A harness registers them before the
/// user's setup.
///
/// ```
/// let builtin = chaos_runtime::target::extensions();
/// assert_eq!(builtin.len(), 2 * usize::from(cfg!(feature = "k8s")));
/// ```
pub fn extensions() -> Vec<std::sync::Arc<dyn crate::extend::Extension>> {
    vec![
        #[cfg(feature = "k8s")]
        std::sync::Arc::new(k8s::ClusterEvents),
        #[cfg(feature = "k8s")]
        std::sync::Arc::new(k8s::JobResults),
    ]
}
