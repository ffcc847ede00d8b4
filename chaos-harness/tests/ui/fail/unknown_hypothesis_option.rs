use chaos_harness::prelude::*;

#[experiment(title = "unknown hypothesis option", hypothesis = continuously(every = 1s, fail_slow))]
async fn unknown_hypothesis_option(cx: &Context) {
    steady_state! {
        probe "status" { 200u16 } => == 200;
    }
}

fn main() {}
