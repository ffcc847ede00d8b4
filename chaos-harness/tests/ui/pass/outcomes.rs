//! Every outcome `expect = ...` names, one experiment each: together they must be
//! `Outcome::ALL`. This ties the macro's table of outcome names (`chaos-macros/src/kw.rs`) to
//! the runtime's `Outcome`: a name the runtime does not have does not compile, and an outcome
//! the table lacks fails the assertion below (add it to both).
use chaos_harness::__private::{inventory, Registration};
use chaos_harness::prelude::*;

macro_rules! expecting {
    ($($outcome:ident),* $(,)?) => {$(
        #[experiment(expect = $outcome)]
        async fn $outcome(cx: &Context) {
            method! {
                action "poke" { 1 };
            }
        }
    )*};
}

expecting!(
    passed,
    baseline_not_met,
    deviated,
    activity_failed,
    rollback_failed,
    aborted,
    interrupted,
    error,
);

fn main() {
    let expected: Vec<Outcome> = inventory::iter::<Registration>
        .into_iter()
        .map(|r| r.expect)
        .collect();
    assert_eq!(expected.len(), Outcome::ALL.len(), "{expected:?}");
    for o in Outcome::ALL {
        assert!(expected.contains(&o), "no experiment expects {o}");
        // The macro's name of an outcome is the runtime's, in snake case.
        let r = inventory::iter::<Registration>
            .into_iter()
            .find(|r| r.expect == o)
            .unwrap();
        assert_eq!(r.function, o.as_str().replace('-', "_"));
    }
}
