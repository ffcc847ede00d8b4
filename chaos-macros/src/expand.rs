//! Checks the parsed experiment and emits builder calls and its registration.

use crate::duration::Millis;
use crate::errors::Errors;
use crate::model::{ActivitySpec, Attrs, Body, HypothesisSpec, Options};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, Pat};

/// The whole expansion of `#[experiment(args)] item`.
pub(crate) fn experiment(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let attrs = crate::attr::parse(args, &mut errors);
    let func: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(e) => {
            let err = syn::Error::new(e.span(), "#[experiment] goes on an `async fn` taking the run context: `async fn name(cx: &Context) { ... }`");
            let mut out = err.to_compile_error();
            out.extend(item);
            return out;
        }
    };
    let (cx, cx_type) = signature(&func, &mut errors);
    let body = crate::body::parse(&func.block, &mut errors);
    check(&func, &body, &mut errors);
    if errors.is_empty() {
        // Only over an experiment that parsed whole: a dropped activity would make it look
        // as if it checked nothing.
        check_checks_something(&func, &attrs, &body, &mut errors);
    }
    if !errors.is_empty() {
        // Emit a placeholder with the same name so that uses of it do not add errors.
        let vis = &func.vis;
        let name = &func.sig.ident;
        let errs = errors.to_compile_errors();
        return quote! {
            #errs
            #[allow(dead_code)]
            #vis fn #name() {}
        };
    }
    emit(&func, &attrs, &body, &cx, cx_type.as_ref())
}

/// Checks the signature; returns the context parameter's name and written type.
fn signature(func: &ItemFn, errors: &mut Errors) -> (syn::Ident, Option<syn::Type>) {
    let sig = &func.sig;
    if sig.asyncness.is_none() {
        errors.at(
            sig.fn_token.span(),
            "an experiment must be an `async fn`: write `async fn` here",
        );
    }
    if !sig.generics.params.is_empty() {
        errors.spanned(&sig.generics, "an experiment cannot be generic");
    }
    if let syn::ReturnType::Type(..) = &sig.output {
        errors.spanned(
            &sig.output,
            "an experiment returns nothing: its blocks are its result",
        );
    }
    let mut cx = format_ident!("__cx");
    let mut cx_type = None;
    let mut inputs = sig.inputs.iter();
    if let Some(first) = inputs.next() {
        match first {
            FnArg::Typed(t) => {
                cx_type = Some((*t.ty).clone());
                match &*t.pat {
                    Pat::Ident(i) => cx = i.ident.clone(),
                    Pat::Wild(_) => {}
                    other => errors.spanned(
                        other,
                        "the context parameter must be a name, as in `cx: &Context`",
                    ),
                }
            }
            FnArg::Receiver(r) => {
                errors.spanned(r, "an experiment is a free function, not a method")
            }
        }
    }
    for extra in inputs {
        errors.spanned(
            extra,
            "an experiment takes one parameter, the run context: `cx: &Context`",
        );
    }
    (cx, cx_type)
}

/// Checks what spans several blocks: duplicate names, an empty experiment.
fn check(func: &ItemFn, body: &Body, errors: &mut Errors) {
    if body.steady_state.is_none() && body.method.is_none() {
        errors.at(
            func.sig.ident.span(),
            format!(
                "experiment `{}` has neither a steady state nor a method: add `steady_state! {{ ... }}` or `method! {{ ... }}`",
                func.sig.ident
            ),
        );
    }
    let mut names: Vec<String> = Vec::new();
    for list in [&body.steady_state, &body.method, &body.rollback]
        .into_iter()
        .flatten()
    {
        for a in list {
            let name = match a {
                ActivitySpec::Probe { name, .. } | ActivitySpec::Action { name, .. } => name,
                ActivitySpec::Pause(_) => continue,
            };
            let v = name.value();
            if names.contains(&v) {
                errors.at(name.span(), format!("duplicate activity name \"{v}\": activity names must be unique in an experiment"));
            } else {
                names.push(v);
            }
        }
    }
}

/// Rejects an experiment that can never check anything (it would pass whatever the system
/// does); the rule of the runtime's `ExperimentBuilder::build`, with spans. The steady state is
/// checked before and after the method by the strategies that say so, and sampled during the
/// method only while there is one; a method checks something when it holds an action or a
/// probe.
fn check_checks_something(func: &ItemFn, attrs: &Attrs, body: &Body, errors: &mut Errors) {
    let name = &func.sig.ident;
    let has_steady = body.steady_state.as_ref().is_some_and(|s| !s.is_empty());
    let method = body.method.as_deref().unwrap_or_default();
    let method_checks = method.iter().any(|a| !matches!(a, ActivitySpec::Pause(_)));
    if method_checks {
        return;
    }
    let during_only = matches!(
        attrs.hypothesis,
        Some(HypothesisSpec::DuringMethodOnly { .. })
    );
    if has_steady && during_only && method.is_empty() {
        let span = attrs.hypothesis_key.unwrap_or_else(|| name.span());
        errors.at(
            span,
            format!(
                "experiment `{name}` checks nothing: `hypothesis = during_method_only` samples the steady state only while the method runs, and there is no method; add `method! {{ ... }}`, or check the steady state before or after it (`hypothesis = default`, `before_method_only`, `after_method_only` or `continuously`)"
            ),
        );
    } else if !has_steady && method.is_empty() {
        // Empty blocks only (no blocks at all is reported by `check`).
        if body.steady_state.is_some() || body.method.is_some() {
            errors.at(
                name.span(),
                format!("experiment `{name}` has neither a steady-state probe nor a method activity: add activities to its blocks"),
            );
        }
    } else if !has_steady {
        let span = body.method_path.unwrap_or_else(|| name.span());
        errors.at(
            span,
            format!(
                "experiment `{name}` checks nothing: it has no steady-state probe and its method has no action nor probe (only pauses); add a probe to `steady_state! {{ ... }}`, or an action or a probe to the method"
            ),
        );
    }
}

fn duration(m: &Millis) -> TokenStream {
    let ms = m.ms;
    quote_spanned!(m.span=> __c::Duration::from_millis(#ms))
}

fn options(o: &Options) -> TokenStream {
    let mut out = TokenStream::new();
    for (method, v) in [
        ("timeout", &o.timeout),
        ("pause_before", &o.pause_before),
        ("pause_after", &o.pause_after),
    ] {
        if let Some(m) = v {
            let method = format_ident!("{}", method);
            let d = duration(m);
            out.extend(quote!(.#method(#d)));
        }
    }
    if o.background {
        out.extend(quote!(.background()));
    }
    out
}

fn activity(a: &ActivitySpec, cx: &syn::Ident) -> TokenStream {
    match a {
        ActivitySpec::Pause(m) => {
            let d = duration(m);
            quote!(__c::Activity::pause(#d))
        }
        ActivitySpec::Probe {
            name,
            options: o,
            block,
            tolerance,
        } => {
            let opts = options(o);
            let tol = tolerance.as_ref().map(|t| {
                let text = &t.text;
                let check = &t.check;
                quote!(.tolerance(#text, #check))
            });
            let span = block.span();
            quote_spanned! {span=>
                __c::Probe::new(#name, move |#cx: __c::Context| async move {
                    #[allow(unused_variables)] let #cx = &#cx;
                    #[allow(clippy::let_unit_value)] let __value = #block;
                    ::core::result::Result::<_, __c::BoxError>::Ok(__value)
                })#tol #opts
            }
        }
        ActivitySpec::Action {
            name,
            options: o,
            block,
        } => {
            let opts = options(o);
            let span = block.span();
            quote_spanned! {span=>
                __c::Action::new(#name, move |#cx: __c::Context| async move {
                    #[allow(unused_variables)] let #cx = &#cx;
                    #[allow(clippy::let_unit_value)] let __value = #block;
                    ::core::result::Result::<_, __c::BoxError>::Ok(__value)
                }) #opts
            }
        }
    }
}

fn emit(
    func: &ItemFn,
    attrs: &Attrs,
    body: &Body,
    cx: &syn::Ident,
    cx_type: Option<&syn::Type>,
) -> TokenStream {
    let vis = &func.vis;
    let name = &func.sig.ident;
    let name_str = name.to_string();
    let docs = func.attrs.iter().filter(|a| a.path().is_ident("doc"));
    let mut calls = TokenStream::new();
    if let Some(t) = &attrs.title {
        calls.extend(quote!(.title(#t)));
    }
    if let Some(d) = &attrs.description {
        calls.extend(quote!(.description(#d)));
    }
    if !attrs.tags.is_empty() {
        let tags = &attrs.tags;
        calls.extend(quote!(.tags([#(#tags),*])));
    }
    if let Some(h) = &attrs.hypothesis {
        let every = |e: &Option<Millis>| {
            e.as_ref()
                .map(duration)
                .unwrap_or_else(|| quote!(__c::Duration::from_millis(1000)))
        };
        let h = match h {
            HypothesisSpec::Default => quote!(__c::Hypothesis::Default),
            HypothesisSpec::BeforeMethodOnly => quote!(__c::Hypothesis::BeforeMethodOnly),
            HypothesisSpec::AfterMethodOnly => quote!(__c::Hypothesis::AfterMethodOnly),
            HypothesisSpec::DuringMethodOnly {
                every: e,
                fail_fast,
            } => {
                let e = every(e);
                quote!(__c::Hypothesis::DuringMethodOnly { every: #e, fail_fast: #fail_fast })
            }
            HypothesisSpec::Continuously {
                every: e,
                fail_fast,
            } => {
                let e = every(e);
                quote!(__c::Hypothesis::Continuously { every: #e, fail_fast: #fail_fast })
            }
        };
        calls.extend(quote!(.hypothesis(#h)));
    }
    if let Some(r) = &attrs.rollbacks {
        let variant = match r.to_string().as_str() {
            "never" => quote!(Never),
            "deviated" => quote!(Deviated),
            _ => quote!(Always),
        };
        calls.extend(quote!(.rollbacks(__c::RollbackStrategy::#variant)));
    }
    if let Some(t) = &attrs.timeout {
        let d = duration(t);
        calls.extend(quote!(.timeout(#d)));
    }
    if let Some(g) = &attrs.group {
        calls.extend(quote!(.group(#g)));
    }
    if attrs.parallel.is_some() {
        calls.extend(quote!(.parallel()));
    }
    for (list, method) in [
        (&body.steady_state, "steady_state"),
        (&body.method, "method"),
        (&body.rollback, "rollback"),
    ] {
        let method = format_ident!("{}", method);
        for a in list.iter().flatten() {
            let a = activity(a, cx);
            calls.extend(quote!(.#method(#a)));
        }
    }
    let ignore = match &attrs.ignore {
        Some(r) => quote!(::core::option::Option::Some(#r)),
        None => quote!(::core::option::Option::None),
    };
    let expect = match &attrs.expect {
        Some((o, span)) => {
            let variant = format_ident!(
                "{}",
                o.split('-')
                    .map(|w| {
                        let mut c = w.chars();
                        c.next()
                            .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                            .unwrap_or_default()
                    })
                    .collect::<String>(),
                span = *span
            );
            quote!(__c::Outcome::#variant)
        }
        None => quote!(__c::Outcome::Passed),
    };
    let snapshot = attrs.snapshot;
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
        #vis fn #name() -> ::core::result::Result<::chaos_harness::__private::Experiment, ::chaos_harness::__private::ExperimentError> {
            use ::chaos_harness::__private as __c;
            #type_check
            __c::Experiment::builder(::core::concat!(::core::module_path!(), "::", #name_str))
                #calls
                .build()
        }
        ::chaos_harness::__private::inventory::submit! {
            ::chaos_harness::__private::Registration {
                module_path: ::core::module_path!(),
                function: #name_str,
                ignore: #ignore,
                expect: { use ::chaos_harness::__private as __c; #expect },
                snapshot: #snapshot,
                file: ::core::file!(),
                line: ::core::line!(),
                build: #name,
            }
        }
    }
}
