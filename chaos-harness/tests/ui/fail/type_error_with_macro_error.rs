use chaos_harness::prelude::*;

// A macro error does not hide the blocks from rustc: the function is still emitted with every
// block that parsed, so the type error in the probe is reported together with the unknown key.
#[experiment(titel = "x")]
async fn type_error_with_macro_error(cx: &Context) {
    steady_state! {
        probe "sum" { 1 + "one" } => == 2;
    }
}

fn main() {}
