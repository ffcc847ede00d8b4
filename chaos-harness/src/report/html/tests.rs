use super::story::Story;
use super::*;
use serde_json::{json, Value};

fn rec(name: &str, kind: &str, from_ms: u64, to_ms: u64, extra: Value) -> Value {
    let t = |ms: u64| format!("2026-12-05T10:00:{:02}.{:03}Z", ms / 1000, ms % 1000);
    let mut activity = json!({"type": kind, "name": name});
    let mut r = json!({
        "status": "succeeded", "output": null,
        "start": t(from_ms), "end": t(to_ms), "duration": (to_ms - from_ms) as f64 / 1000.0,
    });
    for (k, v) in extra.as_object().cloned().unwrap_or_default() {
        if k == "tolerance" || k == "background" || k == "pauses" {
            activity[&k] = v;
        } else {
            r[&k] = v;
        }
    }
    r["activity"] = activity;
    r
}

/// A deviated run of ours: the baseline holds, the sampled probe misses at 2.3 s, the
/// rollback runs.
fn deviated() -> Value {
    json!({
        "generator": "chaos-harness", "name": "shop::latency_holds", "outcome": "deviated",
        "experiment": {"title": "latency holds while a pod dies"},
        "status": "completed", "deviated": true, "seed": 42,
        "start": "2026-12-05T10:00:00Z", "duration": 4.0,
        "steady_states": {
            "before": {"steady_state_met": true, "probes": [
                rec("p99 latency", "probe", 10, 40, json!({"tolerance": "< 500", "tolerance_met": true, "output": 120}))]},
            "during": [
                {"steady_state_met": true, "probes": [rec("p99 latency", "probe", 1000, 1020, json!({"tolerance": "< 500", "tolerance_met": true, "output": 300}))]},
                {"steady_state_met": false, "probes": [rec("p99 latency", "probe", 2300, 2320, json!({"tolerance": "< 500", "tolerance_met": false, "output": 2300}))]},
            ],
            "after": {"steady_state_met": false, "probes": [
                rec("p99 latency", "probe", 3500, 3520, json!({"tolerance": "< 500", "tolerance_met": false, "output": 900}))]},
        },
        "run": [
            rec("kill a pod", "action", 100, 300, json!({"pauses": {"after": 0.5}})),
            rec("load <script>", "action", 100, 3000, json!({"background": true})),
            rec("wait", "pause", 800, 2800, json!({})),
        ],
        "rollbacks": [rec("restore", "action", 3600, 3900, json!({}))],
        "targets": [{"target": "k8s-pod", "selected": "shop/web-7", "from": 3}],
    })
}

#[test]
fn the_story_has_a_row_per_activity_and_findings_in_order() {
    let s = Story::read(&deviated());
    let rows: Vec<String> = s
        .rows
        .iter()
        .map(|r| format!("{} {} {}", r.phase.label(), r.name, r.marks.len()))
        .collect();
    assert_eq!(
        rows,
        [
            "before p99 latency 1",
            "method kill a pod 1",
            "method load <script> 1",
            "method wait 1",
            "during p99 latency 2",
            "after p99 latency 1",
            "rollback restore 1"
        ]
    );
    let findings: Vec<&str> = s.findings.iter().map(|f| f.text.as_str()).collect();
    assert_eq!(
        findings,
        [
            "steady state during the method: probe `p99 latency` missed its tolerance `< 500` (value 2300)",
            "steady state after the method: probe `p99 latency` missed its tolerance `< 500` (value 900)",
        ]
    );
    assert_eq!(
        s.findings[0].at,
        (4, 1),
        "the second sample of the sampled row"
    );
    assert_eq!(s.outcome, "deviated");
    assert_eq!(s.targets, ["target k8s-pod, from 3, selected shop/web-7"]);
    assert!(s.stop_at.is_none());
}

#[test]
fn the_page_holds_the_summary_the_timeline_and_the_text() {
    let page = Report::new("nightly <run>")
        .written_to("/r")
        .entry(
            Entry::new(deviated())
                .path("/r/journals/shop__latency_holds.json")
                .snapshot(false)
                .recent(vec![
                    Recent {
                        outcome: "passed".into(),
                        start: "2026-12-04T10:00:00Z".into(),
                    },
                    Recent {
                        outcome: "deviated".into(),
                        start: "2026-12-05T10:00:00Z".into(),
                    },
                ]),
        )
        .render();
    // Nothing from elsewhere, no script.
    assert!(!page.contains("<script"), "escaped: {page}");
    assert!(page.contains("load &lt;script&gt;"));
    assert!(page.contains("nightly &lt;run&gt;"));
    assert!(page.contains("default-src 'none'"));
    assert!(
        !page.contains("http://") || page.matches("http://").count() == 1,
        "only the SVG namespace"
    );
    // The summary: outcome in colour, symbol and words; duration; seed; link; snapshot; strip.
    assert!(page.contains(r#"<span class="outcome o-deviated">✗ deviated</span>"#));
    assert!(page.contains(r#"<a href="journals/shop__latency_holds.json" title="/r/journals/shop__latency_holds.json">journal</a>"#));
    assert!(page.contains("✗ differs"));
    assert!(page.contains(r#"title="passed 2026-12-04T10:00:00Z""#));
    assert!(
        page.contains(r#"<span class="o-deviated" title="deviated 2026-12-05T10:00:00Z">✗</span>"#)
    );
    assert!(page.contains("CHAOS_SEED=42"));
    assert!(page.contains("4.00 s"));
    // The timeline: the first finding has the id the browser test looks for, marks have
    // their value and tolerance on hover, the background activity and the pause are drawn.
    assert_eq!(page.matches(r#"id="finding0""#).count(), 1);
    assert!(page.contains("value: 2300\ntolerance: &lt; 500"));
    assert!(
        page.contains("stroke-dasharray=\"4 2\""),
        "the background activity"
    );
    assert!(page.contains("url(#hatch0)"), "pauses are hatched");
    assert!(page.contains("(background)"));
    // In text: the findings in words, each activity's result.
    assert!(page.contains("◀ first finding</span> steady state during the method: probe `p99 latency` missed its tolerance `&lt; 500` (value 2300)"));
    assert!(page.contains(
        "<td>missed its tolerance</td><td><code>900</code></td><td><code>&lt; 500</code></td>"
    ));
    assert!(page.contains("target k8s-pod, from 3, selected shop/web-7"));
}

#[test]
fn a_stopped_run_is_marked_where_it_stopped() {
    let mut j = deviated();
    j["outcome"] = json!("interrupted");
    j["status"] = json!("interrupted");
    j["stopped_by"] = json!("signal SIGINT");
    let s = Story::read(&j);
    assert_eq!(
        s.stop_at,
        Some(3000.0),
        "the end of the method's last activity"
    );
    let page = Report::new("r").entry(Entry::new(j)).render();
    assert!(page.contains(r#"<g id="stop0" data-at="#));
    assert!(page.contains("■ stopped: signal SIGINT"));
    assert!(page.contains("Stopped by</dt><dd>■ signal SIGINT"));
}

#[test]
fn a_chaos_toolkit_journal_reads_with_its_naive_times_and_failed_actions() {
    let j = json!({
        "chaoslib-version": "1.44.0", "status": "completed", "deviated": false,
        "experiment": {"title": "web survives"},
        "start": "2026-12-05T10:00:00.000000", "end": "2026-12-05T10:00:02.000000",
        "duration": 2.0,
        "steady_states": {"before": {"steady_state_met": true, "probes": [{
            "activity": {"type": "probe", "name": "up", "tolerance": 0},
            "status": "succeeded", "output": {"status": 0}, "tolerance_met": true,
            "start": "2026-12-05T10:00:00.100000", "end": "2026-12-05T10:00:00.200000", "duration": 0.1}]},
            "after": null, "during": []},
        "run": [{"activity": {"type": "action", "name": "boom"}, "status": "failed",
            "exception": ["Traceback (most recent call last):\n", "  File x\n", "chaoslib.exceptions.ActivityFailed: exit 3\n"],
            "start": "2026-12-05T10:00:01.000000", "end": "2026-12-05T10:00:01.500000", "duration": 0.5}],
        "rollbacks": []
    });
    let s = Story::read(&j);
    assert_eq!(s.outcome, "activity-failed");
    assert_eq!(s.source, "chaostoolkit");
    assert_eq!(s.name, "web survives");
    assert_eq!(s.rows[1].marks[0].start, 1000.0);
    assert_eq!(s.rows[1].marks[0].end, 1500.0);
    assert_eq!(
        s.findings[0].text,
        "method: action `boom` failed: chaoslib.exceptions.ActivityFailed: exit 3"
    );
    let page = Report::new("r").entry(Entry::new(j)).render();
    assert!(page.contains("Chaos Toolkit"));
    assert!(page.contains(r#"id="finding0""#));
}

#[test]
fn a_passed_run_has_no_finding_drawn() {
    let mut j = deviated();
    for p in ["during", "after"] {
        j["steady_states"][p] = json!(null);
    }
    j["steady_states"]["during"] = json!([]);
    j["outcome"] = json!("passed");
    let page = Report::new("r").entry(Entry::new(j)).render();
    assert!(!page.contains("finding0"));
    assert!(!page.contains(&format!("fill=\"{}\"", super::timeline::FINDING)));
    assert!(page.contains("None: every probe met its tolerance"));
}

#[test]
fn bad_journals_are_named_with_what_is_wrong() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        ("cut.json", "{\"experiment\": {", "not JSON, or cut short"),
        ("text.json", "hello", "not JSON ("),
        ("list.json", "[1, 2]", "the JSON is not an object"),
        (
            "other.json",
            "{\"experiment\": {}}",
            "it has no `status`, `run`",
        ),
    ];
    for (name, body, want) in cases {
        let p = dir.path().join(name);
        std::fs::write(&p, body).expect("write");
        let err = read_journal(&p).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("{}: not a journal: ", p.display())),
            "{err}"
        );
        assert!(err.contains(want), "{name}: {err}");
    }
    let err = read_journal(&dir.path().join("missing.json")).unwrap_err();
    assert!(matches!(err, JournalError::Read { .. }), "{err}");
}
