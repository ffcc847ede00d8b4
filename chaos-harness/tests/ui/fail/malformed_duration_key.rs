use chaos_harness::prelude::*;

#[experiment(title = "malformed duration", timeout = 5x)]
async fn malformed_duration(cx: &Context) {
    method! {
        action "poke" { 1 };
    }
}

fn main() {}
