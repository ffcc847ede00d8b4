use chaos_harness::prelude::*;

#[experiment(title = "unknown rollback strategy", rollbacks = sometimes)]
async fn unknown_rollback_strategy(cx: &Context) {
    method! {
        action "poke" { 1 };
    }
}

fn main() {}
