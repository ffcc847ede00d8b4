//! Collects every error of an expansion so they are all reported at once.

use proc_macro2::TokenStream;

/// A list of errors, combined into one `compile_error!` set at the end.
#[derive(Default)]
pub(crate) struct Errors {
    list: Vec<syn::Error>,
}

impl Errors {
    pub(crate) fn push(&mut self, e: syn::Error) {
        self.list.push(e);
    }

    pub(crate) fn at(&mut self, span: proc_macro2::Span, msg: impl std::fmt::Display) {
        self.push(syn::Error::new(span, msg));
    }

    /// An error over all of `tokens`, from the first to the last (a `Span` of several tokens
    /// cannot be made on stable Rust, so `.span()` of them is only the first token's).
    pub(crate) fn spanned(&mut self, tokens: impl quote::ToTokens, msg: impl std::fmt::Display) {
        self.push(syn::Error::new_spanned(tokens, msg));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub(crate) fn to_compile_errors(&self) -> TokenStream {
        self.list.iter().map(syn::Error::to_compile_error).collect()
    }
}
