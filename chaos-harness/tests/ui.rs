//! Compile-fail and pass UI tests of `#[experiment]`. Regenerate the `.stderr` files with
//! `TRYBUILD=overwrite cargo test -p chaos-harness --test ui`, then review them.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
