use chaos_harness::prelude::*;

#[experiment]
async fn wrong_context_type(cx: String) {
    method! {
        action "a" { cx.seed() };
    }
}

fn main() {}
