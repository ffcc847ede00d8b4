use chaos_harness::prelude::*;

#[experiment(title = "not async")]
fn not_async(cx: &Context) {
    method! {
        action "poke" { 1 };
    }
}

fn main() {}
