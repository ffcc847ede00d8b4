use chaos_harness::prelude::*;

#[experiment(title = "unknown activity option")]
async fn unknown_activity_option(cx: &Context) {
    method! {
        action "poke" [retries = 3] { 1 };
    }
}

fn main() {}
