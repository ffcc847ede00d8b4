use chaos_harness::prelude::*;

#[experiment(window = "")]
async fn empty_window(cx: &Context) {
    method! {
        action "poke" { 1 };
    }
}

#[experiment(window = Mon)]
async fn window_not_a_string(cx: &Context) {
    method! {
        action "poke" { 1 };
    }
}

#[experiment(min_interval = 0s)]
async fn zero_interval(cx: &Context) {
    method! {
        action "poke" { 1 };
    }
}

#[experiment(min_interval = 1w)]
async fn interval_in_weeks(cx: &Context) {
    method! {
        action "poke" { 1 };
    }
}

fn main() {}
