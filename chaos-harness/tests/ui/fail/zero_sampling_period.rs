use chaos_harness::prelude::*;

#[experiment(title = "sampled every 0ms", hypothesis = continuously(every = 0ms))]
async fn zero_sampling_period(cx: &Context) {
    steady_state! {
        probe "status" { 200u16 } => == 200;
    }
}

fn main() {}
