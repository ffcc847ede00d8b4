//! Undo: what a target registers to reverse a change an action made, run with the run's
//! rollbacks whatever ended the run, so that experiment authors need not write that rollback.
//!
//! A durable undo ([`TargetContext::intend`](super::TargetContext::intend)) is also written to
//! the run's [ledger](crate::ledger) before the change: if the run dies before its rollbacks,
//! a recovery in another process runs it from its record, through the [`UndoKind`] its record
//! names.

use crate::error::BoxError;
use crate::ledger::{Entry, LedgerError, UndoLog, UndoOutcome};
use crate::model::{Action, Activity};
use crate::Context;
use futures_util::future::BoxFuture;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;

type UndoFn = Box<dyn FnOnce() -> BoxFuture<'static, Result<Value, BoxError>> + Send>;

/// How an undo of some kind runs from its record's data, in the run that made the change or
/// in a recovery after it died. Register one with [`undo_kind!`](crate::undo_kind); the
/// function must be idempotent: restoring twice does no harm.
///
/// ```
/// use chaos_runtime::target::{undo_kind, UndoKind};
/// use serde_json::Value;
///
/// fn restore_file(data: Value, _cx: chaos_runtime::Context)
///     -> futures_util::future::BoxFuture<'static, Result<Value, chaos_runtime::BoxError>> {
///     Box::pin(async move {
///         let path = data["path"].as_str().ok_or("no path")?.to_owned();
///         std::fs::write(&path, b"restored")?;
///         Ok(Value::String(path))
///     })
/// }
/// chaos_runtime::undo_kind!("doc.restore_file", restore_file);
///
/// assert!(undo_kind("doc.restore_file").is_some());
/// assert!(undo_kind("doc.nothing").is_none());
/// ```
#[derive(Debug)]
pub struct UndoKind {
    /// The kind's name, as [`UndoRecord::kind`](crate::ledger::UndoRecord::kind) gives it.
    pub name: &'static str,
    /// Runs the undo of `data` with a run's context.
    pub run: fn(Value, Context) -> BoxFuture<'static, Result<Value, BoxError>>,
}

inventory::collect!(UndoKind);

/// The registered undo kind named `name`.
pub fn undo_kind(name: &str) -> Option<&'static UndoKind> {
    inventory::iter::<UndoKind>
        .into_iter()
        .find(|k| k.name == name)
}

/// Registers an [`UndoKind`]: `undo_kind!("name", function)`, at the top level of a module.
#[macro_export]
macro_rules! undo_kind {
    ($name:expr, $run:expr) => {
        $crate::__private::inventory::submit! {
            $crate::target::UndoKind { name: $name, run: $run }
        }
    };
}

/// What [`TargetContext::intend`](super::TargetContext::intend) returns: mark the change
/// applied once it took effect.
#[derive(Clone, Debug)]
#[must_use = "mark the change applied once it took effect"]
pub struct Intent {
    durable: Option<(Arc<Entry>, u64)>,
}

impl Intent {
    pub(crate) fn new(durable: Option<(Arc<Entry>, u64)>) -> Intent {
        Intent { durable }
    }

    /// Records, durably, that the change took effect. Without a ledger (outside a run, or a
    /// runner without one) it does nothing.
    pub fn applied(&self) -> Result<(), LedgerError> {
        match &self.durable {
            Some((entry, seq)) => entry.applied(*seq),
            None => Ok(()),
        }
    }

    /// Whether the ledger holds the record (the run keeps a ledger entry).
    #[cfg_attr(not(any(feature = "k8s", feature = "aws")), allow(dead_code))]
    pub(crate) fn is_durable(&self) -> bool {
        self.durable.is_some()
    }

    /// Records, durably, that the change was undone by the run itself (a rollback helper
    /// that restored a [standby](super::TargetContext::standby) record's change), so that no
    /// recovery undoes it again. Without a ledger it does nothing.
    pub fn undone(&self) -> Result<(), LedgerError> {
        match &self.durable {
            Some((entry, seq)) => entry.undone(*seq, &UndoOutcome::Done),
            None => Ok(()),
        }
    }
}

/// [`TargetContext::intend`](super::TargetContext::intend) could not record the undo: the
/// change must not be made.
#[derive(Debug, thiserror::Error)]
pub enum IntendError {
    /// No [`UndoKind`] of that name is registered in this binary, so no recovery could run it.
    #[error("no undo kind `{0}` is registered in this binary (register it with `chaos_runtime::undo_kind!`)")]
    UnknownKind(String),
    /// The ledger could not be written.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// How many times a durable undo is tried, and the waits between tries.
const RETRIES: [Duration; 2] = [Duration::from_millis(200), Duration::from_secs(1)];

/// Runs `kind` on `data`, retried with backoff; the last error if every try failed.
pub(crate) async fn run_with_retries(
    kind: &UndoKind,
    data: &Value,
    cx: &Context,
) -> Result<Value, BoxError> {
    let mut waits = RETRIES.iter();
    loop {
        match (kind.run)(data.clone(), cx.clone()).await {
            Ok(v) => return Ok(v),
            Err(e) => match waits.next() {
                Some(wait) => {
                    tracing::warn!(kind = kind.name, error = %e, "undo failed; trying again");
                    tokio::time::sleep(*wait).await;
                }
                None => return Err(e),
            },
        }
    }
}

/// One registered undo: a label (the rollback activity's name), what reverses the change, and
/// where the ledger records it, if it does.
pub(crate) struct Undo {
    label: String,
    run: How,
    durable: Option<(Arc<dyn UndoLog>, u64)>,
}

/// What reverses a change: a closure, or a registered kind run on its record's data with the
/// rollbacks' context.
enum How {
    Closure(UndoFn),
    Kind(&'static UndoKind, Value),
}

impl std::fmt::Debug for Undo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Undo").field("label", &self.label).finish()
    }
}

impl Undo {
    pub(crate) fn new(label: String, run: UndoFn) -> Undo {
        Undo {
            label,
            run: How::Closure(run),
            durable: None,
        }
    }

    /// This undo, its outcome going to `log` as record `seq`.
    pub(crate) fn logged(mut self, log: Arc<dyn UndoLog>, seq: u64) -> Undo {
        self.durable = Some((log, seq));
        self
    }

    /// An undo of `kind` on `data`, whose outcome goes to `log` as record `seq`, if given.
    pub(crate) fn durable(
        label: String,
        kind: &'static UndoKind,
        data: Value,
        durable: Option<(Arc<dyn UndoLog>, u64)>,
    ) -> Undo {
        Undo {
            label,
            run: How::Kind(kind, data),
            durable,
        }
    }

    /// The undo as a rollback action: it runs once; its value is what the undo returned. A
    /// durable undo's outcome goes to the ledger.
    pub(crate) fn into_activity(self) -> Activity {
        let slot = Arc::new(Mutex::new(Some(self.run)));
        let durable = self.durable;
        Action::new(self.label, move |cx| {
            let run = slot.lock().unwrap_or_else(|p| p.into_inner()).take();
            let durable = durable.clone();
            async move {
                let result = match run {
                    Some(How::Closure(run)) => run().await,
                    Some(How::Kind(kind, data)) => run_with_retries(kind, &data, &cx).await,
                    None => Ok(Value::Null),
                };
                if let Some((entry, seq)) = durable {
                    let outcome = match &result {
                        Ok(_) => UndoOutcome::Done,
                        Err(e) => UndoOutcome::Failed(e.to_string()),
                    };
                    if let Err(e) = entry.undone(seq, &outcome) {
                        tracing::warn!(error = %e, "an undo's outcome could not be recorded");
                    }
                }
                result
            }
        })
        .into()
    }
}

/// The run a recovery rolls back, in its context's stash: the undos it runs say so in what
/// they write (see [`undo_key`]).
#[derive(Default)]
#[cfg_attr(not(feature = "k8s"), allow(dead_code))]
pub(crate) struct RecoveringRun(pub(crate) String);

/// A name for the undo of `kind` on `data` in the run `cx` belongs to (or the run a recovery
/// rolls back), the same in the run's rollback helper, in a recovery from the ledger and in
/// one from markers: what an undo writes under it (a Kubernetes Event) is written once however
/// many times the undo runs. `None` when the run keeps no ledger entry. 16 hex digits, FNV-1a
/// of the run id, the kind and the data's JSON text.
#[cfg_attr(not(feature = "k8s"), allow(dead_code))]
pub(crate) fn undo_key(cx: &Context, kind: &str, data: &Value) -> Option<String> {
    use crate::target::TargetContext;
    let run = match cx.ledger_entry() {
        Some(entry) => entry.run_id().to_owned(),
        None => cx.with_stash(|r: &mut RecoveringRun| r.0.clone()),
    };
    if run.is_empty() {
        return None;
    }
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in [
        run.as_bytes(),
        b"\0",
        kind.as_bytes(),
        b"\0",
        data.to_string().as_bytes(),
    ]
    .into_iter()
    .flatten()
    {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    Some(format!("{hash:016x}"))
}

#[cfg(test)]
mod key_tests {
    use super::*;
    use crate::target::TargetContext;
    use serde_json::json;

    #[test]
    fn the_key_names_the_run_kind_and_data_and_needs_a_run() {
        let cx = Context::builder().build();
        assert_eq!(undo_key(&cx, "k8s.scale", &json!({"replicas": 3})), None);
        cx.with_stash(|r: &mut RecoveringRun| r.0 = "run-1".into());
        let a = undo_key(&cx, "k8s.scale", &json!({"replicas": 3})).expect("a key");
        assert_eq!(a.len(), 16);
        assert_eq!(
            undo_key(&cx, "k8s.scale", &json!({"replicas": 3})),
            Some(a.clone())
        );
        assert_ne!(
            undo_key(&cx, "k8s.scale", &json!({"replicas": 2})),
            Some(a.clone())
        );
        assert_ne!(
            undo_key(&cx, "k8s.uncordon", &json!({"replicas": 3})),
            Some(a.clone())
        );
        cx.with_stash(|r: &mut RecoveringRun| r.0 = "run-2".into());
        assert_ne!(undo_key(&cx, "k8s.scale", &json!({"replicas": 3})), Some(a));
    }
}
