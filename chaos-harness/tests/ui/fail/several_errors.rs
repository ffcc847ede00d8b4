use chaos_harness::prelude::*;

// Every error is reported, not only the first.
#[experiment(titel = "x", timeout = 5)]
async fn several_errors(cx: &Context) {
    steady_state! {
        probe "up" { 200u16 };
    }
    method! {
        action "up" [retries = 3] { 1 };
    }
}

fn main() {}
