//! Parsing: tokens to the model of [`crate::ast`]. Only the grammar is checked here; every
//! rule over what was written is in `validate`. Whatever does not parse is reported to the
//! [`Ctxt`] and skipped, and the rest is still read.

pub(crate) mod attr;
pub(crate) mod body;
pub(crate) mod duration;
pub(crate) mod tolerance;

use crate::ast::Experiment;
use crate::ctxt::Ctxt;
use proc_macro2::TokenStream;
use syn::ItemFn;

/// Parses `#[experiment(args)] item`; `None` when the item is not a function at all.
pub(crate) fn experiment(cx: &Ctxt, args: TokenStream, item: TokenStream) -> Option<Experiment> {
    let attrs = attr::parse(cx, args);
    let func: ItemFn = match syn::parse2(item) {
        Ok(f) => f,
        Err(e) => {
            cx.error(
                e.span(),
                "#[experiment] goes on an `async fn` taking the run context: `async fn name(cx: &Context) { ... }`",
            );
            return None;
        }
    };
    let body = body::parse(cx, &func.block);
    Some(Experiment {
        attrs,
        fn_attrs: func.attrs,
        vis: func.vis,
        sig: func.sig,
        body,
    })
}
