use super::{score, summarize, Run, Store};
use serde_json::json;

fn probe(name: &str, met: bool, start: &str) -> serde_json::Value {
    json!({"activity": {"type": "probe", "name": name}, "output": 640, "status": "succeeded",
           "start": start, "tolerance_met": met})
}

#[test]
fn a_journal_of_ours_gives_counts_findings_and_the_time_to_recover() {
    let j = json!({
        "name": "shop::latency", "outcome": "deviated", "start": "2026-12-05T10:00:00+00:00",
        "duration": 2.5, "seed": 18446744073709551615u64,
        "experiment": {"runtime": {"weight": 7}},
        "steady_states": {
            "before": {"steady_state_met": true, "probes": [probe("p50", true, "2026-12-05T10:00:00+00:00")]},
            "during": [
                {"steady_state_met": true, "probes": [probe("p50", true, "2026-12-05T10:00:01+00:00")]},
                {"steady_state_met": false, "probes": [probe("p50", false, "2026-12-05T10:00:01.500+00:00")]},
                {"steady_state_met": false, "probes": [probe("p50", false, "2026-12-05T10:00:02+00:00")]},
                {"steady_state_met": true, "probes": [probe("p50", true, "2026-12-05T10:00:03.800+00:00")]}
            ],
            "after": {"steady_state_met": true, "probes": [probe("p50", true, "2026-12-05T10:00:04+00:00")]}
        },
        "run": [{"activity": {"type": "action", "name": "kill"}, "status": "failed", "exception": ["boom", "more"]}],
        "rollbacks": []
    });
    let run = Run::from_journal(&j, Some("/j.json".into()), Some("abc".into()));
    assert_eq!(run.experiment, "shop::latency");
    assert_eq!(run.outcome, "deviated");
    assert_eq!(run.duration_ms, Some(2500));
    assert_eq!(run.seed, Some(u64::MAX));
    assert_eq!((run.probes, run.probes_met), (6, 4));
    assert_eq!(run.probe_success(), 66);
    assert_eq!(run.recovery_ms, Some(2300));
    assert_eq!(run.weight, 7);
    assert_eq!(
        run.findings,
        [
            "during the method: probe `p50` missed its tolerance (value 640)",
            "during the method: probe `p50` missed its tolerance (value 640)",
            "method: action `kill` failed: boom"
        ]
    );
    // Stored and read back whole, a u64 seed included.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(&dir.path().join("h/history.sqlite")).expect("open");
    store.append(&run).expect("append");
    assert_eq!(store.runs(Some("shop::latency")).expect("runs"), [run]);
    assert!(store.runs(Some("other")).expect("runs").is_empty());
}

#[test]
fn chaos_toolkit_journals_get_our_outcomes_and_their_title() {
    let ctk = |status: &str, deviated: bool, before: bool| {
        json!({"experiment": {"title": "pods come back"}, "start": "2026-12-05T10:00:00.123456",
               "status": status, "deviated": deviated, "duration": 1.0,
               "steady_states": {"before": {"steady_state_met": before, "probes": []}, "after": null, "during": []},
               "run": [], "rollbacks": []})
    };
    for (status, deviated, before, outcome) in [
        ("completed", false, true, "passed"),
        ("completed", false, false, "baseline-not-met"),
        ("failed", true, true, "deviated"),
        ("aborted", false, true, "aborted"),
        ("interrupted", false, true, "interrupted"),
    ] {
        let r = Run::from_journal(&ctk(status, deviated, before), None, None);
        assert_eq!(
            (r.experiment.as_str(), r.outcome.as_str()),
            ("pods come back", outcome)
        );
        assert_eq!(r.source, "chaostoolkit");
        assert_eq!(r.seed, None);
    }
}

#[test]
fn summaries_and_the_score() {
    let run = |name: &str, outcome: &str, weight: i64, probes: (i64, i64)| Run {
        experiment: name.into(),
        outcome: outcome.into(),
        start: String::new(),
        duration_ms: None,
        seed: None,
        findings: vec![],
        revision: Some("r1".into()),
        journal: None,
        probes: probes.0,
        probes_met: probes.1,
        recovery_ms: None,
        weight,
        source: "chaos-harness".into(),
    };
    // Litmus 2.x docs: weights 3 and 9, every probe passed: 1200 / 12 = 100.
    let runs = [
        run("exp1", "passed", 3, (2, 2)),
        run("exp2", "passed", 9, (1, 1)),
    ];
    let s = summarize(&runs, 5);
    let parts: Vec<(i64, i64)> = s.iter().map(|s| (s.weight, s.probe_success)).collect();
    assert_eq!(parts, [(3, 100), (9, 100)]);
    assert_eq!(score(&parts), 100.0);
    // Cut, not rounded: (0 + 400 + 600) / 14 = 71.428...; 66 from 2 of 3 (integer division).
    let runs = [
        run("a", "deviated", 2, (1, 0)),
        run("b", "passed", 4, (2, 2)),
        run("c", "deviated", 8, (4, 3)),
    ];
    let parts: Vec<(i64, i64)> = summarize(&runs, 5)
        .iter()
        .map(|s| (s.weight, s.probe_success))
        .collect();
    assert_eq!(score(&parts), 71.42);
    assert_eq!(score(&[(10, 66), (5, 100)]), 77.33);
    assert_eq!(score(&[(0, 100)]), 0.0);
}

#[test]
fn the_last_outcomes_of_one_experiment_oldest_first() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(&dir.path().join("h.sqlite")).expect("store");
    for (i, outcome) in ["passed", "deviated", "passed", "error"].iter().enumerate() {
        let j = json!({"name": "a::b", "outcome": outcome, "start": format!("2026-12-0{}T10:00:00Z", i + 1),
                       "experiment": {}, "run": [], "rollbacks": []});
        store
            .append(&Run::from_journal(&j, None, None))
            .expect("append");
    }
    let j = json!({"name": "other", "outcome": "passed", "start": "2026-12-09T10:00:00Z", "experiment": {}});
    store
        .append(&Run::from_journal(&j, None, None))
        .expect("append");
    let recent = store.recent("a::b", 3).expect("recent");
    let outcomes: Vec<&str> = recent.iter().map(|(o, _)| o.as_str()).collect();
    assert_eq!(outcomes, ["deviated", "passed", "error"]);
    assert_eq!(recent[2].1, "2026-12-04T10:00:00Z");
    assert!(store.recent("nobody", 3).expect("recent").is_empty());
}

/// Sixteen connections claiming the same start at once: one is granted, the others see its
/// start; a run in the history counts as a start too.
#[test]
fn one_claim_per_interval_across_connections() {
    use super::Claim;
    use std::time::Duration;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.sqlite");
    Store::open(&path).unwrap();
    let now: jiff::Timestamp = "2026-12-07T09:00:00Z".parse().unwrap();
    let hour = Duration::from_secs(3600);
    let claims: Vec<Claim> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|_| {
                let path = &path;
                s.spawn(move || Store::open(path).unwrap().claim("x", hour, now).unwrap())
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let granted = claims.iter().filter(|c| **c == Claim::Granted).count();
    assert_eq!(granted, 1, "{claims:?}");
    let mut store = Store::open(&path).unwrap();
    assert_eq!(store.last_start("x").unwrap(), Some(now));
    // An hour later the interval is over.
    let later = now
        .checked_add(jiff::SignedDuration::from_hours(1))
        .unwrap();
    assert_eq!(store.claim("x", hour, later).unwrap(), Claim::Granted);
    // A run recorded in the history (no claim of its own) counts.
    let journal = serde_json::json!({
        "name": "y", "outcome": "passed", "start": "2026-12-07T10:30:00+01:00",
        "steady_states": {}, "run": [], "rollbacks": [], "experiment": {}
    });
    store
        .append(&Run::from_journal(&journal, None, None))
        .unwrap();
    let Claim::TooSoon { last, next } = store.claim("y", hour, later).unwrap() else {
        panic!("the run at 09:30Z is within the hour")
    };
    assert_eq!(last.to_string(), "2026-12-07T09:30:00Z");
    assert_eq!(next.to_string(), "2026-12-07T10:30:00Z");
}
