//! [`TargetContext`]: what a target reads from and keeps in its run, beside what experiment
//! authors use of the [`Context`](crate::Context).

/// The run context as a target writer uses it: the settings file's `[targets.X]` tables, the
/// run's selections (the journal's `targets`), and per-run state for rollbacks. Implemented by
/// [`Context`](crate::Context); bring it in scope with `use chaos_runtime::target::TargetContext`.
///
/// ```
/// use chaos_runtime::target::TargetContext;
/// let cx = chaos_runtime::Context::builder().build();
/// cx.with_stash(|v: &mut Vec<String>| v.push("i-123".into()));
/// assert_eq!(cx.with_stash(|v: &mut Vec<String>| v.clone()), ["i-123"]);
/// cx.record_targets(serde_json::json!({"target": "doc", "chosen": ["i-123"]}));
/// assert_eq!(cx.recorded_targets().len(), 1);
/// assert!(cx.target_settings("aws").is_none());
/// ```
pub trait TargetContext: sealed::Sealed {
    /// The settings file's `[targets.NAME]` table (for example `aws`), if any. Read it with
    /// [`TargetSettings`](super::TargetSettings) for typed values and unknown-key errors.
    fn target_settings(&self, name: &str) -> Option<&toml::Value>;

    /// Records a target selection (which instances or pods a run chose, and from what); the
    /// journal lists them under `targets`.
    fn record_targets(&self, selection: serde_json::Value);

    /// The selections recorded so far.
    fn recorded_targets(&self) -> Vec<serde_json::Value>;

    /// Runs `f` on the run's value of type `T` (created with `T::default()` on first use):
    /// targets keep per-run state here, such as what an action stopped so that a rollback can
    /// start it again without arguments.
    fn with_stash<T: Default + Send + 'static, R>(&self, f: impl FnOnce(&mut T) -> R) -> R;

    /// Registers what reverses a change an action just made (a toxic added, a replica count
    /// changed). The runner runs it when the run's rollbacks run, whatever ended the run and
    /// whatever the rollback strategy, before the experiment's own rollbacks and latest first,
    /// as a rollback activity named `label` whose value is what `undo` returns; a failure is a
    /// failed rollback. A context used outside a run never runs it.
    ///
    /// ```
    /// use chaos_runtime::target::TargetContext;
    /// use chaos_runtime::{Action, Context, Experiment, Outcome, Probe, run::Runner};
    /// let exp = Experiment::builder("doc::undo")
    ///     .steady_state(Probe::new("up", |_cx| async { Ok(true) }).tolerance("true", |v| *v))
    ///     .method(Action::new("change", |cx: Context| async move {
    ///         cx.on_rollback("put it back", || async { Ok("restored") });
    ///         Ok(())
    ///     }))
    ///     .build()
    ///     .unwrap();
    /// let rt = tokio::runtime::Runtime::new().unwrap();
    /// let report = rt.block_on(Runner::new().run(&exp, Context::builder().build()));
    /// assert_eq!(report.outcome, Outcome::Passed);
    /// assert_eq!(report.rollbacks[0].name, "put it back");
    /// ```
    fn on_rollback<F, Fut, T>(&self, label: impl Into<String>, undo: F)
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<T, crate::BoxError>> + Send + 'static,
        T: serde::Serialize + Send + 'static;

    /// Records how to undo a change before making it: durably in the run's
    /// [ledger](crate::ledger) (when the runner keeps one), so that if the run dies a recovery
    /// runs it from the record; and like [`TargetContext::on_rollback`], to run with the
    /// rollbacks. The undo runs through the [`UndoKind`](super::UndoKind) that `undo.kind`
    /// names (retried with backoff). Call [`Intent::applied`](super::Intent::applied) once the
    /// change took effect. An error means the change must not be made.
    ///
    /// ```
    /// use chaos_runtime::ledger::UndoRecord;
    /// use chaos_runtime::target::TargetContext;
    /// use chaos_runtime::{Action, Context, Experiment, Outcome, run::Runner};
    /// use serde_json::{json, Value};
    ///
    /// fn reopen(_data: Value, _cx: Context)
    ///     -> futures_util::future::BoxFuture<'static, Result<Value, chaos_runtime::BoxError>> {
    ///     Box::pin(async { Ok(json!("reopened")) })
    /// }
    /// chaos_runtime::undo_kind!("doc.reopen", reopen);
    ///
    /// let exp = Experiment::builder("doc::intend")
    ///     .method(Action::new("close the valve", |cx: Context| async move {
    ///         let intent = cx.intend(UndoRecord::new("doc.reopen", "reopen the valve", json!({})))?;
    ///         // ... close it ...
    ///         intent.applied()?;
    ///         Ok(())
    ///     }))
    ///     .build()
    ///     .unwrap();
    /// let dir = std::env::temp_dir().join(format!("chaos-intend-doc-{}", std::process::id()));
    /// let rt = tokio::runtime::Runtime::new().unwrap();
    /// let report = rt.block_on(Runner::new().ledger(&dir).run(&exp, Context::builder().build()));
    /// assert_eq!(report.outcome, Outcome::Passed);
    /// assert_eq!(report.rollbacks[0].name, "reopen the valve");
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    fn intend(&self, undo: crate::ledger::UndoRecord) -> Result<super::Intent, super::IntendError>;

    /// Records how to undo a change before making it, for a recovery only: durably in the
    /// run's [ledger](crate::ledger) (when the runner keeps one), but not run with this run's
    /// rollbacks, because the experiment's own rollback block undoes it (through a rollback
    /// helper such as `k8s::restore_scales`, which calls [`Intent::undone`](super::Intent::undone)).
    /// If the run dies first, a recovery runs it from the record. An error means the change
    /// must not be made.
    ///
    /// ```
    /// use chaos_runtime::ledger::UndoRecord;
    /// use chaos_runtime::target::TargetContext;
    /// use chaos_runtime::{Action, Context, Experiment, Outcome, run::Runner};
    /// use serde_json::{json, Value};
    ///
    /// fn unlock(_data: Value, _cx: Context)
    ///     -> futures_util::future::BoxFuture<'static, Result<Value, chaos_runtime::BoxError>> {
    ///     Box::pin(async { Ok(json!("unlocked")) })
    /// }
    /// chaos_runtime::undo_kind!("doc.unlock", unlock);
    ///
    /// let exp = Experiment::builder("doc::standby")
    ///     .method(Action::new("lock the door", |cx: Context| async move {
    ///         let intent = cx.standby(UndoRecord::new("doc.unlock", "unlock the door", json!({})))?;
    ///         // ... lock it ...
    ///         intent.applied()?;
    ///         Ok(())
    ///     }))
    ///     .build()
    ///     .unwrap();
    /// let dir = std::env::temp_dir().join(format!("chaos-standby-doc-{}", std::process::id()));
    /// let rt = tokio::runtime::Runtime::new().unwrap();
    /// let report = rt.block_on(Runner::new().ledger(&dir).run(&exp, Context::builder().build()));
    /// assert_eq!(report.outcome, Outcome::Passed);
    /// assert!(report.rollbacks.is_empty(), "the run's own rollbacks were to undo it");
    /// assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "the entry was closed");
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    fn standby(&self, undo: crate::ledger::UndoRecord)
        -> Result<super::Intent, super::IntendError>;
}

mod sealed {
    /// Only [`Context`](crate::Context) is a target context.
    pub trait Sealed {}
    impl Sealed for crate::Context {}
}

impl TargetContext for crate::Context {
    fn on_rollback<F, Fut, T>(&self, label: impl Into<String>, undo: F)
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<T, crate::BoxError>> + Send + 'static,
        T: serde::Serialize + Send + 'static,
    {
        let run = Box::new(move || {
            let fut = undo();
            Box::pin(async move {
                let value = fut.await?;
                serde_json::to_value(value)
                    .map_err(|e| format!("the undo's value could not be serialized: {e}").into())
            }) as futures_util::future::BoxFuture<'static, _>
        });
        self.target_state()
            .undo
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(super::undo::Undo::new(label.into(), run));
    }

    fn intend(&self, undo: crate::ledger::UndoRecord) -> Result<super::Intent, super::IntendError> {
        let kind = super::undo::undo_kind(&undo.kind)
            .ok_or_else(|| super::IntendError::UnknownKind(undo.kind.clone()))?;
        let durable = match self.ledger_entry() {
            Some(entry) => {
                let seq = entry.intend(&undo)?;
                Some((entry, seq))
            }
            None => None,
        };
        let intent = super::undo::Intent::new(durable.clone());
        self.target_state()
            .undo
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(super::undo::Undo::durable(
                undo.label,
                kind,
                undo.data,
                durable.map(|(e, seq)| (e as std::sync::Arc<dyn crate::ledger::UndoLog>, seq)),
            ));
        Ok(intent)
    }

    fn standby(
        &self,
        undo: crate::ledger::UndoRecord,
    ) -> Result<super::Intent, super::IntendError> {
        super::undo::undo_kind(&undo.kind)
            .ok_or_else(|| super::IntendError::UnknownKind(undo.kind.clone()))?;
        let durable = match self.ledger_entry() {
            Some(entry) => {
                let seq = entry.standby(&undo)?;
                Some((entry, seq))
            }
            None => None,
        };
        Ok(super::undo::Intent::new(durable))
    }

    fn target_settings(&self, name: &str) -> Option<&toml::Value> {
        self.target_state().settings.get(name)
    }

    fn record_targets(&self, selection: serde_json::Value) {
        self.target_state()
            .selections
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(selection);
    }

    fn recorded_targets(&self) -> Vec<serde_json::Value> {
        self.target_state()
            .selections
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn with_stash<T: Default + Send + 'static, R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let mut stash = self
            .target_state()
            .stash
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let slot = stash
            .entry(std::any::TypeId::of::<T>())
            .or_insert_with(|| Box::new(T::default()));
        match slot.downcast_mut::<T>() {
            Some(v) => f(v),
            None => unreachable!("the stash is keyed by type"),
        }
    }
}
