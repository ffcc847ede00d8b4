use chaos_harness::prelude::*;

#[experiment(title = "two parameters")]
async fn two_parameters(cx: &Context, retries: u32) {
    method! {
        action "poke" { 1 };
    }
}

fn main() {}
