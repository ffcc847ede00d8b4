use chaos_harness::prelude::*;

#[experiment(title = "pause without a unit")]
async fn pause_without_unit(cx: &Context) {
    method! {
        action "poke" { 1 };
        pause 5;
    }
}

fn main() {}
