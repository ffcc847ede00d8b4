use chaos_harness::prelude::*;

#[experiment(title = "unknown hypothesis strategy", hypothesis = sometimes)]
async fn unknown_hypothesis(cx: &Context) {
    steady_state! {
        probe "service answers" { 200u16 } => == 200;
    }
}

fn main() {}
