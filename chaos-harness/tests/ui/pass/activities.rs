//! Activities, their options, pauses and the forms of the signature.
use chaos_harness::prelude::*;

/// Doc comments are kept.
#[experiment(title = "activities and options")]
pub async fn activities(cx: &Context) {
    steady_state! {
        probe "up" [timeout = 3s] { 200u16 } => == 200;
        probe "with a variable" [timeout = 500ms, pause_before = 10ms, pause_after = 1s] {
            cx.var_or("service_url", "http://localhost").len()
        } => > 0;
    }
    method! {
        action "poke" [timeout = 2m, pause_before = 1ms, pause_after = 1ms] { 1 };
        action "in the background" [background, timeout = 1s] { "done" };
        pause 1.5s;
        pause 10ms;
        pause 2m;
        pause 1h;
        probe "no tolerance" { 1u8 };
        probe "with a tolerance" [pause_after = 1ms] { 1u8 } => == 1;
        action "unit" { () };
        action "question mark" { cx.var("missing")? };
        action "raw keyword name" { r#"ok"# }
    }
    rollback! {
        action "undo" [timeout = 5s] { 1 };
        probe "check" { 2u8 };
        probe "check with a tolerance" { 2u8 } => == 2;
    }
}

#[experiment(title = "method only")]
async fn method_only(_cx: &Context) {
    method! {
        action "poke" { 1 };
    }
}

#[experiment(title = "steady state only; the parameter may be `_`")]
async fn steady_state_only(_: &Context) {
    steady_state! {
        probe "up" { 200u16 } => == 200
    }
}

#[experiment(title = "no parameter at all")]
async fn no_parameter() {
    method! {
        action "poke" { 1 };
    }
    rollback! {}
}

#[experiment(title = "empty blocks alongside")]
async fn empty_blocks(cx: &Context) {
    steady_state! {}
    method! {
        action "poke" { 1 };
    }
    rollback! {}
}

mod nested {
    use chaos_harness::prelude::*;

    #[experiment(title = "in a module")]
    pub(crate) async fn in_a_module(cx: &Context) {
        method! {
            action "poke" { cx.seed() };
        }
    }
}

fn main() {
    for build in [
        activities as fn() -> _,
        method_only,
        steady_state_only,
        no_parameter,
        empty_blocks,
        nested::in_a_module,
    ] {
        build().expect("the experiment builds");
    }
}
