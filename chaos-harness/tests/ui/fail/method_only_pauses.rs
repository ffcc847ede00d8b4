use chaos_harness::prelude::*;

// No steady state, and a method that cannot fail: nothing is ever checked.
#[experiment(title = "only waits")]
async fn only_waits(cx: &Context) {
    method! {
        pause 1s;
        pause 500ms;
    }
}

fn main() {}
