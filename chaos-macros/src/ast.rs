//! The parsed model of an experiment: what was written, as written.
//!
//! The parser fills it with everything that parsed, including what the rules reject (a
//! duplicate key, an action in `steady_state!`): rejecting is `validate`'s job, and the
//! fallback expansion still type-checks the blocks of a rejected experiment.

use crate::kw;
use proc_macro2::{Span, TokenStream};
use syn::{Attribute, Block, LitStr, Visibility};

/// `#[experiment(...)] async fn ...`.
pub(crate) struct Experiment {
    pub attrs: Attrs,
    /// The function's attributes other than `#[experiment]` (only doc comments are emitted).
    pub fn_attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub sig: syn::Signature,
    pub body: Body,
}

/// A duration written in the source, in milliseconds, with its span.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Millis {
    pub ms: u64,
    pub span: Span,
}

/// The attribute's keys, in the order written (duplicates included).
#[derive(Default)]
pub(crate) struct Attrs {
    pub keys: Vec<Key>,
}

/// One `key` or `key = value`.
pub(crate) struct Key {
    /// The key's name.
    pub span: Span,
    pub value: KeyValue,
}

pub(crate) enum KeyValue {
    Title(LitStr),
    Description(LitStr),
    Tags(Vec<LitStr>),
    Hypothesis(Hypothesis),
    Rollbacks(kw::Rollbacks),
    Timeout(Millis),
    /// `ignore` or `ignore = "reason"`.
    Ignore(Option<LitStr>),
    /// `snapshot` or `snapshot = true | false`.
    Snapshot(bool),
    Expect(kw::Outcome, Span),
    /// `group = "name"` (any string; the rule is checked later).
    Group(LitStr),
    Parallel,
    /// `weight = 1..=10`.
    Weight(syn::LitInt),
    /// `window = "Mon-Fri 09:00-15:00 Europe/Paris"` or `"always"` (checked by the runtime's
    /// window parser when the harness builds the experiment).
    Window(LitStr),
    /// `min_interval = <duration>`.
    MinInterval(Millis),
    /// `touches = ["pods.terminate in shop", ...]` (checked by the runtime's table).
    Touches(Vec<LitStr>),
    /// `crate = path::to::chaos_harness`.
    Crate(syn::Path),
}

impl KeyValue {
    pub(crate) fn key(&self) -> kw::Key {
        match self {
            KeyValue::Title(_) => kw::Key::Title,
            KeyValue::Description(_) => kw::Key::Description,
            KeyValue::Tags(_) => kw::Key::Tags,
            KeyValue::Hypothesis(_) => kw::Key::Hypothesis,
            KeyValue::Rollbacks(_) => kw::Key::Rollbacks,
            KeyValue::Timeout(_) => kw::Key::Timeout,
            KeyValue::Ignore(_) => kw::Key::Ignore,
            KeyValue::Snapshot(_) => kw::Key::Snapshot,
            KeyValue::Expect(..) => kw::Key::Expect,
            KeyValue::Group(_) => kw::Key::Group,
            KeyValue::Parallel => kw::Key::Parallel,
            KeyValue::Weight(_) => kw::Key::Weight,
            KeyValue::Window(_) => kw::Key::Window,
            KeyValue::MinInterval(_) => kw::Key::MinInterval,
            KeyValue::Touches(_) => kw::Key::Touches,
            KeyValue::Crate(_) => kw::Key::Crate,
        }
    }
}

/// `hypothesis = strategy` or `hypothesis = strategy(args)`.
pub(crate) struct Hypothesis {
    pub strategy: kw::Strategy,
    /// `(...)`: its span and arguments.
    pub args: Option<(Span, Vec<HypothesisArg>)>,
}

pub(crate) struct HypothesisArg {
    pub option: kw::HypothesisOption,
    pub span: Span,
    /// The value of `every = ...`.
    pub every: Option<Millis>,
}

impl Hypothesis {
    pub(crate) fn every(&self) -> Option<Millis> {
        self.args_iter().find_map(|a| a.every)
    }

    pub(crate) fn fail_fast(&self) -> bool {
        self.args_iter()
            .any(|a| a.option == kw::HypothesisOption::FailFast)
    }

    fn args_iter(&self) -> impl Iterator<Item = &HypothesisArg> {
        self.args.iter().flat_map(|(_, a)| a)
    }
}

impl Attrs {
    /// The first value of each key (a duplicate is an error of its own).
    fn find<'a, T>(&'a self, f: impl Fn(&'a KeyValue) -> Option<T>) -> Option<T> {
        self.keys.iter().find_map(|k| f(&k.value))
    }

    pub(crate) fn span_of(&self, key: kw::Key) -> Option<Span> {
        self.keys
            .iter()
            .find(|k| k.value.key() == key)
            .map(|k| k.span)
    }

    pub(crate) fn title(&self) -> Option<&LitStr> {
        self.find(|v| match v {
            KeyValue::Title(t) => Some(t),
            _ => None,
        })
    }

    pub(crate) fn description(&self) -> Option<&LitStr> {
        self.find(|v| match v {
            KeyValue::Description(t) => Some(t),
            _ => None,
        })
    }

    pub(crate) fn tags(&self) -> &[LitStr] {
        self.find(|v| match v {
            KeyValue::Tags(t) => Some(t.as_slice()),
            _ => None,
        })
        .unwrap_or_default()
    }

    pub(crate) fn hypothesis(&self) -> Option<&Hypothesis> {
        self.find(|v| match v {
            KeyValue::Hypothesis(h) => Some(h),
            _ => None,
        })
    }

    pub(crate) fn rollbacks(&self) -> Option<kw::Rollbacks> {
        self.find(|v| match v {
            KeyValue::Rollbacks(r) => Some(*r),
            _ => None,
        })
    }

    pub(crate) fn timeout(&self) -> Option<Millis> {
        self.find(|v| match v {
            KeyValue::Timeout(t) => Some(*t),
            _ => None,
        })
    }

    /// `Some(reason)` when ignored; the reason may be empty.
    pub(crate) fn ignore(&self) -> Option<String> {
        self.find(|v| match v {
            KeyValue::Ignore(r) => Some(r.as_ref().map(LitStr::value).unwrap_or_default()),
            _ => None,
        })
    }

    pub(crate) fn snapshot(&self) -> bool {
        self.find(|v| match v {
            KeyValue::Snapshot(b) => Some(*b),
            _ => None,
        })
        .unwrap_or(false)
    }

    pub(crate) fn expect(&self) -> Option<(kw::Outcome, Span)> {
        self.find(|v| match v {
            KeyValue::Expect(o, span) => Some((*o, *span)),
            _ => None,
        })
    }

    pub(crate) fn group(&self) -> Option<&LitStr> {
        self.find(|v| match v {
            KeyValue::Group(g) => Some(g),
            _ => None,
        })
    }

    pub(crate) fn weight(&self) -> Option<&syn::LitInt> {
        self.find(|v| match v {
            KeyValue::Weight(w) => Some(w),
            _ => None,
        })
    }

    pub(crate) fn window(&self) -> Option<&LitStr> {
        self.find(|v| match v {
            KeyValue::Window(w) => Some(w),
            _ => None,
        })
    }

    pub(crate) fn min_interval(&self) -> Option<Millis> {
        self.find(|v| match v {
            KeyValue::MinInterval(m) => Some(*m),
            _ => None,
        })
    }

    pub(crate) fn touches(&self) -> &[LitStr] {
        self.find(|v| match v {
            KeyValue::Touches(t) => Some(t.as_slice()),
            _ => None,
        })
        .unwrap_or(&[])
    }

    pub(crate) fn parallel(&self) -> Option<Span> {
        self.span_of(kw::Key::Parallel)
    }

    /// The path the expansion names `chaos_harness` by: `crate = ...`, else `::chaos_harness`.
    pub(crate) fn krate(&self) -> syn::Path {
        self.find(|v| match v {
            KeyValue::Crate(p) => Some(p.clone()),
            _ => None,
        })
        .unwrap_or_else(|| syn::parse_quote!(::chaos_harness))
    }
}

/// The function's body: its blocks, in the order written.
pub(crate) struct Body {
    pub blocks: Vec<ActivityBlock>,
    /// Whether every statement and activity of the body parsed: the rule that an experiment
    /// must check something only holds over a whole body (a dropped activity would make it
    /// look as if it checked nothing).
    pub complete: bool,
}

/// `steady_state! { ... }`, `method! { ... }` or `rollback! { ... }`.
pub(crate) struct ActivityBlock {
    pub kind: kw::Block,
    /// The macro's path, `method`.
    pub span: Span,
    /// The activities that parsed.
    pub activities: Vec<Activity>,
}

impl Body {
    /// The first block of a kind (a second one is an error of its own).
    pub(crate) fn block(&self, kind: kw::Block) -> Option<&ActivityBlock> {
        self.blocks.iter().find(|b| b.kind == kind)
    }

    /// Every activity, with the block it is in.
    pub(crate) fn activities(&self) -> impl Iterator<Item = (kw::Block, &Activity)> {
        self.blocks
            .iter()
            .flat_map(|b| b.activities.iter().map(move |a| (b.kind, a)))
    }
}

/// One activity, with the span of its keyword (`probe`, `action`, `pause`).
pub(crate) struct Activity {
    pub span: Span,
    pub spec: ActivitySpec,
}

pub(crate) enum ActivitySpec {
    Probe {
        name: LitStr,
        options: Vec<ActivityOption>,
        block: Block,
        tolerance: Option<Tolerance>,
    },
    Action {
        name: LitStr,
        options: Vec<ActivityOption>,
        block: Block,
        /// Only probes have one: kept to be rejected.
        tolerance: Option<Tolerance>,
    },
    Pause(Millis),
}

impl ActivitySpec {
    pub(crate) fn name(&self) -> Option<&LitStr> {
        match self {
            ActivitySpec::Probe { name, .. } | ActivitySpec::Action { name, .. } => Some(name),
            ActivitySpec::Pause(_) => None,
        }
    }

    pub(crate) fn options(&self) -> &[ActivityOption] {
        match self {
            ActivitySpec::Probe { options, .. } | ActivitySpec::Action { options, .. } => options,
            ActivitySpec::Pause(_) => &[],
        }
    }
}

/// One option in `[...]`.
pub(crate) struct ActivityOption {
    pub option: kw::ActivityOption,
    pub span: Span,
    /// The duration of `timeout`, `pause_before` and `pause_after`.
    pub value: Option<Millis>,
}

/// A tolerance after `=>`.
pub(crate) struct Tolerance {
    /// Its source text, for the journal.
    pub text: String,
    /// The check, a closure over `__v: &T`, spanned at the tolerance's tokens.
    pub check: TokenStream,
    /// `=> ...` as written, for errors about the tolerance as a whole.
    pub tokens: TokenStream,
}
