use chaos_harness::prelude::*;

#[experiment(title = "unknown block")]
async fn unknown_block(cx: &Context) {
    setup! {
        action "prepare" { 1 };
    }
    method! {
        action "poke" { 1 };
    }
}

fn main() {}
