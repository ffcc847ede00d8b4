//! Parses the keys of `#[experiment(...)]` into [`Attrs`]: the grammar only (a word of the
//! keys' table, its value's syntax); what a value may be is checked in `validate`.

use super::duration;
use crate::ast::{Attrs, Hypothesis, HypothesisArg, Key, KeyValue};
use crate::ctxt::Ctxt;
use crate::kw::{self, Word};
use proc_macro2::{Span, TokenStream, TokenTree};
use syn::parse::{ParseStream, Parser};
use syn::{LitStr, Token};

/// Parses the attribute's arguments. A key that does not parse is reported and skipped, up to
/// the next comma, and the others are still read.
pub(crate) fn parse(cx: &Ctxt, args: TokenStream) -> Attrs {
    let mut attrs = Attrs::default();
    let parser = |input: ParseStream| -> syn::Result<()> {
        while !input.is_empty() {
            match key(input) {
                Ok(k) => attrs.keys.push(k),
                Err(e) => {
                    cx.syn_error(e);
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
    cx.ok(parser.parse2(args));
    attrs
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

fn eq(input: ParseStream, key: kw::Key, span: Span) -> syn::Result<()> {
    if input.peek(Token![=]) {
        input.parse::<Token![=]>()?;
        Ok(())
    } else {
        let key = key.name();
        Err(syn::Error::new(
            span,
            format!("experiment key `{key}` needs a value: `{key} = ...`"),
        ))
    }
}

fn key(input: ParseStream) -> syn::Result<Key> {
    let (key, span) = kw::Key::parse(input)?;
    let value = match key {
        kw::Key::Title => {
            eq(input, key, span)?;
            KeyValue::Title(input.parse()?)
        }
        kw::Key::Description => {
            eq(input, key, span)?;
            KeyValue::Description(input.parse()?)
        }
        kw::Key::Tags => {
            eq(input, key, span)?;
            let content;
            syn::bracketed!(content in input);
            let tags = content.parse_terminated(<LitStr as syn::parse::Parse>::parse, Token![,])?;
            KeyValue::Tags(tags.into_iter().collect())
        }
        kw::Key::Hypothesis => {
            eq(input, key, span)?;
            KeyValue::Hypothesis(hypothesis(input)?)
        }
        kw::Key::Rollbacks => {
            eq(input, key, span)?;
            KeyValue::Rollbacks(kw::Rollbacks::parse(input)?.0)
        }
        kw::Key::Timeout => {
            eq(input, key, span)?;
            KeyValue::Timeout(duration::parse(input)?)
        }
        kw::Key::Ignore => {
            if input.peek(Token![=]) {
                input.parse::<Token![=]>()?;
                KeyValue::Ignore(Some(input.parse()?))
            } else {
                KeyValue::Ignore(None)
            }
        }
        kw::Key::Snapshot => {
            if input.peek(Token![=]) {
                input.parse::<Token![=]>()?;
                KeyValue::Snapshot(input.parse::<syn::LitBool>()?.value)
            } else {
                KeyValue::Snapshot(true)
            }
        }
        kw::Key::Expect => {
            eq(input, key, span)?;
            let (outcome, span) = kw::Outcome::parse(input)?;
            KeyValue::Expect(outcome, span)
        }
        kw::Key::Group => {
            eq(input, key, span)?;
            KeyValue::Group(input.parse().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "the exclusion group is a string: `group = \"ec2-account\"`",
                )
            })?)
        }
        kw::Key::Parallel => {
            if input.peek(Token![=]) {
                return Err(syn::Error::new(
                    input.span(),
                    "experiment key `parallel` takes no value: write `parallel` to let the experiment run alongside any other",
                ));
            }
            KeyValue::Parallel
        }
        kw::Key::Weight => {
            eq(input, key, span)?;
            let bad = |span| {
                syn::Error::new(
                    span,
                    "the weight in the resilience score is a whole number from 1 to 10: `weight = 5`",
                )
            };
            let w: syn::LitInt = input.parse().map_err(|e| bad(e.span()))?;
            match w.base10_parse::<u8>() {
                Ok(1..=10) => KeyValue::Weight(w),
                _ => return Err(bad(w.span())),
            }
        }
        kw::Key::Window => {
            eq(input, key, span)?;
            KeyValue::Window(input.parse().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "the run window is a string: `window = \"Mon-Fri 09:00-15:00 Europe/Paris\"`, or `window = \"always\"`",
                )
            })?)
        }
        kw::Key::MinInterval => {
            eq(input, key, span)?;
            KeyValue::MinInterval(duration::parse(input)?)
        }
        kw::Key::Touches => {
            eq(input, key, span)?;
            const HELP: &str = "`touches` is a list of strings: `touches = [\"pods.terminate in shop\", \"nodes.read\"]`";
            if !input.peek(syn::token::Bracket) {
                return Err(syn::Error::new(input.span(), HELP));
            }
            let content;
            syn::bracketed!(content in input);
            // The whole list is taken first, so that a bad entry is one error, not two.
            let tokens: TokenStream = content.parse()?;
            let list = syn::punctuated::Punctuated::<LitStr, Token![,]>::parse_terminated
                .parse2(tokens)
                .map_err(|e| syn::Error::new(e.span(), HELP))?;
            KeyValue::Touches(list.into_iter().collect())
        }
        kw::Key::Crate => {
            eq(input, key, span)?;
            KeyValue::Crate(input.call(syn::Path::parse_mod_style).map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "`crate` is the path of the `chaos_harness` crate, as in `crate = my_chaos` or `crate = ::deps::chaos_harness`",
                )
            })?)
        }
    };
    Ok(Key { span, value })
}

fn hypothesis(input: ParseStream) -> syn::Result<Hypothesis> {
    let (strategy, _) = kw::Strategy::parse(input)?;
    let mut args = None;
    if input.peek(syn::token::Paren) {
        let content;
        let paren = syn::parenthesized!(content in input);
        let mut list = Vec::new();
        while !content.is_empty() {
            let (option, span) = kw::HypothesisOption::parse(&content)?;
            let every = match option {
                kw::HypothesisOption::Every => {
                    content.parse::<Token![=]>()?;
                    Some(duration::parse(&content)?)
                }
                kw::HypothesisOption::FailFast => None,
            };
            list.push(HypothesisArg {
                option,
                span,
                every,
            });
            if content.is_empty() {
                break;
            }
            content.parse::<Token![,]>()?;
        }
        args = Some((paren.span.join(), list));
    }
    Ok(Hypothesis { strategy, args })
}
