//! Every experiment key, in every form.
use chaos_harness::prelude::*;

#[experiment(
    title = "all keys",
    description = "every key at once",
    tags = ["a", "b"],
    hypothesis = continuously(every = 50ms, fail_fast),
    rollbacks = deviated,
    timeout = 2m,
    ignore = "reason",
    snapshot,
    expect = deviated,
    weight = 10,
    window = "Mon-Fri 09:00-15:00 Europe/Paris",
    min_interval = 1d,
    touches = ["pods.terminate in shop", "nodes.read"],
)]
async fn all_keys(cx: &Context) {
    steady_state! {
        probe "up" { 200u16 } => == 200;
    }
    method! {
        action "poke" { 1 };
    }
}

#[experiment()]
async fn no_keys(cx: &Context) {
    method! {
        action "poke" { 1 };
    }
}

#[experiment]
async fn no_parentheses(cx: &Context) {
    method! {
        action "poke" { 1 };
    }
}

#[experiment(hypothesis = default, rollbacks = always, ignore, snapshot = false, tags = [])]
async fn defaults(cx: &Context) {
    steady_state! {
        probe "up" { 200u16 } => == 200;
    }
}

#[experiment(hypothesis = before_method_only, rollbacks = never, expect = baseline_not_met)]
async fn before_method_only(cx: &Context) {
    steady_state! {
        probe "up" { 200u16 } => == 200;
    }
}

#[experiment(hypothesis = after_method_only, expect = activity_failed, timeout = 1.5s)]
async fn after_method_only(cx: &Context) {
    steady_state! {
        probe "up" { 200u16 } => == 200;
    }
}

#[experiment(hypothesis = during_method_only(every = 1s), expect = rollback_failed)]
async fn during_method_only(cx: &Context) {
    steady_state! {
        probe "up" { 200u16 } => == 200;
    }
    method! {
        action "poke" { 1 };
    }
}

// A method of pauses is enough: the steady state is sampled during them.
#[experiment(hypothesis = during_method_only(fail_fast), expect = aborted)]
async fn during_method_only_fail_fast(cx: &Context) {
    steady_state! {
        probe "up" { 200u16 } => == 200;
    }
    method! {
        pause 1s;
    }
}

#[experiment(group = "ec2-account_1")]
async fn in_a_group(cx: &Context) {
    method! {
        action "poke" { 1 };
    }
}

#[experiment(parallel, title = "runs alongside anything")]
async fn parallel(cx: &Context) {
    steady_state! {
        probe "up" { 200u16 } => == 200;
    }
}

#[experiment(hypothesis = continuously, expect = interrupted, timeout = 1h)]
async fn continuously(cx: &Context) {
    steady_state! {
        probe "up" { 200u16 } => == 200;
    }
}

#[experiment(hypothesis = continuously(), expect = error, timeout = 500ms,)]
async fn continuously_empty(cx: &Context) {
    steady_state! {
        probe "up" { 200u16 } => == 200;
    }
}

#[experiment(expect = passed)]
async fn expect_passed(cx: &Context) {
    steady_state! {
        probe "up" { 200u16 } => == 200;
    }
}

#[experiment(window = "always", min_interval = 90m)]
async fn always_with_an_interval(cx: &Context) {
    method! {
        action "poke" { 1 };
    }
}

#[experiment(window = "Mon-Fri 09:00-15:00 Europe/Pariss")]
async fn window_with_a_typo(cx: &Context) {
    method! {
        action "poke" { 1 };
    }
}

#[experiment(touches = ["pods.delete"])]
async fn touches_with_a_typo(cx: &Context) {
    method! {
        action "poke" { 1 };
    }
}

fn main() {
    for build in [
        all_keys as fn() -> _,
        no_keys,
        no_parentheses,
        defaults,
        before_method_only,
        after_method_only,
        during_method_only,
        during_method_only_fail_fast,
        continuously,
        continuously_empty,
        expect_passed,
        in_a_group,
        parallel,
        always_with_an_interval,
    ] {
        build().expect("the experiment builds");
    }
    assert_eq!(in_a_group().unwrap().concurrency().group(), Some("ec2-account_1"));
    assert_eq!(parallel().unwrap().concurrency().group(), None);
    assert_eq!(no_keys().unwrap().concurrency().group(), Some("default"));
    let all = all_keys().unwrap();
    assert_eq!(all.window().text().as_deref(), Some("Mon-Fri 09:00-15:00 Europe/Paris"));
    assert_eq!(all.min_interval(), Some(std::time::Duration::from_secs(86_400)));
    let always = always_with_an_interval().unwrap();
    assert_eq!(always.window(), &chaos_harness::schedule::RunWindow::Always);
    assert_eq!(always.min_interval(), Some(std::time::Duration::from_secs(5_400)));
    // The time zone database is the runtime's: a misspelled zone fails the build, named.
    let err = window_with_a_typo().unwrap_err().to_string();
    assert!(err.contains("`Europe/Pariss` is not an IANA time zone"), "{err}");
    let touches: Vec<String> = all.touches().iter().map(|t| t.to_string()).collect();
    assert_eq!(touches, ["pods.terminate in shop", "nodes.read"]);
    let err = touches_with_a_typo().unwrap_err().to_string();
    assert!(err.contains("unknown operation `pods.delete`; expected one of pods.read, pods.terminate"), "{err}");
}
