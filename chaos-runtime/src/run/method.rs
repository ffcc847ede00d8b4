//! The method: its activities in order, background ones joined at its end, and the steady
//! state sampled meanwhile for the `during` strategies.

use super::activity;
use super::state::Run;
use super::stop::Stop;
use super::tally::FindingKind;
use crate::event::{ActivityRecord, EventKind, Phase};
use crate::extend::ControlPoint;
use std::time::Duration;
use tokio::sync::watch;

/// Why the sampler ended before the method did.
enum SamplerEnd {
    /// The method ended first.
    MethodDone,
    /// A steady-state probe lacked a variable, secret or credentials: the method stops.
    SetupError,
}

impl Run<'_> {
    pub(super) async fn method(&self) {
        if !self.begin_ledger() {
            return;
        }
        self.state().method_started = true;
        self.control(true, ControlPoint::Method);
        self.checkpoint().await;
        self.bus.emit(EventKind::MethodStarted);
        match self.exp.hypothesis.during() {
            None => self.method_steps().await,
            Some((every, fail_fast)) => {
                let (done_tx, done_rx) = watch::channel(false);
                let steps = self.method_steps();
                let sampler = self.sample(every, fail_fast, done_rx);
                tokio::pin!(steps, sampler);
                tokio::select! {
                    _ = &mut steps => {
                        done_tx.send_replace(true);
                        sampler.await;
                    }
                    end = &mut sampler => match end {
                        SamplerEnd::SetupError => {
                            self.cancel_in_flight(
                                "cancelled: the steady state could not be checked during the method",
                            )
                            .await;
                        }
                        SamplerEnd::MethodDone => steps.await,
                    },
                }
            }
        }
        self.bus.emit(EventKind::MethodCompleted);
        self.control(false, ControlPoint::Method);
    }

    /// The method's activities in order; a failure stops the method, and the background
    /// activities are joined at its end.
    async fn method_steps(&self) {
        let mut pending = Vec::new();
        for activity in &self.exp.method {
            if activity.options.background {
                pending.push(self.spawn_background(activity));
                continue;
            }
            let record = self.activity(activity, Phase::Method).await;
            if self.method_record(&record) {
                break;
            }
        }
        for p in pending {
            let record = self.join(p).await;
            self.method_record(&record);
        }
    }

    /// Records a method activity's result; returns whether the method must stop.
    fn method_record(&self, record: &ActivityRecord) -> bool {
        let finding = || activity::finding(Phase::Method, record);
        match &record.failure {
            Some(f) if f.is_setup() => {
                self.found(FindingKind::Setup, finding());
                true
            }
            Some(_) => {
                self.found(FindingKind::ActivityFailed, finding());
                true
            }
            None => {
                if record.tolerance_met == Some(false) {
                    self.found(FindingKind::Deviation, finding());
                }
                false
            }
        }
    }

    /// Samples the steady state every `every` until the method is done. A miss is a
    /// deviation; with `fail_fast` it also stops the run (the sampler then waits to be
    /// dropped). A setup error ends the sampler early, and the method with it.
    async fn sample(
        &self,
        every: Duration,
        fail_fast: bool,
        mut done: watch::Receiver<bool>,
    ) -> SamplerEnd {
        let mut next = tokio::time::Instant::now();
        loop {
            let missed = self.hypothesis(Phase::SteadyStateDuring).await;
            if self.state().tally.has(FindingKind::Setup) {
                return SamplerEnd::SetupError;
            }
            if !missed.is_empty() {
                for f in missed {
                    self.found(FindingKind::Deviation, f);
                }
                if fail_fast {
                    self.stop.raise(Stop::FailFast);
                    std::future::pending::<()>().await;
                }
            }
            if *done.borrow() {
                return SamplerEnd::MethodDone;
            }
            // Keep to a fixed grid; skip the ticks a slow sample overran.
            let now = tokio::time::Instant::now();
            next += every;
            while next <= now {
                next += every;
            }
            tokio::select! {
                _ = tokio::time::sleep_until(next) => {}
                _ = done.wait_for(|d| *d) => return SamplerEnd::MethodDone,
            }
        }
    }
}
