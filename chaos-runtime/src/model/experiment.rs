//! [`Experiment`]: a built experiment, and the rules a hand-built one can break.

use super::{Activity, Concurrency, Hypothesis, RollbackStrategy};
use crate::schedule::RunWindow;
use serde_json::{json, Value};
use std::time::Duration;

/// A hand-built experiment that breaks a rule `#[experiment]` checks at compile time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExperimentError {
    /// Neither a steady state nor a method.
    #[error("experiment `{0}` has neither a steady state nor a method")]
    Empty(String),
    /// Two activities share a name.
    #[error("experiment `{experiment}`: two activities are named `{name}`")]
    DuplicateActivity {
        /// The experiment.
        experiment: String,
        /// The repeated name.
        name: String,
    },
    /// A steady-state activity that is not a probe with a tolerance.
    #[error("experiment `{experiment}`: steady-state activity `{name}` must be a probe with a tolerance")]
    SteadyStateWithoutTolerance {
        /// The experiment.
        experiment: String,
        /// The activity.
        name: String,
    },
    /// A background activity outside the method.
    #[error(
        "experiment `{experiment}`: activity `{name}` is marked background outside the method"
    )]
    BackgroundOutsideMethod {
        /// The experiment.
        experiment: String,
        /// The activity.
        name: String,
    },
    /// A weight outside 1 to 10.
    #[error("experiment `{0}`: weight {1} is outside 1 to 10")]
    Weight(String, u8),
    /// A zero sampling period for a hypothesis checked during the method.
    #[error("experiment `{0}`: the hypothesis sampling period must be greater than zero")]
    ZeroFrequency(String),
    /// Nothing in the experiment can ever be checked: it would pass whatever the system does.
    #[error("experiment `{experiment}` checks nothing: {why}")]
    ChecksNothing {
        /// The experiment.
        experiment: String,
        /// Why nothing is checked, and what to change.
        why: Unchecked,
    },
    /// An exclusion group that is not a valid name (see [`Concurrency::is_valid_group`]).
    #[error("experiment `{experiment}`: exclusion group `{group}` must be a non-empty name of ASCII letters, digits, `-` and `_`")]
    BadGroup {
        /// The experiment.
        experiment: String,
        /// The group as given.
        group: String,
    },
    /// A run window that does not parse.
    #[error("experiment `{experiment}`: {source}")]
    Window {
        /// The experiment.
        experiment: String,
        /// What is wrong with the window.
        source: crate::schedule::WindowError,
    },
    /// A `touches` entry that does not parse.
    #[error("experiment `{experiment}`: {source}")]
    Touch {
        /// The experiment.
        experiment: String,
        /// What is wrong with the entry.
        source: crate::target::touches::TouchError,
    },
    /// A minimum interval of zero.
    #[error("experiment `{0}`: the minimum interval between runs must be greater than zero")]
    ZeroInterval(String),
    /// Both an exclusion group and `parallel`, which exclude each other.
    #[error("experiment `{experiment}` is both in exclusion group `{group}` and parallel: keep one (a parallel experiment runs alongside any other)")]
    GroupAndParallel {
        /// The experiment.
        experiment: String,
        /// The group given.
        group: String,
    },
}

/// Why an experiment checks nothing ([`ExperimentError::ChecksNothing`]).
///
/// The steady state is checked before and after the method by the strategies that say so
/// (whether or not there is a method), and sampled during the method only while there is one;
/// a method checks something when it has an action or a probe (it can fail, or miss its
/// tolerance). An experiment where neither happens would end `passed` without having looked
/// at the system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Unchecked {
    /// The hypothesis is only sampled during the method, and there is no method.
    #[error("its hypothesis `during-method-only` samples the steady state only while the method runs, and it has no method; add a method, or check the steady state before or after (hypothesis `default`, `before-method-only`, `after-method-only` or `continuously`)")]
    NoMethodToSampleDuring,
    /// No steady state, and a method without an action or a probe (only pauses).
    #[error("it has no steady state and its method has no action nor probe (only pauses); add a steady-state probe, or an action or a probe to the method")]
    NothingButPauses,
}

/// A chaos experiment: metadata, a steady-state hypothesis, a method and rollbacks.
///
/// Built with [`Experiment::builder`]; run with [`crate::run::Runner`].
#[derive(Clone, Debug)]
pub struct Experiment {
    pub(crate) name: String,
    pub(crate) title: String,
    pub(crate) description: Option<String>,
    pub(crate) tags: Vec<String>,
    pub(crate) hypothesis: Hypothesis,
    pub(crate) rollback_strategy: RollbackStrategy,
    pub(crate) timeout: Option<Duration>,
    pub(crate) weight: Option<u8>,
    pub(crate) concurrency: Concurrency,
    pub(crate) window: RunWindow,
    pub(crate) min_interval: Option<Duration>,
    pub(crate) touches: Vec<crate::target::touches::Touch>,
    pub(crate) steady_state: Vec<Activity>,
    pub(crate) method: Vec<Activity>,
    pub(crate) rollbacks: Vec<Activity>,
    /// How journals show it, when given (a Chaos Toolkit experiment as its file has it).
    pub(crate) definition: Option<Value>,
}

impl Experiment {
    /// An experiment of that name with nothing in it: what a recovery runs for a killed run
    /// whose experiment is no longer in the binary.
    pub(crate) fn stub(name: &str) -> Experiment {
        Experiment {
            name: name.to_owned(),
            title: name.to_owned(),
            description: None,
            tags: Vec::new(),
            hypothesis: Hypothesis::default(),
            rollback_strategy: RollbackStrategy::default(),
            timeout: None,
            weight: None,
            concurrency: Concurrency::default(),
            window: RunWindow::Default,
            min_interval: None,
            touches: Vec::new(),
            steady_state: Vec::new(),
            method: Vec::new(),
            rollbacks: Vec::new(),
            definition: None,
        }
    }

    /// The experiment's name (`module::function` for macro-made ones).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Its title.
    pub fn title(&self) -> &str {
        &self.title
    }
    /// Its tags.
    pub fn tags(&self) -> &[String] {
        &self.tags
    }
    /// Its hypothesis strategy.
    pub fn hypothesis(&self) -> Hypothesis {
        self.hypothesis
    }
    /// Its rollback strategy.
    pub fn rollback_strategy(&self) -> RollbackStrategy {
        self.rollback_strategy
    }
    /// Its timeout.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }
    /// Its weight in the resilience score (1 to 10; 1 unless set).
    pub fn weight(&self) -> u8 {
        self.weight.unwrap_or(1)
    }
    /// Which experiments it may run alongside: its exclusion group, or parallel.
    pub fn concurrency(&self) -> &Concurrency {
        &self.concurrency
    }
    /// The run window it keeps to (see [`RunWindow`]).
    pub fn window(&self) -> &RunWindow {
        &self.window
    }
    /// The least time between two starts of it (`min_interval = ...`), checked against the
    /// run history.
    pub fn min_interval(&self) -> Option<Duration> {
        self.min_interval
    }
    /// What it declares it touches in a cluster (`touches = [...]`), from which the RBAC of
    /// its in-cluster Job is derived.
    pub fn touches(&self) -> &[crate::target::touches::Touch] {
        &self.touches
    }
    /// The steady-state probes.
    pub fn steady_state(&self) -> &[Activity] {
        &self.steady_state
    }
    /// The method's activities.
    pub fn method(&self) -> &[Activity] {
        &self.method
    }
    /// The rollback activities.
    pub fn rollbacks(&self) -> &[Activity] {
        &self.rollbacks
    }

    /// The experiment as JSON in Chaos Toolkit's keys: the journal's `experiment` field (its
    /// [definition](crate::ExperimentBuilder::definition) when it has one).
    ///
    /// ```
    /// let exp = chaos_runtime::Experiment::builder("doc::json")
    ///     .title("pokes")
    ///     .method(chaos_runtime::Action::new("poke", |_| async { Ok(()) }))
    ///     .build()?;
    /// assert_eq!(exp.to_json()["title"], "pokes");
    /// assert_eq!(exp.to_json()["method"][0]["name"], "poke");
    /// # Ok::<(), chaos_runtime::ExperimentError>(())
    /// ```
    pub fn to_json(&self) -> Value {
        if let Some(d) = &self.definition {
            return d.clone();
        }
        let list = |acts: &[Activity]| acts.iter().map(Activity::to_json).collect::<Vec<_>>();
        let mut hyp = json!({ "strategy": self.hypothesis.name() });
        if let Some((every, fail_fast)) = self.hypothesis.during() {
            hyp["frequency"] = json!(every.as_secs_f64());
            hyp["fail_fast"] = json!(fail_fast);
        }
        let mut exp = json!({
            "title": self.title,
            "description": self.description,
            "tags": self.tags,
            "steady-state-hypothesis": { "title": self.title, "probes": list(&self.steady_state) },
            "method": list(&self.method),
            "rollbacks": list(&self.rollbacks),
            "runtime": {
                "hypothesis": hyp,
                "rollbacks": { "strategy": self.rollback_strategy.name() },
                "timeout": self.timeout.map(|t| t.as_secs_f64()),
                "group": self.concurrency.group(),
            },
        });
        if let Some(w) = self.weight {
            exp["runtime"]["weight"] = json!(w);
        }
        if let Some(w) = self.window.text() {
            exp["runtime"]["window"] = json!(w);
        }
        if !self.touches.is_empty() {
            let t: Vec<String> = self.touches.iter().map(|t| t.to_string()).collect();
            exp["runtime"]["touches"] = json!(t);
        }
        if let Some(i) = self.min_interval {
            exp["runtime"]["min_interval"] = json!(i.as_secs_f64());
        }
        exp
    }
}
