//! The one error collector of an expansion (serde_derive's `internals::Ctxt`).
//!
//! Every stage (parsing, validation) reports into one [`Ctxt`] and goes on, so that all the
//! errors of an experiment are reported at once. The collector must be consumed with
//! [`Ctxt::check`]: dropping it unchecked panics, so an error can never be collected and then
//! forgotten.

use proc_macro2::Span;
use quote::ToTokens;
use std::cell::RefCell;
use std::fmt::Display;

pub(crate) struct Ctxt {
    /// `None` once checked.
    errors: RefCell<Option<Vec<syn::Error>>>,
}

impl Ctxt {
    pub(crate) fn new() -> Self {
        Ctxt {
            errors: RefCell::new(Some(Vec::new())),
        }
    }

    /// An error at `span`.
    pub(crate) fn error(&self, span: Span, msg: impl Display) {
        self.syn_error(syn::Error::new(span, msg));
    }

    /// An error over all of `tokens`, from the first to the last (`.span()` of several tokens
    /// is only the first token's on stable Rust).
    pub(crate) fn error_spanned_by(&self, tokens: impl ToTokens, msg: impl Display) {
        self.syn_error(syn::Error::new_spanned(tokens.into_token_stream(), msg));
    }

    pub(crate) fn syn_error(&self, e: syn::Error) {
        self.errors
            .borrow_mut()
            .as_mut()
            .expect("the error collector was already checked")
            .push(e);
    }

    /// Records the error of a `syn::Result` and gives its value, if any.
    pub(crate) fn ok<T>(&self, r: syn::Result<T>) -> Option<T> {
        r.map_err(|e| self.syn_error(e)).ok()
    }

    /// Consumes the collector: every error collected, combined into one (its
    /// `to_compile_error()` holds one `compile_error!` per error, in the order reported).
    pub(crate) fn check(self) -> Result<(), syn::Error> {
        let errors = self
            .errors
            .borrow_mut()
            .take()
            .expect("the error collector was already checked");
        let mut errors = errors.into_iter();
        let Some(mut combined) = errors.next() else {
            return Ok(());
        };
        for e in errors {
            combined.combine(e);
        }
        Err(combined)
    }
}

impl Drop for Ctxt {
    fn drop(&mut self) {
        if !std::thread::panicking() && self.errors.borrow().is_some() {
            panic!("the error collector was dropped without `Ctxt::check`");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combines_every_error_in_order() {
        let cx = Ctxt::new();
        cx.error(Span::call_site(), "first");
        cx.error(Span::call_site(), "second");
        let err = cx.check().unwrap_err();
        let msgs: Vec<String> = err.into_iter().map(|e| e.to_string()).collect();
        assert_eq!(msgs, ["first", "second"]);
    }

    #[test]
    fn no_error_is_ok() {
        assert!(Ctxt::new().check().is_ok());
    }

    #[test]
    #[should_panic(expected = "without `Ctxt::check`")]
    fn an_unchecked_collector_panics() {
        let cx = Ctxt::new();
        cx.error(Span::call_site(), "forgotten");
    }
}
