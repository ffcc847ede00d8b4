//! `crate = path`: the expansion names the harness by that path. Here `::chaos_harness` is
//! `core`, so an expansion through the default path would not compile: these experiments
//! build only through the path of their `crate` key.
extern crate chaos_harness as renamed;
extern crate core as chaos_harness;

use renamed::prelude::*;

/// A renamed dependency (what `renamed = { package = "chaos-harness" }` gives).
#[experiment(crate = renamed, title = "through a renamed crate", expect = deviated)]
async fn through_a_renamed_crate(cx: &Context) {
    steady_state! {
        probe "up" { 200u16 } => == 200;
    }
    method! {
        action "poke" { cx.seed() };
    }
}

/// A re-export, as a crate that wraps the harness would offer it.
mod wrapper {
    pub(crate) use ::renamed as harness;
}

#[experiment(crate = crate::wrapper::harness, timeout = 1s)]
async fn through_a_reexport(cx: &Context) {
    method! {
        action "poke" { 1 };
    }
}

fn main() {
    through_a_renamed_crate().expect("the experiment builds");
    through_a_reexport().expect("the experiment builds");
    let registered: Vec<_> =
        renamed::__private::inventory::iter::<renamed::__private::Registration>
            .into_iter()
            .map(|r| (r.function, r.expect))
            .collect();
    assert_eq!(registered.len(), 2, "{registered:?}");
    assert!(registered.contains(&("through_a_renamed_crate", Outcome::Deviated)));
    assert!(registered.contains(&("through_a_reexport", Outcome::Passed)));
}
