use chaos_harness::prelude::*;

#[experiment(title = "only rollbacks")]
async fn only_rollbacks(cx: &Context) {
    rollback! {
        action "undo" { 1 };
    }
}

fn main() {}
