//! How an experiment checks its steady state, when its rollbacks run, and which experiments may
//! run at the same time.

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
