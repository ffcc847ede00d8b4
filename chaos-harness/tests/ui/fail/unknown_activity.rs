use chaos_harness::prelude::*;

#[experiment(title = "unknown activity")]
async fn unknown_activity(cx: &Context) {
    method! {
        actoin "poke" { 1 };
    }
}

fn main() {}
