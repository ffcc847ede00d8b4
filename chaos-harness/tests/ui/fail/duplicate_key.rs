use chaos_harness::prelude::*;

#[experiment(title = "first", title = "second")]
async fn duplicate_key(cx: &Context) {
    method! {
        action "poke" { 1 };
    }
}

fn main() {}
