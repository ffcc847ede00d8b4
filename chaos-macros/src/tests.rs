//! Expansion snapshots: [`expand_experiment`] over three experiments, pretty-printed, compared
//! with `src/snapshots/` (review a change with `cargo insta review`).

use crate::expand_experiment;
use quote::quote;

fn expand(attr: proc_macro2::TokenStream, item: proc_macro2::TokenStream) -> String {
    let out = expand_experiment(attr, item);
    let file: syn::File = syn::parse2(out).expect("the expansion is a list of items");
    prettyplease::unparse(&file)
}

/// The smallest experiment: one action, no key.
#[test]
fn minimal() {
    insta::assert_snapshot!(expand(
        quote!(),
        quote! {
            async fn poke(cx: &Context) {
                method! {
                    action "poke" { 1 };
                }
            }
        }
    ));
}

/// Every key, every activity and option, every tolerance form, and `crate = ...`.
#[test]
fn every_key() {
    insta::assert_snapshot!(expand(
        quote! {
            title = "all keys",
            description = "every key at once",
            tags = ["a", "b"],
            hypothesis = continuously(every = 50ms, fail_fast),
            rollbacks = deviated,
            timeout = 2m,
            ignore = "reason",
            snapshot,
            expect = baseline_not_met,
            group = "ec2-account",
            crate = ::deps::chaos,
        },
        quote! {
            /// Kept.
            pub async fn every_key(cx: &Context) {
                steady_state! {
                    probe "eq" [timeout = 3s] { 200u16 } => == 200;
                    probe "range" { 204u16 } => in 200..300;
                    probe "pattern" { Some(1u8) } => matches Some(_);
                    probe "closure" { 2u8 } => |v: &u8| *v % 2 == 0;
                }
                method! {
                    action "poke" [pause_before = 1s, pause_after = 500ms, background] { cx.seed() };
                    pause 1.5s;
                    probe "no tolerance" { 1u8 };
                }
                rollback! {
                    action "undo" { () };
                }
            }
        }
    ));
}

/// An experiment with errors: the `compile_error!`s, then the builder function over every
/// block that parsed (the dropped activity and the unknown key aside), without a
/// registration.
#[test]
fn fallback_on_errors() {
    insta::assert_snapshot!(expand(
        quote!(titel = "x", timeout = 5s),
        quote! {
            async fn broken(cx: &Context) {
                steady_state! {
                    probe "up" { 200u16 } => == 200;
                    actoin "typo" { 1 };
                }
                method! {
                    action "up" [retries = 3] { 1 + "one" };
                }
            }
        }
    ));
}

/// Not a function: the error and the item unchanged.
#[test]
fn not_a_function() {
    let out = expand_experiment(
        quote!(),
        quote!(
            struct S;
        ),
    )
    .to_string();
    assert!(out.contains("compile_error"), "{out}");
    assert!(out.ends_with("struct S ;"), "{out}");
}
