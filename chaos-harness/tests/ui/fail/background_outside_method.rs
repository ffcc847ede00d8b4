use chaos_harness::prelude::*;

#[experiment(title = "background outside method")]
async fn background_outside_method(cx: &Context) {
    steady_state! {
        probe "service answers" [background] { 200u16 } => == 200;
    }
    method! {
        action "poke" { 1 };
    }
    rollback! {
        action "undo" [timeout = 1s, background] { 1 };
    }
}

fn main() {}
