use chaos_harness::prelude::*;

#[experiment(title = "tolerance of the wrong type")]
async fn tolerance_wrong_type(cx: &Context) {
    steady_state! {
        probe "status" { 200u16 } => == "ok";
    }
}

fn main() {}
