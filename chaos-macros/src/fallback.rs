//! What is emitted when something is wrong: always something usable (tokio-macros' `entry.rs`).
//!
//! With the `compile_error!`s goes the best expansion the model allows, so that rustc still
//! type-checks every block that parsed (a type error in a probe is reported together with a
//! misspelt key) and the IDE keeps resolving the function and what is in it.

use crate::ast::Experiment;
use crate::expand;
use proc_macro2::TokenStream;
use quote::quote;

/// The item is not a function: the errors, and the item unchanged.
pub(crate) fn not_a_function(errors: syn::Error, item: TokenStream) -> TokenStream {
    let mut out = errors.to_compile_error();
    out.extend(item);
    out
}

/// The experiment broke a rule or did not parse whole: the errors, and its builder function
/// over everything that parsed, without a registration (the harness never runs it, so uses of
/// the function add no errors and a dropped key or activity changes nothing that runs).
///
/// A generic experiment is the exception: its blocks' types depend on parameters an
/// experiment cannot have, and checking them against the builder's bounds (`Serialize`,
/// `Send`) would only repeat that error, so its function is emitted without activities.
pub(crate) fn experiment(exp: &Experiment, errors: syn::Error) -> TokenStream {
    let errors = errors.to_compile_error();
    let activities = exp.sig.generics.params.is_empty();
    let builder = expand::builder_fn(exp, activities);
    quote! {
        #errors
        #[allow(dead_code)]
        #builder
    }
}
