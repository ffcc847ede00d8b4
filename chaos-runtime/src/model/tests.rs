use super::*;
use std::time::Duration;

fn action(name: &str) -> Activity {
    Action::new(name, |_| async { Ok(()) }).into()
}

#[test]
fn builder_rejects_what_the_macro_rejects() {
    let e = Experiment::builder("t::empty").build().unwrap_err();
    assert_eq!(e, ExperimentError::Empty("t::empty".into()));

    let e = Experiment::builder("t::dup")
        .method(action("a"))
        .rollback(action("a"))
        .build()
        .unwrap_err();
    assert!(matches!(e, ExperimentError::DuplicateActivity { ref name, .. } if name == "a"));

    let e = Experiment::builder("t::tol")
        .steady_state(Probe::new("p", |_| async { Ok(1) }))
        .build()
        .unwrap_err();
    assert!(matches!(
        e,
        ExperimentError::SteadyStateWithoutTolerance { .. }
    ));

    let e = Experiment::builder("t::bg")
        .method(action("m"))
        .rollback(Action::new("r", |_| async { Ok(()) }).background())
        .build()
        .unwrap_err();
    assert!(matches!(e, ExperimentError::BackgroundOutsideMethod { .. }));

    let e = Experiment::builder("t::freq")
        .hypothesis(Hypothesis::Continuously {
            every: Duration::ZERO,
            fail_fast: false,
        })
        .method(action("m"))
        .build()
        .unwrap_err();
    assert_eq!(e, ExperimentError::ZeroFrequency("t::freq".into()));

    // Pauses may repeat: they are not named by the user.
    Experiment::builder("t::pauses")
        .method(Activity::pause(Duration::from_millis(1)))
        .method(action("a"))
        .method(Activity::pause(Duration::from_millis(1)))
        .build()
        .unwrap();
}

fn probe(name: &str) -> Activity {
    Probe::new(name, |_| async { Ok(1) })
        .tolerance("== 1", |v| *v == 1)
        .into()
}

fn pause() -> Activity {
    Activity::pause(Duration::from_millis(1))
}

#[test]
fn an_experiment_that_can_check_nothing_is_rejected() {
    let during = Hypothesis::DuringMethodOnly {
        every: Duration::from_secs(1),
        fail_fast: false,
    };
    // Sampled only while the method runs, and there is no method: never evaluated.
    let e = Experiment::builder("t::during")
        .hypothesis(during)
        .steady_state(probe("p"))
        .rollback(action("r"))
        .build()
        .unwrap_err();
    assert_eq!(
        e,
        ExperimentError::ChecksNothing {
            experiment: "t::during".into(),
            why: Unchecked::NoMethodToSampleDuring,
        }
    );
    let msg = e.to_string();
    assert!(msg.starts_with("experiment `t::during` checks nothing: its hypothesis `during-method-only` samples the steady state only while the method runs, and it has no method; add a method"), "{msg}");

    // No steady state and a method that cannot fail.
    let e = Experiment::builder("t::pauses")
        .method(pause())
        .build()
        .unwrap_err();
    assert_eq!(
        e,
        ExperimentError::ChecksNothing {
            experiment: "t::pauses".into(),
            why: Unchecked::NothingButPauses,
        }
    );

    // Every combination that does check something builds.
    let strategies = [
        Hypothesis::Default,
        Hypothesis::BeforeMethodOnly,
        Hypothesis::AfterMethodOnly,
        during,
        Hypothesis::Continuously {
            every: Duration::from_secs(1),
            fail_fast: true,
        },
    ];
    for h in strategies {
        // A steady state and a method (even of pauses only: it is sampled during them).
        Experiment::builder("t::both")
            .hypothesis(h)
            .steady_state(probe("p"))
            .method(pause())
            .build()
            .unwrap();
        // A method that can fail, without a steady state.
        Experiment::builder("t::method")
            .hypothesis(h)
            .method(pause())
            .method(action("a"))
            .build()
            .unwrap();
        // A steady state alone is checked before and/or after by every other strategy.
        let r = Experiment::builder("t::steady")
            .hypothesis(h)
            .steady_state(probe("p"))
            .build();
        assert_eq!(r.is_err(), h == during, "{h:?}");
    }
}

#[test]
fn experiments_are_in_the_default_group_unless_told() {
    let base = || Experiment::builder("t::g").method(action("a"));
    assert_eq!(
        base().build().unwrap().concurrency(),
        &Concurrency::Group(DEFAULT_GROUP.into())
    );
    let exp = base().group("ec2").build().unwrap();
    assert_eq!(exp.concurrency().group(), Some("ec2"));
    assert_eq!(exp.to_json()["runtime"]["group"], "ec2");
    let exp = base().parallel().build().unwrap();
    assert_eq!(exp.concurrency(), &Concurrency::Parallel);
    assert!(exp.to_json()["runtime"]["group"].is_null());

    for bad in ["", "a/b", "..", "has space"] {
        let e = base().group(bad).build().unwrap_err();
        assert_eq!(
            e,
            ExperimentError::BadGroup {
                experiment: "t::g".into(),
                group: bad.into()
            }
        );
    }
    let e = base().group("ec2").parallel().build().unwrap_err();
    assert_eq!(
        e.to_string(),
        "experiment `t::g` is both in exclusion group `ec2` and parallel: keep one (a parallel experiment runs alongside any other)"
    );
}

#[test]
fn describe_uses_chaos_toolkit_keys() {
    let exp = Experiment::builder("t::d")
        .title("T")
        .tags(["x"])
        .hypothesis(Hypothesis::DuringMethodOnly {
            every: Duration::from_millis(250),
            fail_fast: true,
        })
        .steady_state(
            Probe::new("p", |_| async { Ok(1) })
                .tolerance("== 1", |v| *v == 1)
                .timeout(Duration::from_secs(3)),
        )
        .method(
            Action::new("a", |_| async { Ok(()) })
                .pause_before(Duration::from_millis(100))
                .background(),
        )
        .build()
        .unwrap();
    let d = exp.to_json();
    assert_eq!(d["title"], "T");
    assert_eq!(
        d["steady-state-hypothesis"]["probes"][0]["tolerance"],
        "== 1"
    );
    assert_eq!(d["steady-state-hypothesis"]["probes"][0]["timeout"], 3.0);
    assert_eq!(d["method"][0]["pauses"]["before"], 0.1);
    assert_eq!(d["method"][0]["background"], true);
    assert_eq!(d["runtime"]["hypothesis"]["strategy"], "during-method-only");
    assert_eq!(d["runtime"]["hypothesis"]["frequency"], 0.25);
    assert_eq!(d["runtime"]["hypothesis"]["fail_fast"], true);
    assert_eq!(d["runtime"]["group"], "default");
}
