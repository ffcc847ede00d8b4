use chaos_harness::prelude::*;

#[experiment(title = "steady-state probe without tolerance")]
async fn probe_without_tolerance(cx: &Context) {
    steady_state! {
        probe "service answers" { 200u16 };
    }
}

fn main() {}
