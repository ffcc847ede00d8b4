//! The experiment model and its builder: what `#[experiment]` expands into, usable by hand.

use crate::context::Context;
use crate::error::BoxError;
use futures_util::future::BoxFuture;
use serde::Serialize;
use serde_json::{json, Value};
use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// When the steady-state hypothesis is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Hypothesis {
    /// Before the method (a miss skips it: `baseline-not-met`) and after it.
    #[default]
    Default,
    /// Only before the method.
    BeforeMethodOnly,
    /// Only after the method.
    AfterMethodOnly,
    /// Only while the method runs, sampled every `every`; with `fail_fast` a miss stops the
    /// method at once (outcome `aborted`).
    DuringMethodOnly {
        /// Time between two samples.
        every: Duration,
        /// Stop the method at the first miss.
        fail_fast: bool,
    },
    /// Before, during (sampled every `every`) and after the method.
    Continuously {
        /// Time between two samples.
        every: Duration,
        /// Stop the method at the first miss.
        fail_fast: bool,
    },
}

impl Hypothesis {
    /// Chaos Toolkit's name of the strategy.
    pub fn name(&self) -> &'static str {
        match self {
            Hypothesis::Default => "default",
            Hypothesis::BeforeMethodOnly => "before-method-only",
            Hypothesis::AfterMethodOnly => "after-method-only",
            Hypothesis::DuringMethodOnly { .. } => "during-method-only",
            Hypothesis::Continuously { .. } => "continuously",
        }
    }
    /// Whether the hypothesis is checked before the method.
    pub fn before(&self) -> bool {
        matches!(
            self,
            Hypothesis::Default | Hypothesis::BeforeMethodOnly | Hypothesis::Continuously { .. }
        )
    }
    /// Whether the hypothesis is checked after the method.
    pub fn after(&self) -> bool {
        matches!(
            self,
            Hypothesis::Default | Hypothesis::AfterMethodOnly | Hypothesis::Continuously { .. }
        )
    }
    /// The sampling period and fail-fast flag when the hypothesis is checked during the method.
    pub fn during(&self) -> Option<(Duration, bool)> {
        match *self {
            Hypothesis::DuringMethodOnly { every, fail_fast }
            | Hypothesis::Continuously { every, fail_fast } => Some((every, fail_fast)),
            _ => None,
        }
    }
}

/// When rollbacks run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RollbackStrategy {
    /// Whenever the method started, whatever happened after (failure, deviation, panic,
    /// timeout, interrupt).
    #[default]
    Always,
    /// Never (an explicit opt-out).
    Never,
    /// Only when the experiment deviated.
    Deviated,
}

impl RollbackStrategy {
    /// The strategy's name as journals write it.
    pub fn name(&self) -> &'static str {
        match self {
            RollbackStrategy::Always => "always",
            RollbackStrategy::Never => "never",
            RollbackStrategy::Deviated => "deviated",
        }
    }
}

/// The exclusion group experiments belong to unless they name another.
pub const DEFAULT_GROUP: &str = "default";

/// Which other experiments an experiment may run alongside.
///
/// An experiment's hypothesis assumes it is the only fault in the system, so experiments run
/// one at a time by default: each belongs to an exclusion group ([`DEFAULT_GROUP`] unless it
/// names another), and the harness never runs two experiments of one group at once, neither on
/// the trial threads of one process (`cargo test`) nor in separate processes (`cargo nextest
/// run`). Experiments of different groups may overlap; a [`Concurrency::Parallel`] one overlaps
/// anything.
///
/// ```
/// use chaos_runtime::{Action, Concurrency, Experiment};
/// let poke = || Action::new("poke", |_cx| async { Ok(()) });
/// let exp = Experiment::builder("suite::a").method(poke()).build().unwrap();
/// assert_eq!(exp.concurrency(), &Concurrency::Group("default".into()));
/// let exp = Experiment::builder("suite::b").group("ec2-account").method(poke()).build().unwrap();
/// assert_eq!(exp.concurrency().group(), Some("ec2-account"));
/// let exp = Experiment::builder("suite::c").parallel().method(poke()).build().unwrap();
/// assert_eq!(exp.concurrency(), &Concurrency::Parallel);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Concurrency {
    /// Never runs at the same time as another experiment of this exclusion group.
    Group(String),
    /// Runs alongside any other experiment (an explicit opt-out of the exclusion).
    Parallel,
}

impl Default for Concurrency {
    fn default() -> Self {
        Concurrency::Group(DEFAULT_GROUP.to_owned())
    }
}

impl Concurrency {
    /// The exclusion group, `None` for [`Concurrency::Parallel`].
    pub fn group(&self) -> Option<&str> {
        match self {
            Concurrency::Group(g) => Some(g),
            Concurrency::Parallel => None,
        }
    }

    /// Whether `name` can name an exclusion group: not empty, only ASCII letters, digits, `-`
    /// and `_` (the harness makes a lock file of it). `#[experiment]` checks the same rule.
    ///
    /// ```
    /// use chaos_runtime::Concurrency;
    /// assert!(Concurrency::is_valid_group("ec2-account_1"));
    /// assert!(!Concurrency::is_valid_group(""));
    /// assert!(!Concurrency::is_valid_group("../x"));
    /// ```
    pub fn is_valid_group(name: &str) -> bool {
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    }
}

/// Timeout, pauses and background flag of one activity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ActivityOptions {
    /// Cancel the activity after this long (it then fails).
    pub timeout: Option<Duration>,
    /// Sleep this long before the activity.
    pub pause_before: Option<Duration>,
    /// Sleep this long after the activity.
    pub pause_after: Option<Duration>,
    /// Run the activity in the background: the method goes on at once, and the activity is
    /// joined at the end of the method.
    pub background: bool,
}

/// What kind of activity an [`Activity`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ActivityKind {
    /// Observes the system; may carry a tolerance.
    Probe,
    /// Changes the system.
    Action,
    /// Waits.
    Pause,
}

/// The value an activity produced, serialized, with its tolerance verdict.
#[derive(Clone, Debug)]
pub(crate) struct Produced {
    pub output: Value,
    pub tolerance_met: Option<bool>,
}

pub(crate) type RunFn =
    Arc<dyn Fn(Context) -> BoxFuture<'static, Result<Produced, BoxError>> + Send + Sync>;

/// One step of an experiment: a probe, an action or a pause, type-erased.
///
/// Made from a [`Probe`], an [`Action`] or [`Activity::pause`].
#[derive(Clone)]
pub struct Activity {
    pub(crate) name: String,
    pub(crate) kind: ActivityKind,
    pub(crate) options: ActivityOptions,
    pub(crate) tolerance: Option<String>,
    pub(crate) run: Option<RunFn>,
    pub(crate) pause: Option<Duration>,
}

impl Debug for Activity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Activity")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("options", &self.options)
            .field("tolerance", &self.tolerance)
            .finish_non_exhaustive()
    }
}

impl Activity {
    /// A pause of `duration`.
    ///
    /// ```
    /// use chaos_runtime::Activity;
    /// let p = Activity::pause(std::time::Duration::from_millis(500));
    /// assert_eq!(p.name(), "pause 500ms");
    /// ```
    pub fn pause(duration: Duration) -> Activity {
        Activity {
            name: format!("pause {}", crate::time::human(duration)),
            kind: ActivityKind::Pause,
            options: ActivityOptions::default(),
            tolerance: None,
            run: None,
            pause: Some(duration),
        }
    }

    /// The activity's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Probe, action or pause.
    pub fn kind(&self) -> ActivityKind {
        self.kind
    }
    /// The activity's options.
    pub fn options(&self) -> &ActivityOptions {
        &self.options
    }
    /// The tolerance's text, when the activity is a probe with one.
    pub fn tolerance(&self) -> Option<&str> {
        self.tolerance.as_deref()
    }

    /// The activity as the journal's `activity` field describes it (Chaos Toolkit's keys).
    pub fn describe(&self) -> Value {
        let mut v = json!({ "type": self.kind, "name": self.name });
        let m = v.as_object_mut().expect("object");
        if let Some(t) = &self.tolerance {
            m.insert("tolerance".into(), json!(t));
        }
        if let Some(d) = self.pause {
            m.insert("seconds".into(), json!(d.as_secs_f64()));
        }
        if let Some(t) = self.options.timeout {
            m.insert("timeout".into(), json!(t.as_secs_f64()));
        }
        if self.options.background {
            m.insert("background".into(), json!(true));
        }
        if self.options.pause_before.is_some() || self.options.pause_after.is_some() {
            let mut p = serde_json::Map::new();
            if let Some(d) = self.options.pause_before {
                p.insert("before".into(), json!(d.as_secs_f64()));
            }
            if let Some(d) = self.options.pause_after {
                p.insert("after".into(), json!(d.as_secs_f64()));
            }
            m.insert("pauses".into(), Value::Object(p));
        }
        if self.kind != ActivityKind::Pause {
            m.insert("provider".into(), json!({ "type": "rust" }));
        }
        v
    }
}

macro_rules! option_setters {
    () => {
        /// Cancels the activity after `d`; it then fails.
        pub fn timeout(mut self, d: Duration) -> Self {
            self.options.timeout = Some(d);
            self
        }
        /// Sleeps `d` before the activity.
        pub fn pause_before(mut self, d: Duration) -> Self {
            self.options.pause_before = Some(d);
            self
        }
        /// Sleeps `d` after the activity.
        pub fn pause_after(mut self, d: Duration) -> Self {
            self.options.pause_after = Some(d);
            self
        }
        /// Runs the activity in the background (method only): the method goes on at once and
        /// the activity is joined at the end of the method.
        pub fn background(mut self) -> Self {
            self.options.background = true;
            self
        }
    };
}

type TypedFn<T> = Arc<dyn Fn(Context) -> BoxFuture<'static, Result<T, BoxError>> + Send + Sync>;
type Check<T> = Arc<dyn Fn(&T) -> bool + Send + Sync>;

/// A probe under construction: observes the system and yields a value of type `T`.
///
/// ```
/// use chaos_runtime::{Probe, Activity};
/// let probe = Probe::new("answer", |_cx| async { Ok(42u32) })
///     .tolerance("== 42", |v| *v == 42)
///     .timeout(std::time::Duration::from_secs(1));
/// let activity: Activity = probe.into();
/// assert_eq!(activity.tolerance(), Some("== 42"));
/// ```
pub struct Probe<T> {
    name: String,
    options: ActivityOptions,
    run: TypedFn<T>,
    tolerance: Option<(String, Check<T>)>,
}

impl<T: Serialize + Send + 'static> Probe<T> {
    /// A probe named `name` whose value is what `f`'s future yields.
    pub fn new<F, Fut>(name: impl Into<String>, f: F) -> Self
    where
        F: Fn(Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, BoxError>> + Send + 'static,
    {
        Probe {
            name: name.into(),
            options: ActivityOptions::default(),
            run: Arc::new(move |cx| Box::pin(f(cx))),
            tolerance: None,
        }
    }

    /// The tolerance: `check` says whether the value is within it; `description` is how the
    /// journal and the verdict write it (`== 200`, `in 200..300`).
    pub fn tolerance(
        mut self,
        description: impl Into<String>,
        check: impl Fn(&T) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.tolerance = Some((description.into(), Arc::new(check)));
        self
    }

    option_setters!();
}

impl<T: Serialize + Send + 'static> From<Probe<T>> for Activity {
    fn from(p: Probe<T>) -> Activity {
        let (tolerance, check) = match p.tolerance {
            Some((d, c)) => (Some(d), Some(c)),
            None => (None, None),
        };
        let user = p.run;
        let run: RunFn = Arc::new(move |cx| {
            let fut = user(cx);
            let check = check.clone();
            Box::pin(async move {
                let value = fut.await?;
                let tolerance_met = check.map(|c| c(&value));
                let output = serde_json::to_value(&value)
                    .map_err(|e| format!("the probe's value could not be serialized: {e}"))?;
                Ok(Produced {
                    output,
                    tolerance_met,
                })
            })
        });
        Activity {
            name: p.name,
            kind: ActivityKind::Probe,
            options: p.options,
            tolerance,
            run: Some(run),
            pause: None,
        }
    }
}

/// An action under construction: changes the system; its value (if any) is recorded.
///
/// ```
/// use chaos_runtime::{Action, Activity};
/// let action: Activity = Action::new("say hello", |_cx| async { Ok("hello") }).into();
/// assert_eq!(action.name(), "say hello");
/// ```
pub struct Action<T> {
    name: String,
    options: ActivityOptions,
    run: TypedFn<T>,
}

impl<T: Serialize + Send + 'static> Action<T> {
    /// An action named `name` that runs `f`'s future.
    pub fn new<F, Fut>(name: impl Into<String>, f: F) -> Self
    where
        F: Fn(Context) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<T, BoxError>> + Send + 'static,
    {
        Action {
            name: name.into(),
            options: ActivityOptions::default(),
            run: Arc::new(move |cx| Box::pin(f(cx))),
        }
    }

    option_setters!();
}

impl<T: Serialize + Send + 'static> From<Action<T>> for Activity {
    fn from(a: Action<T>) -> Activity {
        let user = a.run;
        let run: RunFn = Arc::new(move |cx| {
            let fut = user(cx);
            Box::pin(async move {
                let value = fut.await?;
                let output = serde_json::to_value(&value)
                    .map_err(|e| format!("the action's value could not be serialized: {e}"))?;
                Ok(Produced {
                    output,
                    tolerance_met: None,
                })
            })
        });
        Activity {
            name: a.name,
            kind: ActivityKind::Action,
            options: a.options,
            tolerance: None,
            run: Some(run),
            pause: None,
        }
    }
}

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
    pub(crate) concurrency: Concurrency,
    pub(crate) steady_state: Vec<Activity>,
    pub(crate) method: Vec<Activity>,
    pub(crate) rollbacks: Vec<Activity>,
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
                concurrency: Concurrency::default(),
                steady_state: Vec::new(),
                method: Vec::new(),
                rollbacks: Vec::new(),
            },
            group: None,
            parallel: false,
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
    /// Which experiments it may run alongside: its exclusion group, or parallel.
    pub fn concurrency(&self) -> &Concurrency {
        &self.concurrency
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

    /// The experiment as the journal's `experiment` field describes it (Chaos Toolkit's keys).
    pub fn describe(&self) -> Value {
        let list = |acts: &[Activity]| acts.iter().map(Activity::describe).collect::<Vec<_>>();
        let mut hyp = json!({ "strategy": self.hypothesis.name() });
        if let Some((every, fail_fast)) = self.hypothesis.during() {
            hyp["frequency"] = json!(every.as_secs_f64());
            hyp["fail_fast"] = json!(fail_fast);
        }
        json!({
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
        })
    }
}

/// Builds an [`Experiment`]; see [`Experiment::builder`].
#[derive(Debug)]
pub struct ExperimentBuilder {
    exp: Experiment,
    group: Option<String>,
    parallel: bool,
}

impl ExperimentBuilder {
    /// Sets the title (default: the name).
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.exp.title = title.into();
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
    /// Sets the rollback strategy.
    pub fn rollbacks(mut self, r: RollbackStrategy) -> Self {
        self.exp.rollback_strategy = r;
        self
    }
    /// Sets the experiment timeout: past it the run is cancelled (outcome `aborted`) and the
    /// rollbacks run.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.exp.timeout = Some(d);
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
        let err_name = || e.name.clone();
        if e.steady_state.is_empty() && e.method.is_empty() {
            return Err(ExperimentError::Empty(err_name()));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn action(name: &str) -> Activity {
        Action::new(name, |_| async { Ok(()) }).into()
    }

    #[test]
    fn builder_rejects_what_the_macro_rejects() {
        let e = Experiment::builder("t::empty").build().unwrap_err();
        assert_eq!(e, ExperimentError::Empty("t::empty".into()));

        let e = Experiment::builder("t::dup")
            .method(action("a"))
            .rollback(action("a"))
            .build()
            .unwrap_err();
        assert!(matches!(e, ExperimentError::DuplicateActivity { ref name, .. } if name == "a"));

        let e = Experiment::builder("t::tol")
            .steady_state(Probe::new("p", |_| async { Ok(1) }))
            .build()
            .unwrap_err();
        assert!(matches!(
            e,
            ExperimentError::SteadyStateWithoutTolerance { .. }
        ));

        let e = Experiment::builder("t::bg")
            .method(action("m"))
            .rollback(Action::new("r", |_| async { Ok(()) }).background())
            .build()
            .unwrap_err();
        assert!(matches!(e, ExperimentError::BackgroundOutsideMethod { .. }));

        let e = Experiment::builder("t::freq")
            .hypothesis(Hypothesis::Continuously {
                every: Duration::ZERO,
                fail_fast: false,
            })
            .method(action("m"))
            .build()
            .unwrap_err();
        assert_eq!(e, ExperimentError::ZeroFrequency("t::freq".into()));

        // Pauses may repeat: they are not named by the user.
        Experiment::builder("t::pauses")
            .method(Activity::pause(Duration::from_millis(1)))
            .method(action("a"))
            .method(Activity::pause(Duration::from_millis(1)))
            .build()
            .unwrap();
    }

    fn probe(name: &str) -> Activity {
        Probe::new(name, |_| async { Ok(1) })
            .tolerance("== 1", |v| *v == 1)
            .into()
    }

    fn pause() -> Activity {
        Activity::pause(Duration::from_millis(1))
    }

    #[test]
    fn an_experiment_that_can_check_nothing_is_rejected() {
        let during = Hypothesis::DuringMethodOnly {
            every: Duration::from_secs(1),
            fail_fast: false,
        };
        // Sampled only while the method runs, and there is no method: never evaluated.
        let e = Experiment::builder("t::during")
            .hypothesis(during)
            .steady_state(probe("p"))
            .rollback(action("r"))
            .build()
            .unwrap_err();
        assert_eq!(
            e,
            ExperimentError::ChecksNothing {
                experiment: "t::during".into(),
                why: Unchecked::NoMethodToSampleDuring,
            }
        );
        let msg = e.to_string();
        assert!(msg.starts_with("experiment `t::during` checks nothing: its hypothesis `during-method-only` samples the steady state only while the method runs, and it has no method; add a method"), "{msg}");

        // No steady state and a method that cannot fail.
        let e = Experiment::builder("t::pauses")
            .method(pause())
            .build()
            .unwrap_err();
        assert_eq!(
            e,
            ExperimentError::ChecksNothing {
                experiment: "t::pauses".into(),
                why: Unchecked::NothingButPauses,
            }
        );

        // Every combination that does check something builds.
        let strategies = [
            Hypothesis::Default,
            Hypothesis::BeforeMethodOnly,
            Hypothesis::AfterMethodOnly,
            during,
            Hypothesis::Continuously {
                every: Duration::from_secs(1),
                fail_fast: true,
            },
        ];
        for h in strategies {
            // A steady state and a method (even of pauses only: it is sampled during them).
            Experiment::builder("t::both")
                .hypothesis(h)
                .steady_state(probe("p"))
                .method(pause())
                .build()
                .unwrap();
            // A method that can fail, without a steady state.
            Experiment::builder("t::method")
                .hypothesis(h)
                .method(pause())
                .method(action("a"))
                .build()
                .unwrap();
            // A steady state alone is checked before and/or after by every other strategy.
            let r = Experiment::builder("t::steady")
                .hypothesis(h)
                .steady_state(probe("p"))
                .build();
            assert_eq!(r.is_err(), h == during, "{h:?}");
        }
    }

    #[test]
    fn experiments_are_in_the_default_group_unless_told() {
        let base = || Experiment::builder("t::g").method(action("a"));
        assert_eq!(
            base().build().unwrap().concurrency(),
            &Concurrency::Group(DEFAULT_GROUP.into())
        );
        let exp = base().group("ec2").build().unwrap();
        assert_eq!(exp.concurrency().group(), Some("ec2"));
        assert_eq!(exp.describe()["runtime"]["group"], "ec2");
        let exp = base().parallel().build().unwrap();
        assert_eq!(exp.concurrency(), &Concurrency::Parallel);
        assert!(exp.describe()["runtime"]["group"].is_null());

        for bad in ["", "a/b", "..", "has space"] {
            let e = base().group(bad).build().unwrap_err();
            assert_eq!(
                e,
                ExperimentError::BadGroup {
                    experiment: "t::g".into(),
                    group: bad.into()
                }
            );
        }
        let e = base().group("ec2").parallel().build().unwrap_err();
        assert_eq!(
            e.to_string(),
            "experiment `t::g` is both in exclusion group `ec2` and parallel: keep one (a parallel experiment runs alongside any other)"
        );
    }

    #[test]
    fn describe_uses_chaos_toolkit_keys() {
        let exp = Experiment::builder("t::d")
            .title("T")
            .tags(["x"])
            .hypothesis(Hypothesis::DuringMethodOnly {
                every: Duration::from_millis(250),
                fail_fast: true,
            })
            .steady_state(
                Probe::new("p", |_| async { Ok(1) })
                    .tolerance("== 1", |v| *v == 1)
                    .timeout(Duration::from_secs(3)),
            )
            .method(
                Action::new("a", |_| async { Ok(()) })
                    .pause_before(Duration::from_millis(100))
                    .background(),
            )
            .build()
            .unwrap();
        let d = exp.describe();
        assert_eq!(d["title"], "T");
        assert_eq!(
            d["steady-state-hypothesis"]["probes"][0]["tolerance"],
            "== 1"
        );
        assert_eq!(d["steady-state-hypothesis"]["probes"][0]["timeout"], 3.0);
        assert_eq!(d["method"][0]["pauses"]["before"], 0.1);
        assert_eq!(d["method"][0]["background"], true);
        assert_eq!(d["runtime"]["hypothesis"]["strategy"], "during-method-only");
        assert_eq!(d["runtime"]["hypothesis"]["frequency"], 0.25);
        assert_eq!(d["runtime"]["hypothesis"]["fail_fast"], true);
        assert_eq!(d["runtime"]["group"], "default");
    }
}
