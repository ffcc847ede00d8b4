//! Tolerances: `=> == 200`, `=> in 200..300`, `=> matches Some(_)`, `=> |v| ...`.

use crate::ast::Tolerance;
use crate::kw;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned, ToTokens};
use syn::buffer::Cursor;
use syn::parse::ParseStream;
use syn::spanned::Spanned;
use syn::Token;

/// Parses `=> tolerance` and turns the tolerance into a check over `__v: &T`, spanned at its
/// tokens so that a type mismatch points there.
pub(crate) fn parse(input: ParseStream) -> syn::Result<Tolerance> {
    let start = input.cursor();
    input.parse::<Token![=>]>()?;
    let (text, check) = check(input)?;
    Ok(Tolerance {
        text,
        check,
        tokens: tokens_between(start, input.cursor()),
    })
}

fn check(input: ParseStream) -> syn::Result<(String, TokenStream)> {
    let start = input.span();
    macro_rules! cmp {
        ($tok:tt) => {{
            let op: Token![$tok] = input.parse()?;
            let rhs: syn::Expr = input.parse()?;
            let span = rhs.span();
            (
                format!("{} {}", stringify!($tok), text(&rhs)),
                // `=> == true` is natural in a tolerance: clippy's bool_comparison would flag
                // it in the user's code.
                quote_spanned!(span=> |__v| {
                    #[allow(clippy::bool_comparison)]
                    let __ok = *__v #op (#rhs);
                    __ok
                }),
            )
        }};
    }
    Ok(if input.peek(Token![==]) {
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
        (
            format!("in {}", text(&range)),
            quote_spanned!(span=> |__v| ::core::ops::RangeBounds::contains(&(#range), __v)),
        )
    } else if input.peek(kw::matches) {
        input.parse::<kw::matches>()?;
        let pat = syn::Pat::parse_multi_with_leading_vert(input)?;
        let span = pat.span();
        (
            format!("matches {}", text(&pat)),
            // `*__v`, not `__v`: match ergonomics do not see through the reference for literal
            // patterns of reference type (`"ok"` against `&&str`). Matching the place `*__v`
            // moves nothing unless the pattern binds a non-`Copy` part by value, which a
            // pattern without a guard has no use for (`_` or `ref x` do).
            quote_spanned!(span=> |__v| match *__v { #pat => true, _ => false }),
        )
    } else if input.peek(Token![|]) || input.peek(Token![||]) || input.peek(Token![move]) {
        let closure: syn::ExprClosure = input.parse()?;
        (text(&closure), quote!(#closure))
    } else {
        return Err(syn::Error::new(
            start,
            "expected a tolerance: `== v`, `!= v`, `< v`, `<= v`, `> v`, `>= v`, `in a..b`, `matches PATTERN` or a closure `|v| ...`",
        ));
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(src: &str) -> String {
        syn::parse::Parser::parse_str(parse, src).unwrap().text
    }

    #[test]
    fn texts() {
        assert_eq!(text_of("=> == 200"), "== 200");
        assert_eq!(text_of("=> in 200..300"), "in 200..300");
        assert_eq!(text_of("=> matches Some(_)"), "matches Some(_)");
        let Err(e) = syn::parse::Parser::parse_str(parse, "=> 200") else {
            panic!("`=> 200` is not a tolerance");
        };
        assert!(e.to_string().starts_with("expected a tolerance"));
    }
}
