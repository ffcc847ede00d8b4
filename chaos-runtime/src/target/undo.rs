//! Undo: what a target registers to reverse a change an action made, run with the run's
//! rollbacks whatever ended the run, so that experiment authors need not write that rollback.

use crate::error::BoxError;
use crate::model::{Action, Activity};
use futures_util::future::BoxFuture;
use serde_json::Value;
use std::sync::{Arc, Mutex};

type UndoFn = Box<dyn FnOnce() -> BoxFuture<'static, Result<Value, BoxError>> + Send>;

/// One registered undo: a label (the rollback activity's name) and what reverses the change.
pub(crate) struct Undo {
    label: String,
    run: UndoFn,
}

impl std::fmt::Debug for Undo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Undo").field("label", &self.label).finish()
    }
}

impl Undo {
    pub(crate) fn new(label: String, run: UndoFn) -> Undo {
        Undo { label, run }
    }

    /// The undo as a rollback action: it runs once; its value is what the undo returned.
    pub(crate) fn into_activity(self) -> Activity {
        let slot = Arc::new(Mutex::new(Some(self.run)));
        Action::new(self.label, move |_cx| {
            let run = slot.lock().unwrap_or_else(|p| p.into_inner()).take();
            async move {
                match run {
                    Some(run) => run().await,
                    None => Ok(Value::Null),
                }
            }
        })
        .into()
    }
}
