//! Every rule over a parsed experiment, as a flat list of checks (serde_derive's `check.rs`).
//!
//! Each rule looks at the model and reports to the [`Ctxt`]; none stops the others, and none
//! changes the model. The runtime's `ExperimentBuilder::build` enforces the same rules over
//! the builder's input (the macro reports them at compile time, with spans).

use crate::ast::{ActivitySpec, Experiment, KeyValue};
use crate::ctxt::Ctxt;
use crate::kw::{self, Word};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{FnArg, Pat};

type Rule = fn(&Ctxt, &Experiment);

/// The rules, in the order their errors are reported.
const RULES: &[Rule] = &[
    // The signature.
    is_async,
    is_not_generic,
    returns_nothing,
    context_parameter,
    one_parameter,
    // The keys.
    unique_keys,
    hypothesis_arguments,
    group_name,
    group_or_parallel,
    window_text,
    min_interval_positive,
    // The body.
    steady_state_or_method,
    unique_blocks,
    activities_fit_their_block,
    unique_activity_options,
    steady_state_probes_have_a_tolerance,
    actions_have_no_tolerance,
    unique_activity_names,
    checks_something,
];

/// Runs every rule.
pub(crate) fn check(cx: &Ctxt, exp: &Experiment) {
    for rule in RULES {
        rule(cx, exp);
    }
}

fn is_async(cx: &Ctxt, exp: &Experiment) {
    if exp.sig.asyncness.is_none() {
        cx.error(
            exp.sig.fn_token.span(),
            "an experiment must be an `async fn`: write `async fn` here",
        );
    }
}

fn is_not_generic(cx: &Ctxt, exp: &Experiment) {
    if !exp.sig.generics.params.is_empty() {
        cx.error_spanned_by(&exp.sig.generics, "an experiment cannot be generic");
    }
}

fn returns_nothing(cx: &Ctxt, exp: &Experiment) {
    if let syn::ReturnType::Type(..) = &exp.sig.output {
        cx.error_spanned_by(
            &exp.sig.output,
            "an experiment returns nothing: its blocks are its result",
        );
    }
}

fn context_parameter(cx: &Ctxt, exp: &Experiment) {
    match exp.sig.inputs.first() {
        Some(FnArg::Typed(t)) => match &*t.pat {
            Pat::Ident(_) | Pat::Wild(_) => {}
            other => cx.error_spanned_by(
                other,
                "the context parameter must be a name, as in `cx: &Context`",
            ),
        },
        Some(FnArg::Receiver(r)) => {
            cx.error_spanned_by(r, "an experiment is a free function, not a method")
        }
        None => {}
    }
}

fn one_parameter(cx: &Ctxt, exp: &Experiment) {
    for extra in exp.sig.inputs.iter().skip(1) {
        cx.error_spanned_by(
            extra,
            "an experiment takes one parameter, the run context: `cx: &Context`",
        );
    }
}

fn unique_keys(cx: &Ctxt, exp: &Experiment) {
    let mut seen = Vec::new();
    for k in &exp.attrs.keys {
        let key = k.value.key();
        if seen.contains(&key) {
            cx.error(
                k.span,
                format!("duplicate {} `{}`", kw::Key::WHAT, key.name()),
            );
        } else {
            seen.push(key);
        }
    }
}

/// `(every, fail_fast)` only on the sampling strategies, each once, `every` above zero.
fn hypothesis_arguments(cx: &Ctxt, exp: &Experiment) {
    for k in &exp.attrs.keys {
        let KeyValue::Hypothesis(h) = &k.value else {
            continue;
        };
        let Some((paren, args)) = &h.args else {
            continue;
        };
        if !h.strategy.samples() {
            cx.error(
                *paren,
                format!(
                    "{} `{}` takes no arguments",
                    kw::Strategy::WHAT,
                    h.strategy.name()
                ),
            );
            continue;
        }
        let mut seen = Vec::new();
        for a in args {
            if seen.contains(&a.option) {
                cx.error(
                    a.span,
                    format!(
                        "duplicate {} `{}`",
                        kw::HypothesisOption::WHAT,
                        a.option.name()
                    ),
                );
            }
            seen.push(a.option);
            if let Some(every) = a.every.filter(|e| e.ms == 0) {
                cx.error(every.span, "the sampling period must be greater than zero");
            }
        }
    }
}

/// Whether `name` can name an exclusion group: the rule of the runtime's
/// `Concurrency::is_valid_group` (the harness makes a lock file of the name).
fn valid_group(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn group_name(cx: &Ctxt, exp: &Experiment) {
    for k in &exp.attrs.keys {
        if let KeyValue::Group(g) = &k.value {
            if !valid_group(&g.value()) {
                cx.error(
                    g.span(),
                    format!(
                        "exclusion group {:?} must be a non-empty name of ASCII letters, digits, `-` and `_`, as in `group = \"ec2-account\"`",
                        g.value()
                    ),
                );
            }
        }
    }
}

fn group_or_parallel(cx: &Ctxt, exp: &Experiment) {
    let attrs = &exp.attrs;
    if let (Some(group), Some(parallel)) = (attrs.group(), attrs.parallel()) {
        if valid_group(&group.value()) {
            cx.error(
                parallel,
                format!(
                    "`parallel` and `group = {:?}` exclude each other: a parallel experiment runs alongside any other; keep `group` to run one at a time within the group, or `parallel`",
                    group.value()
                ),
            );
        }
    }
}

/// The window's text is parsed by the runtime (it needs the time zone database); what the
/// macro can see is an empty one.
fn window_text(cx: &Ctxt, exp: &Experiment) {
    if let Some(w) = exp.attrs.window() {
        if w.value().trim().is_empty() {
            cx.error(
                w.span(),
                "the run window is empty: write days, hours and a time zone, as `window = \"Mon-Fri 09:00-15:00 Europe/Paris\"`, or `window = \"always\"`",
            );
        }
    }
}

fn min_interval_positive(cx: &Ctxt, exp: &Experiment) {
    if let Some(m) = exp.attrs.min_interval().filter(|m| m.ms == 0) {
        cx.error(
            m.span,
            "the minimum interval between runs must be greater than zero, as `min_interval = 1h`",
        );
    }
}

fn steady_state_or_method(cx: &Ctxt, exp: &Experiment) {
    let body = &exp.body;
    if body.block(kw::Block::SteadyState).is_none() && body.block(kw::Block::Method).is_none() {
        let name = &exp.sig.ident;
        cx.error(
            name.span(),
            format!(
                "experiment `{name}` has neither a steady state nor a method: add `steady_state! {{ ... }}` or `method! {{ ... }}`"
            ),
        );
    }
}

fn unique_blocks(cx: &Ctxt, exp: &Experiment) {
    let mut seen = Vec::new();
    for b in &exp.body.blocks {
        if seen.contains(&b.kind) {
            cx.error(
                b.span,
                format!(
                    "duplicate `{}` block: write all its activities in one block",
                    b.kind.form()
                ),
            );
        }
        seen.push(b.kind);
    }
}

/// `steady_state!` holds probes only; `background` is for the method only.
fn activities_fit_their_block(cx: &Ctxt, exp: &Experiment) {
    for (block, a) in exp.body.activities() {
        if block == kw::Block::SteadyState {
            let what = match a.spec {
                ActivitySpec::Probe { .. } => None,
                ActivitySpec::Action { .. } => Some("actions"),
                ActivitySpec::Pause(_) => Some("pauses"),
            };
            if let Some(what) = what {
                cx.error(
                    a.span,
                    format!("`steady_state!` holds probes only; put {what} in `method!`"),
                );
            }
        }
        if block != kw::Block::Method {
            for o in a.spec.options() {
                if o.option == kw::ActivityOption::Background {
                    cx.error(
                        o.span,
                        format!(
                            "`background` is allowed in `method!` only, not in `{}`",
                            block.form()
                        ),
                    );
                }
            }
        }
    }
}

fn unique_activity_options(cx: &Ctxt, exp: &Experiment) {
    for (_, a) in exp.body.activities() {
        let mut seen = Vec::new();
        for o in a.spec.options() {
            if seen.contains(&o.option) {
                cx.error(
                    o.span,
                    format!(
                        "duplicate {} `{}`",
                        kw::ActivityOption::WHAT,
                        o.option.name()
                    ),
                );
            }
            seen.push(o.option);
        }
    }
}

fn steady_state_probes_have_a_tolerance(cx: &Ctxt, exp: &Experiment) {
    for (block, a) in exp.body.activities() {
        if let ActivitySpec::Probe {
            name,
            tolerance: None,
            ..
        } = &a.spec
        {
            if block == kw::Block::SteadyState {
                cx.error(
                    name.span(),
                    format!(
                        "steady-state probe {} needs a tolerance: `{{ ... }} => == 200;`",
                        name.to_token_stream()
                    ),
                );
            }
        }
    }
}

fn actions_have_no_tolerance(cx: &Ctxt, exp: &Experiment) {
    for (_, a) in exp.body.activities() {
        if let ActivitySpec::Action {
            name,
            tolerance: Some(t),
            ..
        } = &a.spec
        {
            cx.error_spanned_by(
                &t.tokens,
                format!(
                    "action {} cannot have a tolerance: only probes are checked against one",
                    name.to_token_stream()
                ),
            );
        }
    }
}

fn unique_activity_names(cx: &Ctxt, exp: &Experiment) {
    let mut names: Vec<String> = Vec::new();
    for (_, a) in exp.body.activities() {
        let Some(name) = a.spec.name() else {
            continue;
        };
        let v = name.value();
        if names.contains(&v) {
            cx.error(
                name.span(),
                format!("duplicate activity name \"{v}\": activity names must be unique in an experiment"),
            );
        } else {
            names.push(v);
        }
    }
}

/// Rejects an experiment that can never check anything (it would pass whatever the system
/// does); the rule of the runtime's `ExperimentBuilder::build`, with spans. The steady state is
/// checked before and after the method by the strategies that say so, and sampled during the
/// method only while there is one; a method checks something when it holds an action or a
/// probe. Only over a body that parsed whole: a dropped activity would make it look as if it
/// checked nothing.
fn checks_something(cx: &Ctxt, exp: &Experiment) {
    let body = &exp.body;
    if !body.complete {
        return;
    }
    let name = &exp.sig.ident;
    let steady = body.block(kw::Block::SteadyState);
    let method = body.block(kw::Block::Method);
    let has_steady = steady.is_some_and(|s| !s.activities.is_empty());
    let method_activities = method.map(|m| m.activities.as_slice()).unwrap_or_default();
    if method_activities
        .iter()
        .any(|a| !matches!(a.spec, ActivitySpec::Pause(_)))
    {
        return;
    }
    let during_only = exp
        .attrs
        .hypothesis()
        .is_some_and(|h| h.strategy == kw::Strategy::DuringMethodOnly);
    if has_steady && during_only && method_activities.is_empty() {
        let span = exp
            .attrs
            .span_of(kw::Key::Hypothesis)
            .unwrap_or_else(|| name.span());
        cx.error(
            span,
            format!(
                "experiment `{name}` checks nothing: `hypothesis = during_method_only` samples the steady state only while the method runs, and there is no method; add `method! {{ ... }}`, or check the steady state before or after it (`hypothesis = default`, `before_method_only`, `after_method_only` or `continuously`)"
            ),
        );
    } else if !has_steady && method_activities.is_empty() {
        // Empty blocks only (no block at all is `steady_state_or_method`'s).
        if steady.is_some() || method.is_some() {
            cx.error(
                name.span(),
                format!("experiment `{name}` has neither a steady-state probe nor a method activity: add activities to its blocks"),
            );
        }
    } else if !has_steady {
        let span = method.map(|m| m.span).unwrap_or_else(|| name.span());
        cx.error(
            span,
            format!(
                "experiment `{name}` checks nothing: it has no steady-state probe and its method has no action nor probe (only pauses); add a probe to `steady_state! {{ ... }}`, or an action or a probe to the method"
            ),
        );
    }
}
