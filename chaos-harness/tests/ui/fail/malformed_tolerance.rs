use chaos_harness::prelude::*;

#[experiment(title = "malformed tolerance")]
async fn malformed_tolerance(cx: &Context) {
    steady_state! {
        probe "status" { 200u16 } => 200;
    }
}

fn main() {}
