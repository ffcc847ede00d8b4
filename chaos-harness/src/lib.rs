//! Chaos experiments as ordinary Rust tests.
//!
//! Write an experiment as an annotated async function with a steady-state hypothesis, a method
//! and rollbacks; run it with `cargo test` or `cargo nextest run`; get a verdict, a journal and
//! an exit code CI can trust.
//!
//! ```toml
//! # Cargo.toml
//! [dev-dependencies]
//! chaos-harness = "0.1"
//!
//! [[test]]
//! name = "chaos"
//! harness = false
//! ```
//!
//! ```no_run
//! // tests/chaos.rs
//! use chaos_harness::prelude::*;
//!
//! #[experiment(title = "the service answers while we poke it", timeout = 30s)]
//! async fn service_survives_poke(cx: &Context) {
//!     steady_state! {
//!         probe "service answers 200" [timeout = 3s] {
//!             http::get(cx.var("service_url")?).await?.status()
//!         } => == 200;
//!     }
//!     method! {
//!         action "poke" { process::run("echo").arg("poke").check().await? };
//!         pause 1s;
//!     }
//!     rollback! {
//!         action "say sorry" { process::run("echo").arg("sorry").await? };
//!     }
//! }
//!
//! chaos_harness::main!();
//! ```
//!
//! The syntax, the outcomes and the journal are documented in the repository's README.md and
//! on [`experiment`].
#![warn(missing_docs)]

mod catalogue_cmd;
mod chaostoolkit;
mod cli;
mod exclusion;
mod gate;
mod guardian;
mod harness;
mod history_cmd;
mod incluster;
mod paths;
mod plan_cmd;
mod recovery;
mod report;
mod report_cmd;
mod run_history;
mod setup;

pub use setup::Setup;

// The engine's public API, each item at one path: `chaos_harness::X` is `chaos_runtime::X`.
pub use chaos_runtime::{
    credentials, ctk, env, event, extend, history, interrupt, journal, notify, redact, run,
    schedule, settings, Action, Activity, ActivityKind, ActivityOptions, BoxError, Concurrency,
    Context, Experiment, ExperimentBuilder, ExperimentError, Hypothesis, MissingVariable, Outcome,
    Probe, RollbackStrategy, SeededRng, Status, Unchecked, DEFAULT_GROUP,
};
pub use harness::{journal_dir, journal_path};
pub use report::html;

pub use chaos_runtime::target::{http, process};

/// The AWS EC2 target (cargo feature `aws`).
#[cfg(feature = "aws")]
pub use chaos_runtime::target::aws;

/// The Kubernetes target (cargo feature `k8s`). The final binary (your test crate) enables one
/// `k8s-openapi` version feature, for example `k8s-openapi = { version = "0.29", features =
/// ["latest"] }`.
#[cfg(feature = "k8s")]
pub use chaos_runtime::target::k8s;

/// The network fault proxy (cargo feature `proxy`): Toxiproxy's toxics, seeded and removed
/// with the run's rollbacks, HTTP faults, counters.
#[cfg(feature = "proxy")]
pub use chaos_runtime::target::proxy;

/// The kit every target shares: choosing targets ([`Select`](target::Select)), guards and dry
/// runs, typed `[targets.X]` settings. The targets themselves are at the crate root
/// ([`http`], [`process`], and with their features `aws`, `k8s` and `proxy`).
pub mod target {
    pub use chaos_runtime::target::marker;
    pub use chaos_runtime::target::touches;
    pub use chaos_runtime::target::{
        glob, touches_nothing, undo_kind, Amount, Guard, IntendError, Intent, Order, Refusal,
        Select, Selection, TargetContext, TargetSettings, TargetSettingsError, UndoKind, Untouched,
    };
}

/// The write-ahead ledger that lets a killed run be rolled back: its records, such as the
/// [`UndoRecord`](ledger::UndoRecord) a target writes with
/// [`TargetContext::intend`](target::TargetContext::intend) before a change.
pub use chaos_runtime::ledger;

/// Registers an [`UndoKind`](target::UndoKind): how an undo record runs, in the run or in a
/// recovery after it died.
pub use chaos_runtime::undo_kind;

/// Everything an experiment file needs: `use chaos_harness::prelude::*;`.
pub mod prelude {
    pub use crate::experiment;
    /// With the `k8s` feature: the Kubernetes target.
    #[cfg(feature = "k8s")]
    pub use chaos_runtime::target::k8s;
    /// With the `proxy` feature: the network fault proxy and its faults.
    #[cfg(feature = "proxy")]
    pub use chaos_runtime::target::proxy::{self, HttpFault, Proxy, Toxic};
    pub use chaos_runtime::target::{http, process, Select};
    pub use chaos_runtime::{BoxError, Context, Outcome};
}

/// Declares a chaos experiment on an `async fn` taking the run context.
///
/// ```no_run
/// use chaos_harness::prelude::*;
///
/// #[experiment(
///     title = "checkout answers while a worker dies",
///     tags = ["http", "process"],
///     hypothesis = continuously(every = 500ms, fail_fast),
///     rollbacks = always,
///     timeout = 2m,
/// )]
/// async fn worker_loss(cx: &Context) {
///     steady_state! {
///         probe "checkout answers 200" [timeout = 3s] {
///             http::get(cx.var("checkout_url")?).await?.status()
///         } => in 200..300;
///     }
///     method! {
///         action "kill one worker" { process::run("pkill").args(["-n", "worker"]).await? };
///         pause 5s;
///         probe "latency" { http::get(cx.var("checkout_url")?).await?.latency().as_millis() } => < 500;
///     }
///     rollback! {
///         action "restart workers" [timeout = 30s] { process::run("systemctl").args(["start", "workers"]).check().await? };
///     }
/// }
/// # fn main() {}
/// ```
///
/// Keys: `title = "..."`, `description = "..."`, `tags = ["..."]`,
/// `hypothesis = default | before_method_only | after_method_only |
/// during_method_only(every = 1s, fail_fast) | continuously(every = 1s, fail_fast)`,
/// `rollbacks = always | never | deviated`, `timeout = <duration>`, `ignore` or
/// `ignore = "reason"`, `snapshot`, `expect = <outcome>`, `group = "name"` (the exclusion group:
/// experiments of one group, `"default"` unless named, never run at the same time, within a
/// process or across processes), `parallel` (runs alongside any other; not with `group`).
///
/// An experiment must check something: `hypothesis = during_method_only` needs a method, and
/// without a steady state the method needs an action or a probe.
///
/// Activities: `probe "name" [options] { ... } => tolerance;`, `action "name" [options] { ... };`,
/// `pause <duration>;`. Options: `timeout = <d>`, `pause_before = <d>`, `pause_after = <d>`,
/// `background`. Tolerances: `== v`, `!= v`, `< v`, `<= v`, `> v`, `>= v`, `in range`,
/// `matches PATTERN`, or a closure `|v: &T| -> bool`.
pub use chaos_macros::experiment;

/// The `main` of a `harness = false` test target: runs every `#[experiment]` of the crate
/// through libtest-mimic.
///
/// It is a macro so that insta snapshots of journals (`snapshot`) land in the user's crate.
///
/// `main!(setup = path::to::fn)` registers extensions first: `fn setup(s: &mut Setup)` adds
/// notification channels, observers, hooks, controls and credential providers (see
/// [`Setup`]).
///
/// `main!(chaostoolkit = ["experiments/", "more/*.yaml"])` makes each Chaos Toolkit experiment
/// file there a trial too (a directory's `.json`, `.yaml` and `.yml` files, or glob patterns,
/// relative to the crate's directory), named after its path (`experiments::kill-pods`); a file
/// that is not valid is a failing trial whose message lists its problems. With `setup`:
/// `main!(chaostoolkit = [...], setup = path::to::fn)`. `chaostoolkit_ignored = [...]` instead
/// makes them ignored trials, run with `--ignored` (experiments that need a real account).
#[macro_export]
macro_rules! main {
    () => {
        $crate::__main_with!(::core::option::Option::None, &[]);
    };
    (setup = $setup:path $(,)?) => {
        $crate::__main_with!(
            ::core::option::Option::Some($setup as fn(&mut $crate::Setup)),
            &[]
        );
    };
    (chaostoolkit = [$($files:literal),* $(,)?] $(,)?) => {
        $crate::__main_with!(::core::option::Option::None, &[$($files),*]);
    };
    (chaostoolkit = [$($files:literal),* $(,)?], setup = $setup:path $(,)?) => {
        $crate::__main_with!(
            ::core::option::Option::Some($setup as fn(&mut $crate::Setup)),
            &[$($files),*]
        );
    };
    (chaostoolkit_ignored = [$($files:literal),* $(,)?] $(,)?) => {
        $crate::__main_with!(::core::option::Option::None, &[$(concat!("!", $files)),*]);
    };
    (chaostoolkit_ignored = [$($files:literal),* $(,)?], setup = $setup:path $(,)?) => {
        $crate::__main_with!(
            ::core::option::Option::Some($setup as fn(&mut $crate::Setup)),
            &[$(concat!("!", $files)),*]
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __main_with {
    ($setup:expr, $files:expr) => {
        fn main() -> ::std::process::ExitCode {
            fn __chaos_snapshot(name: &str, journal: &$crate::__private::serde_json::Value) {
                $crate::__private::insta::assert_json_snapshot!(name, journal);
            }
            $crate::__private::run_main(
                ::core::file!(),
                __chaos_snapshot,
                $setup,
                $files,
                ::core::env!("CARGO_MANIFEST_DIR"),
            )
        }
    };
}

#[doc(hidden)]
pub mod __private {
    pub use crate::cli::main as chaos_main;
    pub use crate::harness::run_main;
    pub use chaos_runtime::registry::Registration;
    pub use chaos_runtime::{
        Action, Activity, BoxError, Context, Experiment, ExperimentError, Hypothesis, Outcome,
        Probe, RollbackStrategy,
    };
    pub use insta;
    pub use inventory;
    pub use serde_json;
    pub use std::time::Duration;
}
