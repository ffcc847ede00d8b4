//! Parses the experiment's body: `steady_state! { }`, `method! { }` and `rollback! { }` blocks
//! of `probe`, `action` and `pause` activities.

use crate::duration::{self, Millis};
use crate::errors::Errors;
use crate::model::{ActivitySpec, Body, Options, Section, Tolerance};
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned, ToTokens};
use syn::buffer::Cursor;
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Block, Ident, LitStr, Macro, Stmt, Token};

const OPTIONS: &str = "`timeout = <duration>`, `pause_before = <duration>`, `pause_after = <duration>` or `background`";

/// Splits the function body into its blocks and parses each.
pub(crate) fn parse(block: &Block, errors: &mut Errors) -> Body {
    let mut body = Body::default();
    for stmt in &block.stmts {
        let mac = match stmt {
            Stmt::Macro(m) => &m.mac,
            Stmt::Item(syn::Item::Macro(m)) => &m.mac,
            Stmt::Expr(syn::Expr::Macro(m), _) => &m.mac,
            other => {
                errors.spanned(
                    other,
                    "only `steady_state! { ... }`, `method! { ... }` and `rollback! { ... }` blocks may appear in an experiment's body",
                );
                continue;
            }
        };
        let Some(section) = section_of(mac) else {
            let path = mac.path.to_token_stream().to_string().replace(' ', "");
            errors.at(
                mac.path.span(),
                format!(
                    "unknown block `{path}!`; expected `steady_state!`, `method!` or `rollback!`"
                ),
            );
            continue;
        };
        let slot = match section {
            Section::SteadyState => &mut body.steady_state,
            Section::Method => &mut body.method,
            Section::Rollback => &mut body.rollback,
        };
        if slot.is_some() {
            errors.at(
                mac.path.span(),
                format!(
                    "duplicate `{}` block: write all its activities in one block",
                    section.macro_name()
                ),
            );
            continue;
        }
        let parser = |input: ParseStream| activities(input, section, errors);
        match parser.parse2(mac.tokens.clone()) {
            Ok(list) => *slot = Some(list),
            Err(e) => {
                errors.push(e);
                *slot = Some(Vec::new());
            }
        }
        if section == Section::Method {
            body.method_path = Some(mac.path.span());
        }
    }
    body
}

fn section_of(mac: &Macro) -> Option<Section> {
    let ident = mac.path.get_ident()?;
    match ident.to_string().as_str() {
        "steady_state" => Some(Section::SteadyState),
        "method" => Some(Section::Method),
        "rollback" => Some(Section::Rollback),
        _ => None,
    }
}

fn activities(
    input: ParseStream,
    section: Section,
    errors: &mut Errors,
) -> syn::Result<Vec<ActivitySpec>> {
    let mut list = Vec::new();
    while !input.is_empty() {
        let kw: Ident = input.call(syn::ext::IdentExt::parse_any)?;
        let activity = match kw.to_string().as_str() {
            "probe" => {
                let name: LitStr = input.parse()?;
                let options = options(input, section, errors)?;
                let block: Block = input.parse()?;
                let tolerance = if input.peek(Token![=>]) {
                    input.parse::<Token![=>]>()?;
                    Some(tolerance(input)?)
                } else {
                    None
                };
                if section == Section::SteadyState && tolerance.is_none() {
                    errors.at(
                        name.span(),
                        format!(
                            "steady-state probe {} needs a tolerance: `{{ ... }} => == 200;`",
                            name.to_token_stream()
                        ),
                    );
                }
                ActivitySpec::Probe { name, options, block, tolerance }
            }
            "action" => {
                let name: LitStr = input.parse()?;
                let options = options(input, section, errors)?;
                let block: Block = input.parse()?;
                if input.peek(Token![=>]) {
                    // Point at the whole `=> tolerance`, as far as it parses.
                    let start = input.cursor();
                    input.parse::<Token![=>]>()?;
                    let _ = tolerance(input);
                    errors.spanned(
                        tokens_between(start, input.cursor()),
                        format!("action {} cannot have a tolerance: only probes are checked against one", name.to_token_stream()),
                    );
                }
                if section == Section::SteadyState {
                    errors.at(kw.span(), "`steady_state!` holds probes only; put actions in `method!`");
                }
                ActivitySpec::Action { name, options, block }
            }
            "pause" => {
                let d = duration::parse(input)?;
                if section == Section::SteadyState {
                    errors.at(kw.span(), "`steady_state!` holds probes only; put pauses in `method!`");
                }
                ActivitySpec::Pause(d)
            }
            other => {
                return Err(syn::Error::new(
                    kw.span(),
                    format!("unknown activity `{other}`; expected `probe \"name\" {{ ... }}`, `action \"name\" {{ ... }}` or `pause <duration>`"),
                ))
            }
        };
        list.push(activity);
        if input.is_empty() {
            break;
        }
        input.parse::<Token![;]>()?;
    }
    Ok(list)
}

fn options(input: ParseStream, section: Section, errors: &mut Errors) -> syn::Result<Options> {
    let mut opts = Options::default();
    if !input.peek(syn::token::Bracket) {
        return Ok(opts);
    }
    let content;
    syn::bracketed!(content in input);
    let mut seen: Vec<String> = Vec::new();
    while !content.is_empty() {
        let key: Ident = content.call(syn::ext::IdentExt::parse_any)?;
        let k = key.to_string();
        if seen.contains(&k) {
            errors.at(key.span(), format!("duplicate activity option `{k}`"));
        }
        let dur = |content: ParseStream| -> syn::Result<Millis> {
            content.parse::<Token![=]>().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    format!("activity option `{k}` needs a duration: `{k} = 5s`"),
                )
            })?;
            duration::parse(content)
        };
        match k.as_str() {
            "timeout" => opts.timeout = Some(dur(&content)?),
            "pause_before" => opts.pause_before = Some(dur(&content)?),
            "pause_after" => opts.pause_after = Some(dur(&content)?),
            "background" => {
                if section != Section::Method {
                    errors.at(
                        key.span(),
                        format!(
                            "`background` is allowed in `method!` only, not in `{}`",
                            section.macro_name()
                        ),
                    );
                }
                opts.background = true;
            }
            _ => {
                errors.at(
                    key.span(),
                    format!("unknown activity option `{k}`; expected {OPTIONS}"),
                );
                while !content.is_empty() && !content.peek(Token![,]) {
                    content.parse::<proc_macro2::TokenTree>()?;
                }
            }
        }
        seen.push(k);
        if content.is_empty() {
            break;
        }
        content.parse::<Token![,]>()?;
    }
    Ok(opts)
}

/// Parses a tolerance and turns it into a check over `__v: &T`, spanned at its tokens so a
/// type mismatch points there.
fn tolerance(input: ParseStream) -> syn::Result<Tolerance> {
    let start = input.span();
    macro_rules! cmp {
        ($tok:tt) => {{
            let op: Token![$tok] = input.parse()?;
            let rhs: syn::Expr = input.parse()?;
            let span = rhs.span();
            Tolerance {
                text: format!("{} {}", stringify!($tok), text(&rhs)),
                // `=> == true` is natural in a tolerance: clippy's bool_comparison would flag
                // it in the user's code.
                check: quote_spanned!(span=> |__v| {
                    #[allow(clippy::bool_comparison)]
                    let __ok = *__v #op (#rhs);
                    __ok
                }),
            }
        }};
    }
    let tol = if input.peek(Token![==]) {
        cmp!(==)
    } else if input.peek(Token![!=]) {
        cmp!(!=)
    } else if input.peek(Token![<=]) {
        cmp!(<=)
    } else if input.peek(Token![>=]) {
        cmp!(>=)
    } else if input.peek(Token![<]) {
        cmp!(<)
    } else if input.peek(Token![>]) {
        cmp!(>)
    } else if input.peek(Token![in]) {
        input.parse::<Token![in]>()?;
        let range: syn::Expr = input.parse()?;
        let span = range.span();
        Tolerance {
            text: format!("in {}", text(&range)),
            check: quote_spanned!(span=> |__v| ::core::ops::RangeBounds::contains(&(#range), __v)),
        }
    } else if input.peek(Ident)
        && input
            .fork()
            .parse::<Ident>()
            .map(|i| i == "matches")
            .unwrap_or(false)
    {
        input.parse::<Ident>()?;
        let pat = syn::Pat::parse_multi_with_leading_vert(input)?;
        let span = pat.span();
        Tolerance {
            text: format!("matches {}", text(&pat)),
            // `*__v`, not `__v`: match ergonomics do not see through the reference for literal
            // patterns of reference type (`"ok"` against `&&str`). Matching the place `*__v`
            // moves nothing unless the pattern binds a non-`Copy` part by value, which a
            // pattern without a guard has no use for (`_` or `ref x` do).
            check: quote_spanned!(span=> |__v| match *__v { #pat => true, _ => false }),
        }
    } else if input.peek(Token![|]) || input.peek(Token![||]) || input.peek(Token![move]) {
        let closure: syn::ExprClosure = input.parse()?;
        Tolerance {
            text: text(&closure),
            check: quote!(#closure),
        }
    } else {
        return Err(syn::Error::new(
            start,
            "expected a tolerance: `== v`, `!= v`, `< v`, `<= v`, `> v`, `>= v`, `in a..b`, `matches PATTERN` or a closure `|v| ...`",
        ));
    };
    Ok(tol)
}

/// The tokens from `start` up to, not including, `end`.
fn tokens_between(start: Cursor, end: Cursor) -> TokenStream {
    let mut out = TokenStream::new();
    let mut c = start;
    while c < end {
        match c.token_tree() {
            Some((tt, next)) => {
                out.extend([tt]);
                c = next;
            }
            None => break,
        }
    }
    out
}

/// The source text of some tokens, as close to how they were written as tokens allow.
fn text(t: &impl ToTokens) -> String {
    let ts: TokenStream = t.to_token_stream();
    let s = ts.to_string();
    s.replace(" . . = ", "..=")
        .replace(" .. ", "..")
        .replace(" ..= ", "..=")
        .replace(" (", "(")
        .replace("( ", "(")
        .replace(" )", ")")
        .replace(" ,", ",")
        .replace(" . ", ".")
}
