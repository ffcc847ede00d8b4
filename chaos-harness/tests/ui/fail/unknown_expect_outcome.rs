use chaos_harness::prelude::*;

#[experiment(title = "unknown outcome", expect = failed)]
async fn unknown_expect_outcome(cx: &Context) {
    steady_state! {
        probe "service answers" { 200u16 } => == 200;
    }
}

fn main() {}
