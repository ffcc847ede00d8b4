use chaos_harness::prelude::*;

#[experiment(title = "tolerance on an action")]
async fn tolerance_on_action(cx: &Context) {
    method! {
        action "poke" { 200u16 } => == 200;
    }
}

fn main() {}
