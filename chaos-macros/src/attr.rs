//! Parses the keys of `#[experiment(...)]`.

use crate::duration;
use crate::errors::Errors;
use crate::model::{Attrs, HypothesisSpec};
use proc_macro2::{Span, TokenStream, TokenTree};
use syn::parse::{ParseStream, Parser};
use syn::{Ident, LitStr, Token};

pub(crate) const KEYS: &[&str] = &[
    "title",
    "description",
    "tags",
    "hypothesis",
    "rollbacks",
    "timeout",
    "ignore",
    "snapshot",
    "expect",
    "group",
    "parallel",
];

const OUTCOMES: &[&str] = &[
    "passed",
    "baseline_not_met",
    "deviated",
    "activity_failed",
    "rollback_failed",
    "aborted",
    "interrupted",
    "error",
];

const STRATEGIES: &str = "`default`, `before_method_only`, `after_method_only`, `during_method_only(every = 1s, fail_fast)` or `continuously(every = 1s, fail_fast)`";

fn list(items: &[&str]) -> String {
    items
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses the attribute's arguments; every error goes to `errors`.
pub(crate) fn parse(args: TokenStream, errors: &mut Errors) -> Attrs {
    let mut attrs = Attrs::default();
    let parser = |input: ParseStream| -> syn::Result<()> {
        let mut seen: Vec<String> = Vec::new();
        while !input.is_empty() {
            let key: Ident = input.call(syn::ext::IdentExt::parse_any)?;
            let name = key.to_string();
            if !KEYS.contains(&name.as_str()) {
                errors.at(
                    key.span(),
                    format!(
                        "unknown experiment key `{name}`; expected one of {}",
                        list(KEYS)
                    ),
                );
                skip_value(input);
            } else if seen.contains(&name) {
                errors.at(key.span(), format!("duplicate experiment key `{name}`"));
                skip_value(input);
            } else {
                seen.push(name.clone());
                if let Err(e) = value(&name, &key, input, &mut attrs) {
                    errors.push(e);
                    skip_value(input);
                }
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(())
    };
    if let Err(e) = parser.parse2(args) {
        errors.push(e);
    }
    if let (Some(group), Some(parallel)) = (&attrs.group, attrs.parallel) {
        errors.at(
            parallel,
            format!(
                "`parallel` and `group = {:?}` exclude each other: a parallel experiment runs alongside any other; keep `group` to run one at a time within the group, or `parallel`",
                group.value()
            ),
        );
    }
    attrs
}

/// Whether `name` can name an exclusion group: the rule of the runtime's
/// `Concurrency::is_valid_group` (the harness makes a lock file of the name).
fn valid_group(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Skips to the next top-level comma.
fn skip_value(input: ParseStream) {
    let _ = input.step(|cursor| {
        let mut rest = *cursor;
        while let Some((tt, next)) = rest.token_tree() {
            if let TokenTree::Punct(p) = &tt {
                if p.as_char() == ',' {
                    return Ok(((), rest));
                }
            }
            rest = next;
        }
        Ok(((), rest))
    });
}

fn eq(input: ParseStream, key: &Ident) -> syn::Result<()> {
    if input.peek(Token![=]) {
        input.parse::<Token![=]>()?;
        Ok(())
    } else {
        Err(syn::Error::new(
            key.span(),
            format!("experiment key `{key}` needs a value: `{key} = ...`"),
        ))
    }
}

fn value(name: &str, key: &Ident, input: ParseStream, attrs: &mut Attrs) -> syn::Result<()> {
    match name {
        "title" => {
            eq(input, key)?;
            attrs.title = Some(input.parse()?);
        }
        "description" => {
            eq(input, key)?;
            attrs.description = Some(input.parse()?);
        }
        "tags" => {
            eq(input, key)?;
            let content;
            syn::bracketed!(content in input);
            let tags = content.parse_terminated(<LitStr as syn::parse::Parse>::parse, Token![,])?;
            attrs.tags = tags.into_iter().collect();
        }
        "timeout" => {
            eq(input, key)?;
            attrs.timeout = Some(duration::parse(input)?);
        }
        "rollbacks" => {
            eq(input, key)?;
            let v: Ident = input.parse()?;
            if !["always", "never", "deviated"].contains(&v.to_string().as_str()) {
                return Err(syn::Error::new(
                    v.span(),
                    format!(
                        "unknown rollback strategy `{v}`; expected `always`, `never` or `deviated`"
                    ),
                ));
            }
            attrs.rollbacks = Some(v);
        }
        "hypothesis" => {
            eq(input, key)?;
            attrs.hypothesis = Some(hypothesis(input)?);
            attrs.hypothesis_key = Some(key.span());
        }
        "group" => {
            eq(input, key)?;
            let group: LitStr = input.parse().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "the exclusion group is a string: `group = \"ec2-account\"`",
                )
            })?;
            if !valid_group(&group.value()) {
                return Err(syn::Error::new(
                    group.span(),
                    format!(
                        "exclusion group {:?} must be a non-empty name of ASCII letters, digits, `-` and `_`, as in `group = \"ec2-account\"`",
                        group.value()
                    ),
                ));
            }
            attrs.group = Some(group);
        }
        "parallel" => {
            if input.peek(Token![=]) {
                return Err(syn::Error::new(
                    input.span(),
                    "experiment key `parallel` takes no value: write `parallel` to let the experiment run alongside any other",
                ));
            }
            attrs.parallel = Some(key.span());
        }
        "ignore" => {
            if input.peek(Token![=]) {
                input.parse::<Token![=]>()?;
                let reason: LitStr = input.parse()?;
                attrs.ignore = Some(reason.value());
            } else {
                attrs.ignore = Some(String::new());
            }
        }
        "snapshot" => {
            if input.peek(Token![=]) {
                input.parse::<Token![=]>()?;
                let b: syn::LitBool = input.parse()?;
                attrs.snapshot = b.value;
            } else {
                attrs.snapshot = true;
            }
        }
        "expect" => {
            eq(input, key)?;
            let v: Ident = input.call(syn::ext::IdentExt::parse_any)?;
            let s = v.to_string();
            if !OUTCOMES.contains(&s.as_str()) {
                return Err(syn::Error::new(
                    v.span(),
                    format!("unknown outcome `{s}`; expected one of {}", list(OUTCOMES)),
                ));
            }
            attrs.expect = Some((s.replace('_', "-"), v.span()));
        }
        _ => unreachable!("keys are checked before"),
    }
    Ok(())
}

fn hypothesis(input: ParseStream) -> syn::Result<HypothesisSpec> {
    let v: Ident = input.call(syn::ext::IdentExt::parse_any)?;
    let s = v.to_string();
    let simple = match s.as_str() {
        "default" => Some(HypothesisSpec::Default),
        "before_method_only" => Some(HypothesisSpec::BeforeMethodOnly),
        "after_method_only" => Some(HypothesisSpec::AfterMethodOnly),
        "during_method_only" | "continuously" => None,
        _ => {
            return Err(syn::Error::new(
                v.span(),
                format!("unknown hypothesis strategy `{s}`; expected {STRATEGIES}"),
            ))
        }
    };
    if let Some(h) = simple {
        if input.peek(syn::token::Paren) {
            return Err(syn::Error::new(
                input.span(),
                format!("hypothesis strategy `{s}` takes no arguments"),
            ));
        }
        return Ok(h);
    }
    let mut every = None;
    let mut fail_fast = false;
    if input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in input);
        let mut seen: Vec<(String, Span)> = Vec::new();
        while !content.is_empty() {
            let k: Ident = content.parse()?;
            let ks = k.to_string();
            if seen.iter().any(|(n, _)| *n == ks) {
                return Err(syn::Error::new(
                    k.span(),
                    format!("duplicate hypothesis option `{ks}`"),
                ));
            }
            match ks.as_str() {
                "every" => {
                    content.parse::<Token![=]>()?;
                    let d = duration::parse(&content)?;
                    if d.ms == 0 {
                        return Err(syn::Error::new(d.span, "the sampling period must be greater than zero"));
                    }
                    every = Some(d);
                }
                "fail_fast" => fail_fast = true,
                _ => {
                    return Err(syn::Error::new(
                        k.span(),
                        format!("unknown hypothesis option `{ks}`; expected `every = <duration>` or `fail_fast`"),
                    ))
                }
            }
            seen.push((ks, k.span()));
            if content.is_empty() {
                break;
            }
            content.parse::<Token![,]>()?;
        }
    }
    Ok(if s == "continuously" {
        HypothesisSpec::Continuously { every, fail_fast }
    } else {
        HypothesisSpec::DuringMethodOnly { every, fail_fast }
    })
}
