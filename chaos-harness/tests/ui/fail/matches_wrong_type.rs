use chaos_harness::prelude::*;

#[experiment(title = "a pattern of the wrong type")]
async fn matches_wrong_type(cx: &Context) {
    steady_state! {
        probe "status" { 200u16 } => matches Some(200);
    }
}

fn main() {}
