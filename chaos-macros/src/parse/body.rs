//! Parses the experiment's body: `steady_state! { }`, `method! { }` and `rollback! { }` blocks
//! of `probe`, `action` and `pause` activities. An activity that does not parse is reported and
//! skipped up to its `;`; the others are kept, so that their blocks are still type-checked.

use super::{duration, tolerance};
use crate::ast::{Activity, ActivityBlock, ActivityOption, ActivitySpec, Body};
use crate::ctxt::Ctxt;
use crate::kw::{self, Word};
use proc_macro2::TokenTree;
use quote::ToTokens;
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Block, LitStr, Macro, Stmt, Token};

/// Splits the function body into its blocks and parses each.
pub(crate) fn parse(cx: &Ctxt, block: &Block) -> Body {
    let mut body = Body {
        blocks: Vec::new(),
        complete: true,
    };
    for stmt in &block.stmts {
        let mac = match stmt {
            Stmt::Macro(m) => &m.mac,
            Stmt::Item(syn::Item::Macro(m)) => &m.mac,
            Stmt::Expr(syn::Expr::Macro(m), _) => &m.mac,
            other => {
                body.complete = false;
                cx.error_spanned_by(
                    other,
                    format!(
                        "only {} blocks may appear in an experiment's body",
                        block_forms()
                    ),
                );
                continue;
            }
        };
        let Some(kind) = block_kind(mac) else {
            body.complete = false;
            let path = mac.path.to_token_stream().to_string().replace(' ', "");
            cx.error(
                mac.path.span(),
                format!(
                    "unknown {} `{path}!`; expected {}",
                    kw::Block::WHAT,
                    kw::Block::expected()
                ),
            );
            continue;
        };
        let mut complete = true;
        let parser = |input: ParseStream| Ok(activities(cx, input, &mut complete));
        let activities = cx.ok(parser.parse2(mac.tokens.clone())).unwrap_or_default();
        body.complete &= complete;
        body.blocks.push(ActivityBlock {
            kind,
            span: mac.path.span(),
            activities,
        });
    }
    body
}

/// "`steady_state! { ... }`, `method! { ... }` and `rollback! { ... }`".
fn block_forms() -> String {
    let forms: Vec<String> = kw::Block::ALL
        .iter()
        .map(|b| format!("`{} {{ ... }}`", b.form()))
        .collect();
    match forms.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => forms.concat(),
    }
}

fn block_kind(mac: &Macro) -> Option<kw::Block> {
    kw::Block::from_ident(mac.path.get_ident()?)
        .ok()
        .map(|(b, _)| b)
}

/// The activities of one block, separated by `;`.
fn activities(cx: &Ctxt, input: ParseStream, complete: &mut bool) -> Vec<Activity> {
    let mut list = Vec::new();
    while !input.is_empty() {
        match activity(cx, input) {
            Ok(a) => list.push(a),
            Err(e) => {
                *complete = false;
                cx.syn_error(e);
                skip_activity(input);
                continue;
            }
        }
        if input.is_empty() {
            break;
        }
        if let Err(e) = input.parse::<Token![;]>() {
            *complete = false;
            cx.syn_error(e);
            skip_activity(input);
        }
    }
    list
}

/// Skips past the next top-level `;` (the end of the activity that did not parse).
fn skip_activity(input: ParseStream) {
    let _ = input.step(|cursor| {
        let mut rest = *cursor;
        while let Some((tt, next)) = rest.token_tree() {
            rest = next;
            if let TokenTree::Punct(p) = &tt {
                if p.as_char() == ';' {
                    break;
                }
            }
        }
        Ok(((), rest))
    });
}

fn activity(cx: &Ctxt, input: ParseStream) -> syn::Result<Activity> {
    let (kind, span) = kw::ActivityKind::parse(input)?;
    let spec = match kind {
        kw::ActivityKind::Probe | kw::ActivityKind::Action => {
            let name: LitStr = input.parse()?;
            let options = options(cx, input)?;
            let block: Block = input.parse()?;
            let tolerance = if input.peek(Token![=>]) {
                Some(tolerance::parse(input)?)
            } else {
                None
            };
            if kind == kw::ActivityKind::Probe {
                ActivitySpec::Probe {
                    name,
                    options,
                    block,
                    tolerance,
                }
            } else {
                ActivitySpec::Action {
                    name,
                    options,
                    block,
                    tolerance,
                }
            }
        }
        kw::ActivityKind::Pause => ActivitySpec::Pause(duration::parse(input)?),
    };
    Ok(Activity { span, spec })
}

/// `[timeout = 3s, background]`. An unknown option is reported and skipped up to the next
/// comma.
fn options(cx: &Ctxt, input: ParseStream) -> syn::Result<Vec<ActivityOption>> {
    let mut list = Vec::new();
    if !input.peek(syn::token::Bracket) {
        return Ok(list);
    }
    let content;
    syn::bracketed!(content in input);
    while !content.is_empty() {
        match kw::ActivityOption::parse(&content) {
            Ok((option, span)) => {
                let value = match option {
                    kw::ActivityOption::Background => None,
                    _ => {
                        let name = option.name();
                        content.parse::<Token![=]>().map_err(|e| {
                            syn::Error::new(
                                e.span(),
                                format!("activity option `{name}` needs a duration: `{name} = 5s`"),
                            )
                        })?;
                        Some(duration::parse(&content)?)
                    }
                };
                list.push(ActivityOption {
                    option,
                    span,
                    value,
                });
            }
            Err(e) => {
                cx.syn_error(e);
                while !content.is_empty() && !content.peek(Token![,]) {
                    content.parse::<TokenTree>()?;
                }
            }
        }
        if content.is_empty() {
            break;
        }
        content.parse::<Token![,]>()?;
    }
    Ok(list)
}
