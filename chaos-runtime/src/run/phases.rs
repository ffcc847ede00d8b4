//! One run, phase by phase: the hypothesis before, the method, the hypothesis after, then the
//! rollbacks, under the experiment timeout and the run's stop channel.

use super::activity::{self, Executed};
use super::state::Run;
use super::stop::Stop;
use super::tally::FindingKind;
use super::verdict::decide;
use crate::event::{
    ActivityRecord, EventKind, Finding, Phase, RollbackDecision, RollbackSummary, RunReport,
};
use crate::extend::ControlPoint;
use crate::interrupt::Interrupt;
use crate::model::{Activity, RollbackStrategy};
use crate::target::TargetContext;
use std::sync::Arc;
use std::time::Instant;

impl Run<'_> {
    /// Runs the experiment to its report.
    pub(super) async fn execute(self, interrupt: Option<Interrupt>) -> RunReport {
        let started = Instant::now();
        let seed = self.cx.seed();
        self.bus.emit(EventKind::RunStarted {
            experiment: self.exp.name.clone(),
            description: Arc::new(self.exp.to_json()),
            seed,
        });

        self.control(true, ControlPoint::Experiment);
        {
            let phases = async {
                self.checkpoint().await;
                self.phases().await
            };
            let timeout = async {
                match self.exp.timeout {
                    Some(t) => {
                        tokio::time::sleep(t).await;
                        t
                    }
                    None => std::future::pending().await,
                }
            };
            let interrupted = async {
                match interrupt {
                    Some(mut i) => i.raised().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                _ = interrupted => self.stop.raise(Stop::Signal),
                _ = self.stop.raised() => {}
                t = timeout => self.stop.raise(Stop::Timeout(t)),
                _ = phases => {}
            }
        }
        let stop = self.stop.current();
        if let Some(stop) = &stop {
            self.cancel_in_flight(&stop.cancellation()).await;
        }

        let (decision, rollbacks) = self.rollbacks().await;
        self.close_ledger();

        let report = self.report(started, stop, decision, rollbacks);
        self.control(false, ControlPoint::Experiment);
        self.bus.emit(EventKind::RunCompleted {
            report: Arc::new(report.clone()),
        });
        report
    }

    /// The run's report, from what it recorded, what stopped it and its rollbacks.
    pub(super) fn report(
        &self,
        started: Instant,
        stop: Option<Stop>,
        decision: RollbackDecision,
        rollbacks: Vec<RollbackSummary>,
    ) -> RunReport {
        let (outcome, findings, deviated) = {
            let st = self.state();
            (
                decide(&st.tally, stop.as_ref()),
                st.tally.findings(),
                st.tally.has(FindingKind::Deviation),
            )
        };
        RunReport {
            experiment: self.exp.name.clone(),
            outcome,
            status: outcome.status(),
            deviated,
            seed: self.cx.seed(),
            findings,
            rollback_decision: decision,
            rollbacks,
            stopped_by: stop.map(|s| s.to_string()),
            error: None,
            targets: self.cx.recorded_targets(),
            duration: started.elapsed(),
        }
    }

    /// The hypothesis before, the method (with sampling during) and the hypothesis after.
    async fn phases(&self) {
        let h = self.exp.hypothesis;
        let has_steady = !self.exp.steady_state.is_empty();
        if h.before() && has_steady {
            let missed = self.hypothesis(Phase::SteadyStateBefore).await;
            let baseline_missed = !missed.is_empty();
            for f in missed {
                self.found(FindingKind::Baseline, f);
            }
            if baseline_missed || self.state().tally.has(FindingKind::Setup) {
                return;
            }
        }
        if !self.exp.method.is_empty() {
            self.method().await;
            if self.state().tally.has(FindingKind::Setup) {
                return;
            }
        }
        if h.after() && has_steady {
            for f in self.hypothesis(Phase::SteadyStateAfter).await {
                self.found(FindingKind::Deviation, f);
            }
        }
    }

    /// Runs every steady-state probe. A probe that could not run for want of a variable,
    /// secret or credentials is recorded as a setup finding; the others that missed are
    /// returned, for the caller to record as what they mean in `phase`.
    pub(super) async fn hypothesis(&self, phase: Phase) -> Vec<Finding> {
        self.control(true, ControlPoint::Hypothesis(phase));
        self.checkpoint().await;
        self.bus.emit(EventKind::HypothesisStarted { phase });
        let mut missed = Vec::new();
        let mut met = true;
        for probe in &self.exp.steady_state {
            let record = self.activity(probe, phase).await;
            if record.tolerance_met == Some(true) {
                continue;
            }
            met = false;
            let finding = activity::finding(phase, &record);
            if record.failure.as_ref().is_some_and(|f| f.is_setup()) {
                self.found(FindingKind::Setup, finding);
            } else {
                missed.push(finding);
            }
        }
        self.bus.emit(EventKind::HypothesisCompleted { phase, met });
        self.control(false, ControlPoint::Hypothesis(phase));
        missed
    }

    /// Runs the rollbacks if the strategy and what happened call for them. A recovery, which
    /// cannot know whether the killed run deviated, runs them unless the strategy is `never`.
    pub(super) async fn rollbacks(&self) -> (RollbackDecision, Vec<RollbackSummary>) {
        let decision = {
            let st = self.state();
            if self.exp.rollbacks.is_empty() {
                RollbackDecision::NoneDeclared
            } else if !st.method_started {
                RollbackDecision::MethodNotStarted
            } else {
                match self.exp.rollback_strategy {
                    RollbackStrategy::Always => RollbackDecision::Ran,
                    RollbackStrategy::Never => RollbackDecision::StrategyNever,
                    RollbackStrategy::Deviated
                        if !self.recovering && !st.tally.has(FindingKind::Deviation) =>
                    {
                        RollbackDecision::NotDeviated
                    }
                    RollbackStrategy::Deviated => RollbackDecision::Ran,
                }
            }
        };
        let mut summaries = Vec::new();
        let undos = self.cx.take_undos();
        if decision != RollbackDecision::Ran && undos.is_empty() {
            return (decision, summaries);
        }
        self.control(true, ControlPoint::Rollbacks);
        self.bus.emit(EventKind::RollbacksStarted);
        // What targets undo on their own first (latest first), then the experiment's own
        // rollbacks, which may check that the target is back.
        let undos: Vec<Activity> = undos.into_iter().map(|u| u.into_activity()).collect();
        let own = if decision == RollbackDecision::Ran {
            &self.exp.rollbacks[..]
        } else {
            &[]
        };
        for activity in undos.iter().chain(own) {
            let record = self.activity(activity, Phase::Rollbacks).await;
            if record.failure.is_some() {
                self.found(
                    FindingKind::RollbackFailed,
                    activity::finding(Phase::Rollbacks, &record),
                );
            }
            summaries.push(RollbackSummary {
                name: record.name.clone(),
                status: record.status,
                duration: record.elapsed,
                failure: record.failure.as_ref().map(|f| f.to_string()),
            });
        }
        self.bus.emit(EventKind::RollbacksCompleted);
        self.control(false, ControlPoint::Rollbacks);
        (decision, summaries)
    }

    /// Runs one activity in the foreground, with its pauses, and records it.
    pub(super) async fn activity(&self, activity: &Activity, phase: Phase) -> ActivityRecord {
        if let Some(d) = activity.options.pause_before {
            tokio::time::sleep(d).await;
        }
        let point = ControlPoint::Activity {
            phase,
            name: &activity.name,
            kind: activity.kind,
        };
        self.control(true, point);
        if phase != Phase::Rollbacks {
            self.checkpoint().await;
        }
        let id = self.begin(activity, phase);
        let executed: Executed = activity::execute(activity, self.cx.clone()).await;
        let record = self.complete(activity, phase, id, executed);
        self.control(false, point);
        if let Some(d) = activity.options.pause_after {
            tokio::time::sleep(d).await;
        }
        record
    }
}
