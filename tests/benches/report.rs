//! FIGURE (issue 13, 1): the HTML report's render time and size. A run of 50 experiments with
//! 20 activities each (4 probes before, 8 method activities with a pause and a background
//! action, 4 samples during, 2 probes after, 2 rollbacks; one experiment in seven deviates),
//! rendered in-process as the harness renders it after a run: from the journals as they are
//! in memory, and from the 50 journal files on disk (read and checked, then rendered). Then the
//! size of the page per experiment, and of a page of one experiment with 50 activities.
//!
//! `cargo bench -p chaos-tests --bench report` (`CHAOS_BENCH_RUNS=N` renders, default 30); the
//! debug build a `cargo test` harness runs: `cargo test -p chaos-tests --bench report`.

mod common;

use chaos_harness::html::{read_journal, Entry, Recent, Report};
use common::{median, ms, percentile, runs};
use serde_json::{json, Value};
use std::time::Instant;

fn time(ms: u64) -> String {
    format!(
        "2026-12-05T10:{:02}:{:02}.{:03}000+00:00",
        ms / 60_000,
        ms / 1000 % 60,
        ms % 1000
    )
}

fn record(kind: &str, name: &str, at: u64, took: u64, output: Value, met: Option<bool>) -> Value {
    let mut activity = json!({"type": kind, "name": name, "provider": {"type": "rust"}});
    let mut r = json!({
        "activity": {}, "output": output, "status": "succeeded",
        "start": time(at), "end": time(at + took), "duration": took as f64 / 1000.0,
    });
    if let Some(met) = met {
        activity["tolerance"] = json!("in 200..=299");
        r["tolerance_met"] = json!(met);
    }
    if kind == "pause" {
        activity["seconds"] = json!(took as f64 / 1000.0);
        r["output"] = Value::Null;
    }
    r["activity"] = activity;
    r
}

/// Experiment `i` with `n` activities (a multiple of 10).
fn journal(i: usize, n: usize) -> Value {
    let k = n / 10;
    let deviates = i % 7 == 3;
    let body = |j: usize| json!({"status": 200 + j % 3, "body": format!("{{\"ok\":true,\"replicas\":{j},\"zone\":\"eu-west-1a\"}}")});
    let probes = |from: u64, count: usize, miss: bool| -> Vec<Value> {
        (0..count)
            .map(|j| {
                record(
                    "probe",
                    &format!("checkout answers within 300 ms #{j}"),
                    from + j as u64 * 40,
                    35,
                    body(j),
                    Some(!(miss && j == 0)),
                )
            })
            .collect()
    };
    let mut method = Vec::new();
    for j in 0..4 * k {
        let at = 400 + j as u64 * 500;
        method.push(match j % 4 {
            1 => record(
                "pause",
                &format!("let it settle {j}"),
                at,
                400,
                Value::Null,
                None,
            ),
            3 => {
                let mut r = record(
                    "action",
                    &format!("background load {j}"),
                    at,
                    1800,
                    body(j),
                    None,
                );
                r["activity"]["background"] = json!(true);
                r
            }
            _ => record(
                "action",
                &format!("terminate one pod of deployment shop/checkout ({j})"),
                at,
                120,
                body(j),
                None,
            ),
        });
    }
    let during: Vec<Value> = (0..2 * k)
        .map(|j| json!({"steady_state_met": !(deviates && j == 1),
            "probes": [record("probe", "checkout answers within 300 ms", 600 + j as u64 * 900, 30, body(j), Some(!(deviates && j == 1)))]}))
        .collect();
    let end = 400 + 4 * k as u64 * 500 + 2000;
    json!({
        "generator": "chaos-harness", "name": format!("shop::experiment_{i:02}"),
        "outcome": if deviates { "deviated" } else { "passed" },
        "experiment": {"title": format!("checkout survives pod loss {i}")},
        "status": "completed", "deviated": deviates, "seed": 1_000_003u64 * i as u64,
        "start": time(0), "end": time(end + 800), "duration": (end + 800) as f64 / 1000.0,
        "steady_states": {
            "before": {"steady_state_met": true, "probes": probes(0, 2 * k, false)},
            "during": during,
            "after": {"steady_state_met": !deviates, "probes": probes(end, k, deviates)},
        },
        "run": method,
        "rollbacks": (0..k).map(|j| record("action", &format!("restore replicas {j}"), end + 200 + j as u64 * 100, 90, body(j), None)).collect::<Vec<_>>(),
        "targets": [{"target": "k8s-pod", "selected": format!("shop/checkout-{i}-7f9c"), "from": 3}],
    })
}

fn recent(i: usize) -> Vec<Recent> {
    (0..10)
        .map(|r| Recent {
            outcome: if (i + r) % 7 == 3 {
                "deviated"
            } else {
                "passed"
            }
            .into(),
            start: format!("2026-12-{:02}T10:00:00Z", r + 1),
        })
        .collect()
}

fn main() {
    let n = runs(30);
    let journals: Vec<Value> = (0..50).map(|i| journal(i, 20)).collect();
    let count = |j: &Value| {
        let ss = &j["steady_states"];
        ss["before"]["probes"].as_array().map_or(0, Vec::len)
            + j["run"].as_array().map_or(0, Vec::len)
            + ss["during"].as_array().map_or(0, Vec::len)
            + ss["after"]["probes"].as_array().map_or(0, Vec::len)
            + j["rollbacks"].as_array().map_or(0, Vec::len)
    };
    assert_eq!(count(&journals[0]), 20);
    let dir = tempfile::tempdir().expect("tempdir");
    let paths: Vec<_> = journals
        .iter()
        .enumerate()
        .map(|(i, j)| {
            let p = dir.path().join(format!("shop__experiment_{i:02}.json"));
            std::fs::write(&p, serde_json::to_vec_pretty(j).expect("json")).expect("write");
            p
        })
        .collect();
    let build = |js: Vec<Value>| {
        js.into_iter().enumerate().fold(
            Report::new("nightly").written_to(dir.path()),
            |r, (i, j)| r.entry(Entry::new(j).path(&paths[i]).recent(recent(i))),
        )
    };
    let mut in_memory = Vec::new();
    let mut from_disk = Vec::new();
    let mut page = String::new();
    for _ in 0..n {
        let report = build(journals.clone());
        let t = Instant::now();
        page = report.render();
        in_memory.push(ms(t.elapsed()));
        let t = Instant::now();
        let js: Vec<Value> = paths
            .iter()
            .map(|p| read_journal(p).expect("journal"))
            .collect();
        let page2 = build(js).render();
        from_disk.push(ms(t.elapsed()));
        assert_eq!(page2.len(), page.len());
    }
    let one50 = Report::new("one")
        .entry(Entry::new(journal(3, 50)).recent(recent(3)))
        .render();
    assert_eq!(count(&journal(3, 50)), 50);
    println!("HTML report, 50 experiments x 20 activities, {n} renders");
    println!(
        "  render (journals in memory):      median {:.2} ms, p90 {:.2} ms",
        median(&in_memory),
        percentile(&in_memory, 90.0)
    );
    println!(
        "  read 50 journal files + render:   median {:.2} ms, p90 {:.2} ms",
        median(&from_disk),
        percentile(&from_disk, 90.0)
    );
    println!(
        "  page: {:.1} KB in all, {:.1} KB per 20-activity experiment",
        page.len() as f64 / 1000.0,
        page.len() as f64 / 1000.0 / 50.0
    );
    println!(
        "  one experiment with 50 activities (one deviated, page included): {:.1} KB",
        one50.len() as f64 / 1000.0
    );
}
