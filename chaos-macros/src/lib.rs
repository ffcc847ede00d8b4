//! `#[experiment]`: chaos experiments as annotated async Rust functions.
//!
//! This crate is a thin shim: [`model`] holds the parsed form, [`attr`] parses the attribute's
//! keys, [`body`] the `steady_state!`, `method!` and `rollback!` blocks, [`duration`] the
//! `500ms` / `5s` / `2m` literals, and [`expand`] emits calls to the builder API of
//! `chaos-runtime` (through `chaos_harness::__private`). Every error found is reported, each
//! with the span of the offending tokens, and the function is still emitted so that other
//! errors in it are reported too.
//!
//! Users reach this macro through `chaos_harness::experiment`; its syntax is documented there.

use proc_macro::TokenStream;

mod attr;
mod body;
mod duration;
mod errors;
mod expand;
mod model;

/// Declares a chaos experiment. See `chaos_harness::experiment` for the syntax.
#[proc_macro_attribute]
pub fn experiment(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::experiment(args.into(), item.into()).into()
}
