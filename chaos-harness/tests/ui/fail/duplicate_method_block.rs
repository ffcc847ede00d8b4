use chaos_harness::prelude::*;

#[experiment(title = "two method blocks")]
async fn duplicate_method_block(cx: &Context) {
    method! {
        action "poke" { 1 };
    }
    method! {
        action "poke again" { 2 };
    }
}

fn main() {}
