//! Every tolerance form compiles, and each one holds for the value its probe returns (checked
//! by running the experiments).
use chaos_harness::prelude::*;

#[experiment(title = "comparisons")]
async fn comparisons(cx: &Context) {
    steady_state! {
        probe "eq" { 200u16 } => == 200;
        probe "ne" { 200u16 } => != 500;
        probe "lt" { 0.25f64 } => < 0.5;
        probe "le" { 500u64 } => <= 500;
        probe "gt" { 3i32 } => > -1;
        probe "ge" { 3usize } => >= 3;
        probe "eq expression" { 6u32 } => == 2 * 3;
        probe "eq string" { String::from("ok") } => == "ok";
        probe "eq str" { "ok" } => == "ok";
    }
}

#[experiment(title = "ranges")]
async fn ranges(cx: &Context) {
    steady_state! {
        probe "half-open" { 204u16 } => in 200..300;
        probe "inclusive" { 299u16 } => in 200..=299;
        probe "to" { 10u32 } => in ..300;
        probe "from" { 10u32 } => in 1..;
        probe "floats" { 0.25f64 } => in 0.0..0.5;
    }
}

#[experiment(title = "patterns")]
async fn patterns(cx: &Context) {
    steady_state! {
        probe "some" { Some(3u8) } => matches Some(_);
        probe "some owned" { Some(String::from("ok")) } => matches Some(_);
        probe "none" { Option::<String>::None } => matches None;
        probe "literal" { 200u16 } => matches 200;
        probe "literals" { 201u16 } => matches 200 | 201;
        probe "leading vert" { 201u16 } => matches | 200 | 201;
        probe "range pattern" { 204u16 } => matches 200..=299;
        probe "str literal" { "ok" } => matches "ok" | "fine";
        probe "some literal" { Some(5u8) } => matches Some(1..=9);
        probe "tuple" { (1u8, String::from("x")) } => matches (1, _);
        probe "bool" { true } => matches true;
    }
}

#[experiment(title = "closures")]
async fn closures(cx: &Context) {
    steady_state! {
        probe "typed" { 200u16 } => |v: &u16| (200..300).contains(v);
        probe "untyped" { 200u16 } => |v| *v == 200;
        probe "move" { String::from("ok") } => move |v: &String| v.starts_with('o');
        probe "block" { vec![1u8, 2, 3] } => |v: &Vec<u8>| { v.len() == 3 && v.iter().all(|x| *x > 0) };
    }
}

#[experiment(title = "a missed literal pattern is a deviation", expect = deviated)]
async fn missed_pattern(cx: &Context) {
    method! {
        probe "status" { 404u16 } => matches 200 | 201;
    }
}

fn main() {
    use chaos_harness::run::Runner;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for (build, expected) in [
        (comparisons as fn() -> _, Outcome::Passed),
        (ranges, Outcome::Passed),
        (patterns, Outcome::Passed),
        (closures, Outcome::Passed),
        (missed_pattern, Outcome::Deviated),
    ] {
        let exp = build().expect("the experiment builds");
        let report = rt.block_on(Runner::new().run(&exp, Context::builder().seed(1).build()));
        assert_eq!(report.outcome, expected, "{}", report.experiment);
    }
}
