use chaos_harness::prelude::*;

#[experiment(title = "returns a value")]
async fn returns_a_value(cx: &Context) -> Result<(), BoxError> {
    method! {
        action "poke" { 1 };
    }
}

fn main() {}
