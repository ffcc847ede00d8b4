//! Watch streams: filters, transitions, expiry, deletions, clients that go away.

use super::client::*;
use crate::{cluster, Sim};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Reads a watch stream (it must end by `timeoutSeconds`) as events.
fn watch_events(sim: &Sim, path: &str) -> Vec<Value> {
    get(sim, path)
        .text()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or(Value::Null))
        .collect()
}

#[test]
fn watch_filters_and_transitions() {
    let sim = demo();
    sim.add_pods("demo", "other", 1, &[("app", "other")]);
    let rv = get(&sim, "/api/v1/namespaces/demo/pods").json()["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or("0")
        .to_string();
    let watcher = {
        let sim = sim.clone();
        let path = format!("/api/v1/namespaces/demo/pods?watch=true&labelSelector=app%3Dweb&resourceVersion={rv}&timeoutSeconds=1");
        std::thread::spawn(move || watch_events(&sim, &path))
    };
    let web0 = sim
        .list("pods", "demo")
        .into_iter()
        .find(|p| p["metadata"]["labels"]["app"] == "web")
        .and_then(|p| p["metadata"]["name"].as_str().map(str::to_string))
        .unwrap_or_default();
    sim.set_label("pods", "demo", "other-00000", "tier", "x"); // not selected: nothing
    sim.set_label("pods", "demo", &web0, "chaos", "yes"); // MODIFIED
    sim.set_label("pods", "demo", "other-00000", "app", "web"); // enters: ADDED
    sim.set_label("pods", "demo", "other-00000", "app", "gone"); // leaves: DELETED
    sim.add_pods("elsewhere", "p", 1, &[("app", "web")]); // other namespace: nothing
    let events = watcher.join().unwrap_or_default();
    let seen: Vec<(String, String)> = events
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap_or("").to_string(),
                e["object"]["metadata"]["name"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .filter(|(_, n)| n == &web0 || n == "other-00000")
        .collect();
    // The web pod was released by its ReplicaSet? No: "chaos" is an extra label, still selected.
    assert_eq!(
        seen,
        [
            ("MODIFIED".to_string(), web0.clone()),
            ("ADDED".to_string(), "other-00000".to_string()),
            ("DELETED".to_string(), "other-00000".to_string())
        ]
    );
    // Without resourceVersion: ADDED for each current object first; fieldSelector by name.
    let initial = watch_events(&sim, &format!("/api/v1/namespaces/demo/pods?watch=1&fieldSelector=metadata.name%3D{web0}&timeoutSeconds=1"));
    assert_eq!(initial.len(), 1);
    assert_eq!(initial[0]["type"], "ADDED");
    assert_eq!(initial[0]["object"]["kind"], "Pod");
    // sendInitialEvents ends the initial events with a bookmark.
    let streamed = watch_events(&sim, "/api/v1/nodes?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1");
    assert_eq!(streamed.len(), 4);
    assert_eq!(streamed[3]["type"], "BOOKMARK");
    assert_eq!(
        streamed[3]["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
}

#[test]
fn watch_from_a_compacted_version_expires() {
    let sim = Sim::start(fast()).expect("start");
    sim.add_pods("bulk", "p", cluster::HISTORY + 10, &[]);
    let events = watch_events(
        &sim,
        "/api/v1/pods?watch=true&resourceVersion=2&timeoutSeconds=1",
    );
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["type"], "ERROR");
    assert_eq!(events[0]["object"]["code"], 410);
    assert_eq!(events[0]["object"]["reason"], "Expired");
}

#[test]
fn watch_sees_deletion_of_a_terminating_pod() {
    let sim = demo();
    let name = sim.list("pods", "demo")[0]["metadata"]["name"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let list = get(
        &sim,
        &format!("/api/v1/namespaces/demo/pods?fieldSelector=metadata.name%3D{name}"),
    )
    .json();
    let rv = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or("0")
        .to_string();
    let watcher = {
        let sim = sim.clone();
        let path = format!("/api/v1/namespaces/demo/pods?watch=true&fieldSelector=metadata.name%3D{name}&resourceVersion={rv}&timeoutSeconds=1");
        std::thread::spawn(move || watch_events(&sim, &path))
    };
    std::thread::sleep(Duration::from_millis(50));
    let del = request(
        &sim,
        "DELETE",
        &format!("/api/v1/namespaces/demo/pods/{name}"),
        &[],
        None,
    );
    assert_eq!(del.status, 200);
    let types: Vec<String> = watcher
        .join()
        .unwrap_or_default()
        .iter()
        .map(|e| e["type"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(types.first().map(String::as_str), Some("MODIFIED"));
    assert_eq!(types.last().map(String::as_str), Some("DELETED"));
}

#[test]
fn watches_end_when_clients_go_away() {
    let sim = demo();
    let watchers = || sim.shared().cluster().store.watchers();
    assert_eq!(watchers(), 0);
    let mut s = TcpStream::connect(("127.0.0.1", sim.port())).expect("connect");
    s.write_all(b"GET /api/v1/pods?watch=true HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("write");
    let mut buf = [0u8; 4096];
    let n = s.read(&mut buf).expect("read");
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    wait_for("the watch subscribed", || watchers() == 1);
    drop(s);
    let first = sim.list("pods", "demo")[0]["metadata"]["name"]
        .as_str()
        .unwrap_or("")
        .to_string();
    sim.set_label("pods", "demo", &first, "poke", "1");
    wait_for("the watch ended", || watchers() == 0);
}
