use chaos_harness::prelude::*;

#[experiment(touches = "pods.terminate")]
async fn touches_not_a_list(cx: &Context) {
    method! {
        action "poke" { 1 };
    }
}

#[experiment(touches = [pods.terminate])]
async fn touches_not_strings(cx: &Context) {
    method! {
        action "poke" { 1 };
    }
}

fn main() {}
