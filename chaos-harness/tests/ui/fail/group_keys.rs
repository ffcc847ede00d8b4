use chaos_harness::prelude::*;

#[experiment(group = "")]
async fn empty_group(cx: &Context) {
    method! {
        action "poke" { 1 };
    }
}

#[experiment(group = "../ec2")]
async fn path_as_group(cx: &Context) {
    method! {
        action "poke" { 1 };
    }
}

#[experiment(group = "ec2", parallel)]
async fn group_and_parallel(cx: &Context) {
    method! {
        action "poke" { 1 };
    }
}

#[experiment(parallel = true)]
async fn parallel_with_a_value(cx: &Context) {
    method! {
        action "poke" { 1 };
    }
}

#[experiment(group = ec2)]
async fn group_not_a_string(cx: &Context) {
    method! {
        action "poke" { 1 };
    }
}

fn main() {}
