//! `#[experiment]`: chaos experiments as annotated async Rust functions.
//!
//! Users reach this macro through `chaos_harness::experiment`; its syntax is documented there
//! and in the README's syntax reference. This crate is a thin shim over
//! [`expand_experiment`], which runs in stages over one model:
//!
//! - [`parse`] reads the tokens into the model of [`ast`]: `parse::attr` the keys,
//!   `parse::body` the `steady_state!`, `method!` and `rollback!` blocks, `parse::tolerance`
//!   and `parse::duration` the tolerances and the `500ms` / `5s` / `2m` literals. It checks the
//!   grammar only, and skips what does not parse to read the rest.
//! - [`validate`] holds every rule over the model, as a flat list of checks.
//! - [`expand`] emits the builder function and its registration (emission only).
//! - [`fallback`] is what is emitted when something is wrong: the errors together with the
//!   builder function over everything that parsed, so that rustc still type-checks the blocks.
//!
//! Every word the macro accepts is in one table of [`kw`], from which the "expected ..." lists
//! of the errors are built. Every stage reports into one [`ctxt::Ctxt`], which must be checked
//! before it is dropped: all the errors of an experiment are reported at once, each with the
//! span of the offending tokens.
//!
//! The expansion names the harness `::chaos_harness` and uses its `#[doc(hidden)]`
//! `__private` module (version-locked with this crate); `crate = path` names it by another
//! path, for a renamed or re-exported dependency.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;

mod ast;
mod ctxt;
mod expand;
mod fallback;
mod kw;
mod parse;
mod validate;

#[cfg(test)]
mod tests;

/// Declares a chaos experiment. See `chaos_harness::experiment` for the syntax.
#[proc_macro_attribute]
pub fn experiment(args: TokenStream, item: TokenStream) -> TokenStream {
    expand_experiment(args.into(), item.into()).into()
}

/// The whole expansion of `#[experiment(attr)] item`: parse, validate, then expand, or the
/// fallback with every error.
fn expand_experiment(attr: TokenStream2, item: TokenStream2) -> TokenStream2 {
    let cx = ctxt::Ctxt::new();
    let Some(exp) = parse::experiment(&cx, attr, item.clone()) else {
        let errors = cx.check().expect_err("a non-function item is an error");
        return fallback::not_a_function(errors, item);
    };
    validate::check(&cx, &exp);
    match cx.check() {
        Ok(()) => expand::experiment(&exp),
        Err(errors) => fallback::experiment(&exp, errors),
    }
}
