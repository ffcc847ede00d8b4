use chaos_harness::prelude::*;

#[experiment(title = "duplicate activity name")]
async fn duplicate_activity_name(cx: &Context) {
    steady_state! {
        probe "service answers" { 200u16 } => == 200;
    }
    method! {
        action "poke" { 1 };
    }
    rollback! {
        probe "service answers" { 200u16 };
    }
}

fn main() {}
