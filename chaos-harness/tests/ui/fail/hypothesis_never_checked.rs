use chaos_harness::prelude::*;

// Sampled only while the method runs, and there is no method: the steady state is never
// evaluated, so the experiment would pass whatever the system does.
#[experiment(title = "sampled without a method", hypothesis = during_method_only(every = 1s))]
async fn sampled_without_a_method(cx: &Context) {
    steady_state! {
        probe "up" { 200u16 } => == 200;
    }
    rollback! {
        action "undo" { 1 };
    }
}

fn main() {}
