use chaos_harness::prelude::*;

#[experiment(titel = "x")]
async fn unknown_key(cx: &Context) {
    method! {
        action "poke" { 1 };
    }
}

fn main() {}
