//! Emission only: the model of an experiment to a builder function, and its registration.
//!
//! The expansion names the harness by the path of `crate = ...` (default `::chaos_harness`)
//! and reaches the builder API through its `__private` module. Nothing is checked here: the
//! rules are `validate`'s, and an experiment that broke one is emitted by `fallback`, through
//! [`builder_fn`] as well, so that its blocks are type-checked the same way.

use crate::ast::{Activity, ActivityOption, ActivitySpec, Attrs, Experiment, Millis};
use crate::kw::{self, Word};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, Pat};

/// The expansion of a valid experiment: its builder function and its registration.
pub(crate) fn experiment(exp: &Experiment) -> TokenStream {
    let mut out = builder_fn(exp, true);
    out.extend(registration(exp));
    out
}

/// `fn name() -> Result<Experiment, ExperimentError>`: the builder calls of every key and, with
/// `activities`, of every activity in the model.
pub(crate) fn builder_fn(exp: &Experiment, activities: bool) -> TokenStream {
    let krate = exp.attrs.krate();
    let vis = &exp.vis;
    let name = &exp.sig.ident;
    let name_str = name.to_string();
    let docs = exp.fn_attrs.iter().filter(|a| a.path().is_ident("doc"));
    let (cx, cx_type) = context(exp);
    let mut calls = keys(&exp.attrs);
    for block in exp.body.blocks.iter().filter(|_| activities) {
        let method = format_ident!("{}", block.kind.name());
        for a in &block.activities {
            let a = activity(a, &cx);
            calls.extend(quote!(.#method(#a)));
        }
    }
    // The parameter's written type must be what activities get: a `&Context`.
    let type_check = cx_type.map(|ty| {
        let span = ty.span();
        quote_spanned! {span=>
            #[allow(dead_code)]
            fn __chaos_context_type(cx: &__c::Context) { let _: #ty = cx; }
        }
    });
    quote! {
        #(#docs)*
        #vis fn #name() -> ::core::result::Result<#krate::__private::Experiment, #krate::__private::ExperimentError> {
            use #krate::__private as __c;
            #type_check
            __c::Experiment::builder(::core::concat!(::core::module_path!(), "::", #name_str))
                #calls
                .build()
        }
    }
}

/// The experiment's entry in the harness's registry.
fn registration(exp: &Experiment) -> TokenStream {
    let krate = exp.attrs.krate();
    let name = &exp.sig.ident;
    let name_str = name.to_string();
    let attrs = &exp.attrs;
    let ignore = match attrs.ignore() {
        Some(r) => quote!(::core::option::Option::Some(#r)),
        None => quote!(::core::option::Option::None),
    };
    let expect = match attrs.expect() {
        Some((o, span)) => {
            let variant = format_ident!("{}", o.variant(), span = span);
            quote!(__c::Outcome::#variant)
        }
        None => {
            let variant = format_ident!("{}", kw::Outcome::Passed.variant());
            quote!(__c::Outcome::#variant)
        }
    };
    let snapshot = attrs.snapshot();
    quote! {
        #krate::__private::inventory::submit! {
            #krate::__private::Registration {
                module_path: ::core::module_path!(),
                function: #name_str,
                ignore: #ignore,
                expect: { use #krate::__private as __c; #expect },
                snapshot: #snapshot,
                file: ::core::file!(),
                line: ::core::line!(),
                build: #name,
            }
        }
    }
}

/// The context parameter's name (`__cx` when it has none) and written type.
fn context(exp: &Experiment) -> (syn::Ident, Option<&syn::Type>) {
    match exp.sig.inputs.first() {
        Some(FnArg::Typed(t)) => {
            let name = match &*t.pat {
                Pat::Ident(i) => i.ident.clone(),
                _ => format_ident!("__cx"),
            };
            (name, Some(&*t.ty))
        }
        _ => (format_ident!("__cx"), None),
    }
}

/// The builder calls of the keys.
fn keys(attrs: &Attrs) -> TokenStream {
    let mut calls = TokenStream::new();
    if let Some(t) = attrs.title() {
        calls.extend(quote!(.title(#t)));
    }
    if let Some(d) = attrs.description() {
        calls.extend(quote!(.description(#d)));
    }
    let tags = attrs.tags();
    if !tags.is_empty() {
        calls.extend(quote!(.tags([#(#tags),*])));
    }
    if let Some(h) = attrs.hypothesis() {
        let variant = format_ident!("{}", h.strategy.variant());
        let h = if h.strategy.samples() {
            let every = h
                .every()
                .map(|e| duration(&e))
                .unwrap_or_else(|| quote!(__c::Duration::from_millis(1000)));
            let fail_fast = h.fail_fast();
            quote!(__c::Hypothesis::#variant { every: #every, fail_fast: #fail_fast })
        } else {
            quote!(__c::Hypothesis::#variant)
        };
        calls.extend(quote!(.hypothesis(#h)));
    }
    if let Some(r) = attrs.rollbacks() {
        let variant = format_ident!("{}", r.variant());
        calls.extend(quote!(.rollback_strategy(__c::RollbackStrategy::#variant)));
    }
    if let Some(t) = attrs.timeout() {
        let d = duration(&t);
        calls.extend(quote!(.timeout(#d)));
    }
    if let Some(g) = attrs.group() {
        calls.extend(quote!(.group(#g)));
    }
    if attrs.parallel().is_some() {
        calls.extend(quote!(.parallel()));
    }
    if let Some(w) = attrs.window() {
        calls.extend(quote!(.window(#w)));
    }
    if let Some(m) = attrs.min_interval() {
        let d = duration(&m);
        calls.extend(quote!(.min_interval(#d)));
    }
    let touches = attrs.touches();
    if !touches.is_empty() {
        calls.extend(quote!(.touches([#(#touches),*])));
    }
    if let Some(w) = attrs.weight() {
        let w = w.base10_digits().parse::<u8>().unwrap_or(1);
        calls.extend(quote!(.weight(#w)));
    }
    calls
}

fn duration(m: &Millis) -> TokenStream {
    let ms = m.ms;
    quote_spanned!(m.span=> __c::Duration::from_millis(#ms))
}

fn options(options: &[ActivityOption]) -> TokenStream {
    let mut out = TokenStream::new();
    for o in options {
        let method = format_ident!("{}", o.option.name());
        out.extend(match &o.value {
            Some(m) => {
                let d = duration(m);
                quote!(.#method(#d))
            }
            None => quote!(.#method()),
        });
    }
    out
}

fn activity(a: &Activity, cx: &syn::Ident) -> TokenStream {
    let (constructor, name, options, block, tolerance) = match &a.spec {
        ActivitySpec::Pause(m) => {
            let d = duration(m);
            return quote!(__c::Activity::pause(#d));
        }
        ActivitySpec::Probe {
            name,
            options,
            block,
            tolerance,
        } => ("Probe", name, options, block, tolerance.as_ref()),
        // An action's tolerance is an error of its own; its tokens are not emitted.
        ActivitySpec::Action {
            name,
            options,
            block,
            ..
        } => ("Action", name, options, block, None),
    };
    let opts = self::options(options);
    let tol = tolerance.map(|t| {
        let text = &t.text;
        let check = &t.check;
        quote!(.tolerance(#text, #check))
    });
    let span = block.span();
    let constructor = syn::Ident::new(constructor, span);
    quote_spanned! {span=>
        __c::#constructor::new(#name, move |#cx: __c::Context| async move {
            #[allow(unused_variables)] let #cx = &#cx;
            #[allow(clippy::let_unit_value)] let __value = #block;
            ::core::result::Result::<_, __c::BoxError>::Ok(__value)
        })#tol #opts
    }
}
