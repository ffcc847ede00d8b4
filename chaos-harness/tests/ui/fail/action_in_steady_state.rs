use chaos_harness::prelude::*;

#[experiment(title = "action in the steady state")]
async fn action_in_steady_state(cx: &Context) {
    steady_state! {
        probe "service answers" { 200u16 } => == 200;
        action "poke" { 1 };
    }
}

fn main() {}
