//! [`ExperimentBuilder`]: experiments built in code, checked as `#[experiment]` checks them.

use super::{
    Activity, ActivityKind, Concurrency, Experiment, ExperimentError, Hypothesis, RollbackStrategy,
    Unchecked,
};
use crate::schedule::RunWindow;
use std::time::Duration;

/// Builds an [`Experiment`]; see [`Experiment::builder`].
#[derive(Debug)]
pub struct ExperimentBuilder {
    pub(super) exp: Experiment,
    pub(super) group: Option<String>,
    pub(super) parallel: bool,
    pub(super) window: Option<String>,
    pub(super) touches: Vec<String>,
}

impl Experiment {
    /// Starts an experiment named `name` (the harness names it `module::function`).
    ///
    /// ```
    /// use chaos_runtime::{Experiment, Probe, Action, Activity, Hypothesis};
    /// use std::time::Duration;
    /// let exp = Experiment::builder("suite::hello")
    ///     .title("hello answers")
    ///     .tags(["demo"])
    ///     .steady_state(Probe::new("up", |_cx| async { Ok(200u16) }).tolerance("== 200", |v| *v == 200))
    ///     .method(Action::new("poke", |_cx| async { Ok(()) }))
    ///     .method(Activity::pause(Duration::from_millis(10)))
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(exp.name(), "suite::hello");
    /// assert_eq!(exp.method().len(), 2);
    /// ```
    pub fn builder(name: impl Into<String>) -> ExperimentBuilder {
        let name = name.into();
        ExperimentBuilder {
            exp: Experiment {
                title: name.clone(),
                name,
                description: None,
                tags: Vec::new(),
                hypothesis: Hypothesis::Default,
                rollback_strategy: RollbackStrategy::Always,
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
            },
            group: None,
            parallel: false,
            window: None,
            touches: Vec::new(),
        }
    }
}

impl ExperimentBuilder {
    /// Sets the title (default: the name).
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.exp.title = title.into();
        self
    }
    /// How journals show the experiment (their `experiment` field), instead of what is built:
    /// a Chaos Toolkit experiment as its file has it.
    pub fn definition(mut self, json: serde_json::Value) -> Self {
        self.exp.definition = Some(json);
        self
    }
    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.exp.description = Some(description.into());
        self
    }
    /// Adds tags.
    pub fn tags<S: Into<String>>(mut self, tags: impl IntoIterator<Item = S>) -> Self {
        self.exp.tags.extend(tags.into_iter().map(Into::into));
        self
    }
    /// Sets the hypothesis strategy.
    pub fn hypothesis(mut self, h: Hypothesis) -> Self {
        self.exp.hypothesis = h;
        self
    }
    /// Sets when the rollbacks run (default [`RollbackStrategy::Always`]); add rollbacks with
    /// [`ExperimentBuilder::rollback`].
    pub fn rollback_strategy(mut self, r: RollbackStrategy) -> Self {
        self.exp.rollback_strategy = r;
        self
    }
    /// Sets the experiment timeout: past it the run is cancelled (outcome `aborted`) and the
    /// rollbacks run.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.exp.timeout = Some(d);
        self
    }
    /// Sets the experiment's weight in the [resilience score](crate::history::score), 1 (the
    /// default) to 10, as Litmus weighs its faults; another value fails [`build`](Self::build).
    ///
    /// ```
    /// use chaos_runtime::{Action, Experiment};
    /// let exp = Experiment::builder("suite::zone_outage")
    ///     .weight(8)
    ///     .method(Action::new("stop", |_cx| async { Ok(()) }))
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(exp.weight(), 8);
    /// assert_eq!(exp.to_json()["runtime"]["weight"], 8);
    /// assert!(Experiment::builder("x").weight(11).method(Action::new("a", |_| async { Ok(()) })).build().is_err());
    /// ```
    pub fn weight(mut self, weight: u8) -> Self {
        self.exp.weight = Some(weight);
        self
    }
    /// Puts the experiment in exclusion group `name` instead of [`DEFAULT_GROUP`]: it never
    /// runs at the same time as another experiment of that group, and may overlap experiments
    /// of other groups. A name is ASCII letters, digits, `-` and `_`. See [`Concurrency`].
    ///
    /// ```
    /// use chaos_runtime::{Action, Experiment};
    /// let exp = Experiment::builder("suite::stop_one")
    ///     .group("ec2-account")
    ///     .method(Action::new("stop", |_cx| async { Ok(()) }))
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(exp.concurrency().group(), Some("ec2-account"));
    /// ```
    pub fn group(mut self, name: impl Into<String>) -> Self {
        self.group = Some(name.into());
        self
    }
    /// Lets the experiment run alongside any other (for one that touches nothing another
    /// experiment observes). Cannot be combined with [`ExperimentBuilder::group`]. See
    /// [`Concurrency`].
    ///
    /// ```
    /// use chaos_runtime::{Concurrency, Experiment, Probe};
    /// let exp = Experiment::builder("suite::read_only")
    ///     .parallel()
    ///     .steady_state(Probe::new("up", |_cx| async { Ok(200u16) }).tolerance("== 200", |v| *v == 200))
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(exp.concurrency(), &Concurrency::Parallel);
    /// ```
    pub fn parallel(mut self) -> Self {
        self.parallel = true;
        self
    }
    /// Keeps the experiment to a run window: a [`Window`](crate::schedule::Window) text such
    /// as `"Mon-Fri 09:00-15:00 Europe/Paris"`, or `"always"` to run at any time whatever the
    /// settings' `[schedule] window` says. Outside it the harness skips the experiment, with
    /// the reason and the next opening. A text that does not parse fails
    /// [`build`](Self::build).
    ///
    /// ```
    /// use chaos_runtime::{Action, Experiment};
    /// let exp = Experiment::builder("suite::office_hours")
    ///     .window("Mon-Fri 09:00-15:00 Europe/Paris")
    ///     .method(Action::new("poke", |_cx| async { Ok(()) }))
    ///     .build()?;
    /// assert_eq!(exp.window().text().as_deref(), Some("Mon-Fri 09:00-15:00 Europe/Paris"));
    /// let err = Experiment::builder("suite::typo")
    ///     .window("Mon-Fri 09:00-15:00 Europe/Pariss")
    ///     .method(Action::new("poke", |_cx| async { Ok(()) }))
    ///     .build()
    ///     .unwrap_err();
    /// assert!(err.to_string().contains("`Europe/Pariss` is not an IANA time zone"));
    /// # Ok::<(), chaos_runtime::ExperimentError>(())
    /// ```
    pub fn window(mut self, text: impl Into<String>) -> Self {
        self.window = Some(text.into());
        self
    }
    /// Skips the experiment when the run history shows a start of it less than `interval`
    /// ago (the check and the record of this start are one transaction, so that processes
    /// started at once run it at most once). Zero fails [`build`](Self::build).
    ///
    /// ```
    /// use chaos_runtime::{Action, Experiment};
    /// use std::time::Duration;
    /// let exp = Experiment::builder("suite::daily")
    ///     .min_interval(Duration::from_secs(24 * 3600))
    ///     .method(Action::new("poke", |_cx| async { Ok(()) }))
    ///     .build()?;
    /// assert_eq!(exp.min_interval(), Some(Duration::from_secs(86_400)));
    /// # Ok::<(), chaos_runtime::ExperimentError>(())
    /// ```
    pub fn min_interval(mut self, interval: Duration) -> Self {
        self.exp.min_interval = Some(interval);
        self
    }
    /// Declares what the experiment touches in a cluster: operations of the Kubernetes
    /// target (`"pods.terminate"`, `"deployments.read in shop"`, `"nodes.drain"`; see
    /// [`Operation`](crate::target::touches::Operation)), from which the least-privilege RBAC
    /// of its in-cluster Job is derived. An entry that does not parse fails
    /// [`build`](Self::build).
    ///
    /// ```
    /// use chaos_runtime::{Action, Experiment};
    /// let exp = Experiment::builder("suite::kill")
    ///     .touches(["pods.terminate in shop", "deployments.read in shop"])
    ///     .method(Action::new("kill", |_cx| async { Ok(()) }))
    ///     .build()?;
    /// assert_eq!(exp.touches().len(), 2);
    /// # Ok::<(), chaos_runtime::ExperimentError>(())
    /// ```
    pub fn touches<S: Into<String>>(mut self, touches: impl IntoIterator<Item = S>) -> Self {
        self.touches.extend(touches.into_iter().map(Into::into));
        self
    }
    /// Adds a steady-state probe (it needs a tolerance).
    pub fn steady_state(mut self, probe: impl Into<Activity>) -> Self {
        self.exp.steady_state.push(probe.into());
        self
    }
    /// Adds a method activity.
    pub fn method(mut self, activity: impl Into<Activity>) -> Self {
        self.exp.method.push(activity.into());
        self
    }
    /// Adds a rollback activity.
    pub fn rollback(mut self, activity: impl Into<Activity>) -> Self {
        self.exp.rollbacks.push(activity.into());
        self
    }

    /// Checks the experiment and returns it.
    pub fn build(self) -> Result<Experiment, ExperimentError> {
        let mut e = self.exp;
        if let Some(text) = &self.window {
            e.window = text.parse().map_err(|source| ExperimentError::Window {
                experiment: e.name.clone(),
                source,
            })?;
        }
        for text in &self.touches {
            let touch = text.parse().map_err(|source| ExperimentError::Touch {
                experiment: e.name.clone(),
                source,
            })?;
            e.touches.push(touch);
        }
        e.touches.sort();
        e.touches.dedup();
        let err_name = || e.name.clone();
        if e.steady_state.is_empty() && e.method.is_empty() {
            return Err(ExperimentError::Empty(err_name()));
        }
        if let Some(w) = e.weight.filter(|w| !(1..=10).contains(w)) {
            return Err(ExperimentError::Weight(err_name(), w));
        }
        if e.min_interval.is_some_and(|i| i.is_zero()) {
            return Err(ExperimentError::ZeroInterval(err_name()));
        }
        if let Some((every, _)) = e.hypothesis.during() {
            if every.is_zero() {
                return Err(ExperimentError::ZeroFrequency(err_name()));
            }
        }
        let mut seen = std::collections::HashSet::new();
        for a in e.steady_state.iter().chain(&e.method).chain(&e.rollbacks) {
            if a.kind != ActivityKind::Pause && !seen.insert(a.name.as_str()) {
                return Err(ExperimentError::DuplicateActivity {
                    experiment: err_name(),
                    name: a.name.clone(),
                });
            }
        }
        for a in &e.steady_state {
            if a.kind != ActivityKind::Probe || a.tolerance.is_none() {
                return Err(ExperimentError::SteadyStateWithoutTolerance {
                    experiment: err_name(),
                    name: a.name.clone(),
                });
            }
        }
        for a in e.steady_state.iter().chain(&e.rollbacks) {
            if a.options.background {
                return Err(ExperimentError::BackgroundOutsideMethod {
                    experiment: err_name(),
                    name: a.name.clone(),
                });
            }
        }
        if let Some(why) = unchecked(&e) {
            return Err(ExperimentError::ChecksNothing {
                experiment: err_name(),
                why,
            });
        }
        e.concurrency = match (self.group, self.parallel) {
            (Some(group), true) => {
                return Err(ExperimentError::GroupAndParallel {
                    experiment: err_name(),
                    group,
                })
            }
            (Some(group), false) if !Concurrency::is_valid_group(&group) => {
                return Err(ExperimentError::BadGroup {
                    experiment: err_name(),
                    group,
                })
            }
            (Some(group), false) => Concurrency::Group(group),
            (None, true) => Concurrency::Parallel,
            (None, false) => Concurrency::default(),
        };
        Ok(e)
    }
}

/// Why `e` can never check anything, if it cannot. Mirrors the runner's phases: the steady
/// state is checked before and after the method when the strategy says so (with or without a
/// method), and sampled during the method only while there is one (the first sample is taken
/// as the method starts).
fn unchecked(e: &Experiment) -> Option<Unchecked> {
    let h = e.hypothesis;
    let has_steady = !e.steady_state.is_empty();
    let has_method = !e.method.is_empty();
    let steady_checked =
        has_steady && (h.before() || h.after() || (h.during().is_some() && has_method));
    let method_checks = e.method.iter().any(|a| a.kind != ActivityKind::Pause);
    if steady_checked || method_checks {
        None
    } else if has_steady {
        Some(Unchecked::NoMethodToSampleDuring)
    } else {
        Some(Unchecked::NothingButPauses)
    }
}
