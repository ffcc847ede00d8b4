use chaos_harness::prelude::*;

#[experiment(title = "generic")]
async fn generic<T: Default>(cx: &Context) {
    method! {
        action "poke" { T::default() };
    }
}

fn main() {}
