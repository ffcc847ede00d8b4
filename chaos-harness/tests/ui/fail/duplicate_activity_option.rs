use chaos_harness::prelude::*;

#[experiment(title = "duplicate activity option")]
async fn duplicate_activity_option(cx: &Context) {
    method! {
        action "poke" [timeout = 1s, timeout = 2s] { 1 };
    }
}

fn main() {}
