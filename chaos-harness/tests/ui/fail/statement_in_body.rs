use chaos_harness::prelude::*;

#[experiment(title = "a statement in the body")]
async fn statement_in_body(cx: &Context) {
    let x = 1;
    method! {
        action "poke" { 1 };
    }
}

fn main() {}
