use chaos_harness::prelude::*;

#[experiment(title)]
async fn key_without_value(cx: &Context) {
    method! {
        action "poke" { 1 };
    }
}

fn main() {}
