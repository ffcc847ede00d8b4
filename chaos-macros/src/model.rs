//! The parsed form of an experiment.

use crate::duration::Millis;
use proc_macro2::{Span, TokenStream};
use syn::{Block, Ident, LitStr};

/// When the hypothesis is checked (`hypothesis = ...`).
pub(crate) enum HypothesisSpec {
    Default,
    BeforeMethodOnly,
    AfterMethodOnly,
    DuringMethodOnly {
        every: Option<Millis>,
        fail_fast: bool,
    },
    Continuously {
        every: Option<Millis>,
        fail_fast: bool,
    },
}

/// The `#[experiment(...)]` keys.
#[derive(Default)]
pub(crate) struct Attrs {
    pub title: Option<LitStr>,
    pub description: Option<LitStr>,
    pub tags: Vec<LitStr>,
    pub hypothesis: Option<HypothesisSpec>,
    /// The `hypothesis` key, for errors about the strategy.
    pub hypothesis_key: Option<Span>,
    /// `always`, `never` or `deviated`.
    pub rollbacks: Option<Ident>,
    pub timeout: Option<Millis>,
    /// `Some(reason)`; the reason may be empty.
    pub ignore: Option<String>,
    pub snapshot: bool,
    /// The expected outcome, as its kebab-case name.
    pub expect: Option<(String, Span)>,
    /// `group = "name"`: the exclusion group.
    pub group: Option<LitStr>,
    /// The bare `parallel` key.
    pub parallel: Option<Span>,
}

/// Which block an activity is in.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Section {
    SteadyState,
    Method,
    Rollback,
}

impl Section {
    pub(crate) fn macro_name(self) -> &'static str {
        match self {
            Section::SteadyState => "steady_state!",
            Section::Method => "method!",
            Section::Rollback => "rollback!",
        }
    }
}

/// Activity options in `[...]`.
#[derive(Default)]
pub(crate) struct Options {
    pub timeout: Option<Millis>,
    pub pause_before: Option<Millis>,
    pub pause_after: Option<Millis>,
    pub background: bool,
}

/// A tolerance after `=>`: the check as a closure over `__v: &T`, and its text.
pub(crate) struct Tolerance {
    pub text: String,
    pub check: TokenStream,
}

pub(crate) enum ActivitySpec {
    Probe {
        name: LitStr,
        options: Options,
        block: Block,
        tolerance: Option<Tolerance>,
    },
    Action {
        name: LitStr,
        options: Options,
        block: Block,
    },
    Pause(Millis),
}

/// The experiment's body.
#[derive(Default)]
pub(crate) struct Body {
    pub steady_state: Option<Vec<ActivitySpec>>,
    pub method: Option<Vec<ActivitySpec>>,
    pub rollback: Option<Vec<ActivitySpec>>,
    /// The `method!` path, for errors about the method as a whole.
    pub method_path: Option<Span>,
}
