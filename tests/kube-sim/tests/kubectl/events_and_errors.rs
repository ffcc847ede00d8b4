//! Events from both APIs through kubectl, and API errors: not found, a retried 429, a 500.

use crate::harness::*;
use kube_sim::{Fault, Sim};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// POSTs JSON with a hand-written HTTP/1.1 request; (status, body).
fn post_json(sim: &Sim, path: &str, body: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", sim.port())).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).expect("write");
    let mut raw = String::new();
    s.read_to_string(&mut raw).expect("read");
    let status = raw
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write manifest");
    p
}

#[test]
fn events_from_both_apis() {
    let Some(c) = cluster() else { return };
    let pod = name(&c.sim.list("pods", "demo")[0]);
    let event = serde_json::json!({
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": "chaos-kill.1", "namespace": "demo"},
        "regarding": {"apiVersion": "v1", "kind": "Pod", "name": pod, "namespace": "demo"},
        "note": "pod killed by experiment web-pod-loss",
        "reason": "ChaosPodKilled",
        "type": "Warning",
        "action": "Kill",
        "eventTime": "2025-01-01T00:00:00.000000Z",
        "reportingController": "chaos-harness",
        "reportingInstance": "chaos-harness-1",
    });
    let (status, body) = post_json(
        &c.sim,
        "/apis/events.k8s.io/v1/namespaces/demo/events",
        &event.to_string(),
    );
    assert_eq!(status, 201, "{body}");

    let manifest = "apiVersion: v1\nkind: Event\nmetadata:\n  name: core-event\n  namespace: demo\n\
         involvedObject:\n  kind: Deployment\n  name: web\n  namespace: demo\n\
         reason: ChaosRollback\nmessage: rollback done\ntype: Normal\nsource:\n  component: chaos-harness\n";
    let file = write_file(&c.home, "event.yaml", manifest);
    let created = c.ok(&["create", "-f", &file.display().to_string()]);
    assert!(created.contains("event/core-event created"), "{created}");

    let table = c.ok(&["get", "events", "-n", "demo"]);
    assert!(table.contains("ChaosPodKilled"), "{table}");
    assert!(
        table.contains("pod killed by experiment web-pod-loss"),
        "{table}"
    );
    assert!(table.contains(&format!("pod/{pod}")), "{table}");
    assert!(
        table.contains("ChaosRollback") && table.contains("deployment/web"),
        "{table}"
    );
    let v1 = c.json(&[
        "get",
        "events.v1.events.k8s.io",
        "-n",
        "demo",
        "--field-selector",
        "reason=ChaosRollback",
    ]);
    assert_eq!(v1["items"][0]["note"], "rollback done");
    assert_eq!(v1["items"][0]["regarding"]["name"], "web");

    let events = c.sim.events("demo");
    assert_eq!(events.len(), 2);
    assert!(events
        .iter()
        .any(|e| e["note"] == "pod killed by experiment web-pod-loss"));
    let core = c
        .sim
        .get("events", "demo", "chaos-kill.1")
        .unwrap_or_default();
    assert_eq!(core["message"], "pod killed by experiment web-pod-loss");
    assert_eq!(core["involvedObject"]["name"], pod.as_str());
}

#[test]
fn not_found_and_retried_429() {
    let Some(c) = cluster() else { return };
    let missing = c.run(&["get", "pod", "nope", "-n", "demo"]);
    assert!(!missing.success);
    assert!(missing.stderr.contains("NotFound"), "{missing:?}");
    assert!(
        missing.stderr.contains("pods \"nope\" not found"),
        "{missing:?}"
    );

    // client-go retries 429 answers that carry Retry-After (here 1 s).
    c.sim
        .inject(Fault::status(Some("GET"), "/pods", 429, Some(1)));
    c.sim.clear_requests();
    let started = Instant::now();
    let out = c.run(&["get", "pods", "-n", "demo"]);
    assert!(out.success, "{out:?}");
    assert_eq!(out.stdout.matches("Running").count(), 3, "{out:?}");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "the retry honoured Retry-After"
    );
    let statuses: Vec<u16> = c
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.path == "/api/v1/namespaces/demo/pods")
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [429, 200]);

    // A persistent 500 is reported, not retried forever.
    c.sim
        .inject(Fault::status(Some("GET"), "/nodes", 500, None));
    let broken = c.run(&["get", "nodes"]);
    assert!(!broken.success);
    assert!(
        broken.stderr.contains("InternalError") || broken.stderr.contains("Internal error"),
        "{broken:?}"
    );
}
