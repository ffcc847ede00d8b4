//! Recovery of a run that died before its rollbacks: its ledger entry's pending undo records,
//! each run through the [`UndoKind`](crate::target::UndoKind) it names.
//!
//! ```
//! use chaos_runtime::ledger::{Header, Ledger, UndoRecord};
//! use chaos_runtime::recovery::run_undos;
//! use serde_json::{json, Value};
//!
//! fn uncordon(_data: Value, _cx: chaos_runtime::Context)
//!     -> futures_util::future::BoxFuture<'static, Result<Value, chaos_runtime::BoxError>> {
//!     Box::pin(async { Ok(json!("uncordoned")) })
//! }
//! chaos_runtime::undo_kind!("doc.uncordon", uncordon);
//!
//! let dir = std::env::temp_dir().join(format!("chaos-recovery-doc-{}", std::process::id()));
//! let ledger = Ledger::open(&dir)?;
//! let entry = ledger.begin(&Header::new("doc::cordon", 1))?;
//! entry.intend(&UndoRecord::new("doc.uncordon", "uncordon `node-1`", json!({"node": "node-1"})))?;
//! drop(entry); // the run dies
//!
//! let mut claimed = ledger.orphans().claimed.pop().unwrap();
//! let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
//! let ran = rt.block_on(run_undos(&mut claimed, &chaos_runtime::Context::builder().build()));
//! assert_eq!(ran.len(), 1);
//! assert!(ran[0].outcome.is_done());
//! claimed.finish()?;
//! assert!(ledger.orphans().claimed.is_empty());
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::ledger::{Claimed, UndoOutcome};
use crate::target::undo::{run_with_retries, undo_kind};
use crate::Context;
use serde_json::Value;

/// How one undo record ended in a recovery.
#[derive(Clone, Debug, PartialEq)]
pub struct UndoRun {
    /// The record's number in its entry.
    pub seq: u64,
    /// The rollback activity's name.
    pub label: String,
    /// The undo kind.
    pub kind: String,
    /// Whether the run had marked the change applied (a change intended but not marked may
    /// or may not have happened: its undo runs all the same).
    pub applied: bool,
    /// How it ended.
    pub outcome: UndoOutcome,
    /// What the undo returned, when it succeeded.
    pub value: Value,
}

/// Runs `claimed`'s pending undo records, latest first, each through its registered kind
/// (retried with backoff) with `cx`, and records each outcome in the entry. A record whose
/// kind this binary does not have fails, naming it, and stays for a recovery that has it.
pub async fn run_undos(claimed: &mut Claimed, cx: &Context) -> Vec<UndoRun> {
    let pending: Vec<_> = claimed.state().pending().cloned().collect();
    let mut ran = Vec::with_capacity(pending.len());
    for u in pending {
        let (outcome, value) = match undo_kind(&u.undo.kind) {
            None => (
                UndoOutcome::Failed(format!(
                    "no undo kind `{}` is registered in this binary",
                    u.undo.kind
                )),
                Value::Null,
            ),
            Some(kind) => match run_with_retries(kind, &u.undo.data, cx).await {
                Ok(v) => (UndoOutcome::Done, v),
                Err(e) => (UndoOutcome::Failed(e.to_string()), Value::Null),
            },
        };
        if let Err(e) = claimed.undone(u.seq, &outcome) {
            tracing::warn!(error = %e, "a recovered undo's outcome could not be recorded");
        }
        ran.push(UndoRun {
            seq: u.seq,
            label: u.undo.label,
            kind: u.undo.kind,
            applied: u.applied,
            outcome,
            value,
        });
    }
    ran
}
