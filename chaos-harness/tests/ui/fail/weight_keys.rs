use chaos_harness::prelude::*;

#[experiment(weight = 11)]
async fn too_heavy(cx: &Context) {
    method! {
        action "poke" { 1 };
    }
}

#[experiment(weight = 0)]
async fn weightless(cx: &Context) {
    method! {
        action "poke" { 1 };
    }
}

#[experiment(weight = "high")]
async fn weight_in_words(cx: &Context) {
    method! {
        action "poke" { 1 };
    }
}

fn main() {}
