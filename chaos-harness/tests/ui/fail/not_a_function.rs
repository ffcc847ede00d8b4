use chaos_harness::prelude::*;

#[experiment(title = "not a function")]
struct NotAFunction;

fn main() {}
