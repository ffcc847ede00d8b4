//! HTTP-level tests of the simulation, with a minimal HTTP/1.1 client.

use super::*;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;

struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = raw.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size_line = String::from_utf8_lossy(&raw[..eol]).to_string();
        let size = usize::from_str_radix(size_line.split(';').next().unwrap_or("0").trim(), 16)
            .unwrap_or(0);
        raw = &raw[eol + 2..];
        if size == 0 || raw.len() < size {
            return out;
        }
        out.extend_from_slice(&raw[..size]);
        raw = &raw[(size + 2).min(raw.len())..];
    }
}

fn request(
    sim: &Sim,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Resp {
    let mut s = TcpStream::connect(("127.0.0.1", sim.port())).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    let body = body.unwrap_or("");
    if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).expect("write");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers end");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let rest = &raw[split + 4..];
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_vec()
    };
    Resp {
        status,
        headers,
        body,
    }
}

fn get(sim: &Sim, path: &str) -> Resp {
    request(sim, "GET", path, &[], None)
}

fn fast() -> SimConfig {
    SimConfig {
        replace_delay: Duration::from_millis(60),
        ready_delay: Duration::from_millis(40),
        max_termination: Duration::from_millis(30),
    }
}

fn demo() -> Sim {
    let sim = Sim::start(fast()).expect("start");
    sim.seed_demo();
    sim
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|i| i["metadata"]["name"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(5);
    while Instant::now() < end {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("timed out waiting for {what}");
}

#[test]
fn discovery() {
    let sim = demo();
    let v = get(&sim, "/version").json();
    assert_eq!(v["gitVersion"], "v1.32.0-kube-sim");
    assert_eq!(v["minor"], "32");
    assert_eq!(get(&sim, "/api").json()["versions"], json!(["v1"]));
    let core = get(&sim, "/api/v1").json();
    assert_eq!(core["kind"], "APIResourceList");
    let pods = core["resources"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["name"] == "pods"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(pods["shortNames"], json!(["po"]));
    assert_eq!(pods["namespaced"], true);
    let groups = get(&sim, "/apis").json();
    let gnames: Vec<&str> = groups["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|g| g["name"].as_str())
        .collect();
    assert_eq!(gnames, ["apps", "events.k8s.io", "policy"]);
    let apps = get(&sim, "/apis/apps/v1").json();
    let scale = apps["resources"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["name"] == "deployments/scale"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (scale["group"].as_str(), scale["kind"].as_str()),
        (Some("autoscaling"), Some("Scale"))
    );
    let nf = get(&sim, "/openapi/v2");
    assert_eq!(nf.status, 404);
    assert_eq!(nf.json()["kind"], "Status");
    assert_eq!(get(&sim, "/apis/batch/v1").status, 404);
    assert_eq!(get(&sim, "/api/v1/namespaces/demo/widgets").status, 404);
    assert_eq!(get(&sim, "/healthz").text(), "ok");
}

#[test]
fn objects_lists_and_selectors() {
    let sim = demo();
    let list = get(&sim, "/api/v1/namespaces/demo/pods?labelSelector=app%3Dweb").json();
    assert_eq!(list["kind"], "PodList");
    assert_eq!(list["apiVersion"], "v1");
    assert_eq!(names(&list).len(), 3);
    assert!(list["metadata"]["resourceVersion"]
        .as_str()
        .is_some_and(|rv| rv.parse::<u64>().is_ok()));
    assert_eq!(list["items"][0]["kind"], "Pod");
    let set_based = get(
        &sim,
        "/api/v1/pods?labelSelector=tier+in+%28frontend%2Cbackend%29,app",
    )
    .json();
    assert_eq!(names(&set_based).len(), 3);
    let none = get(
        &sim,
        "/api/v1/namespaces/demo/pods?labelSelector=tier+notin+%28frontend%29",
    )
    .json();
    assert_eq!(names(&none).len(), 0);
    let node = sim.list("pods", "demo")[0]["spec"]["nodeName"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let on_node = get(
        &sim,
        &format!("/api/v1/pods?fieldSelector=spec.nodeName%3D{node},status.phase%3DRunning"),
    )
    .json();
    assert_eq!(names(&on_node).len(), 1);
    let not_running = get(&sim, "/api/v1/pods?fieldSelector=status.phase!%3DRunning").json();
    assert_eq!(names(&not_running).len(), 0);
    let bad = get(&sim, "/api/v1/pods?fieldSelector=spec.foo%3Dx");
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["message"], "field label not supported: spec.foo");
    assert_eq!(bad.json()["reason"], "BadRequest");
    assert_eq!(get(&sim, "/api/v1/pods?labelSelector=a+in+b").status, 400);
    let cordoned = get(
        &sim,
        "/api/v1/nodes?fieldSelector=spec.unschedulable%3Dfalse",
    )
    .json();
    assert_eq!(names(&cordoned), ["node-1", "node-2", "node-3"]);
    let d = get(&sim, "/apis/apps/v1/namespaces/demo/deployments/web").json();
    assert_eq!(d["kind"], "Deployment");
    assert_eq!(d["apiVersion"], "apps/v1");
    assert_eq!(d["status"]["readyReplicas"], 3);
    let all = get(&sim, "/apis/apps/v1/deployments").json();
    assert_eq!(all["kind"], "DeploymentList");
    let missing = get(&sim, "/api/v1/namespaces/demo/pods/nope");
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.json(),
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": "pods \"nope\" not found", "reason": "NotFound", "details": {"name": "nope", "kind": "pods"}, "code": 404})
    );
    let missing = get(&sim, "/apis/apps/v1/namespaces/demo/deployments/nope").json();
    assert_eq!(missing["message"], "deployments.apps \"nope\" not found");
}

#[test]
fn paging_over_http() {
    let sim = Sim::start(fast()).expect("start");
    sim.add_pods("bulk", "p", 1234, &[("app", "bulk")]);
    let mut seen = Vec::new();
    let mut cont = String::new();
    let mut pages = 0;
    loop {
        let path = format!("/api/v1/namespaces/bulk/pods?limit=500&continue={cont}");
        let page = get(&sim, &path).json();
        pages += 1;
        seen.extend(names(&page));
        match page["metadata"]["continue"].as_str() {
            Some(c) if !c.is_empty() => {
                assert_eq!(page["metadata"]["remainingItemCount"], 1234 - seen.len());
                cont = c.to_string();
            }
            _ => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 1234);
    assert_eq!(seen[0], "p-00000");
    assert_eq!(seen[1233], "p-01233");
    let bad = get(
        &sim,
        "/api/v1/namespaces/bulk/pods?limit=5&continue=garbage!",
    );
    assert_eq!(bad.status, 400);
    // Tables page too.
    let t = request(
        &sim,
        "GET",
        "/api/v1/namespaces/bulk/pods?limit=2",
        &[(
            "Accept",
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
        )],
        None,
    )
    .json();
    assert_eq!(t["kind"], "Table");
    assert_eq!(t["rows"].as_array().map(Vec::len), Some(2));
    assert!(t["metadata"]["continue"].is_string());
    assert_eq!(t["rows"][0]["cells"][2], "Running");
    assert_eq!(t["rows"][0]["object"]["kind"], "PartialObjectMetadata");
}

#[test]
fn writes_over_http() {
    let sim = demo();
    let json_ct = [("Content-Type", "application/json")];
    let pod = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"generateName":"bare-","labels":{"x":"1"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}"#;
    let created = request(
        &sim,
        "POST",
        "/api/v1/namespaces/demo/pods",
        &json_ct,
        Some(pod),
    );
    assert_eq!(created.status, 201);
    let created = created.json();
    let name = created["metadata"]["name"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(name.starts_with("bare-"));
    assert_eq!(created["status"]["phase"], "Pending");
    assert!(created["spec"]["nodeName"].is_string(), "scheduled at once");
    let dup = format!(r#"{{"metadata":{{"name":"{name}"}}}}"#);
    let again = request(
        &sim,
        "POST",
        "/api/v1/namespaces/demo/pods",
        &json_ct,
        Some(&dup),
    );
    assert_eq!(
        (again.status, again.json()["reason"].as_str()),
        (409, Some("AlreadyExists"))
    );
    let no_ns = request(
        &sim,
        "POST",
        "/api/v1/namespaces/nope/pods",
        &json_ct,
        Some(pod),
    );
    assert_eq!(no_ns.json()["message"], "namespaces \"nope\" not found");
    let garbage = request(
        &sim,
        "POST",
        "/api/v1/namespaces/demo/pods",
        &json_ct,
        Some("{nope"),
    );
    assert_eq!(garbage.status, 400);
    wait_for("pod ready", || {
        sim.get("pods", "demo", &name)
            .is_some_and(|p| p["status"]["phase"] == "Running")
    });

    // Merge, strategic and JSON patches; unsupported patch types.
    let path = format!("/api/v1/namespaces/demo/pods/{name}");
    let merged = request(
        &sim,
        "PATCH",
        &path,
        &[("Content-Type", "application/merge-patch+json")],
        Some(r#"{"metadata":{"labels":{"y":"2","x":null}}}"#),
    )
    .json();
    assert_eq!(merged["metadata"]["labels"], json!({"y": "2"}));
    let smp = request(
        &sim,
        "PATCH",
        &path,
        &[("Content-Type", "application/strategic-merge-patch+json")],
        Some(r#"{"metadata":{"annotations":{"a":"b"}}}"#),
    )
    .json();
    assert_eq!(smp["metadata"]["annotations"]["a"], "b");
    let jp = request(
        &sim,
        "PATCH",
        &path,
        &[("Content-Type", "application/json-patch+json")],
        Some(r#"[{"op":"add","path":"/metadata/labels/z","value":"3"}]"#),
    )
    .json();
    assert_eq!(jp["metadata"]["labels"]["z"], "3");
    let apply = request(
        &sim,
        "PATCH",
        &path,
        &[("Content-Type", "application/apply-patch+yaml")],
        Some(r#"{"metadata":{"labels":{"applied":"yes"}}}"#),
    );
    assert_eq!(apply.status, 200, "{}", apply.text());
    assert_eq!(apply.json()["metadata"]["labels"]["applied"], "yes");
    let created_by_apply = request(
        &sim,
        "PATCH",
        "/api/v1/namespaces/demo/pods/applied?fieldManager=t",
        &[("Content-Type", "application/apply-patch+yaml")],
        Some(r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"applied"}}"#),
    );
    assert_eq!(created_by_apply.status, 201, "{}", created_by_apply.text());
    let yaml_apply = request(
        &sim,
        "PATCH",
        &path,
        &[("Content-Type", "application/apply-patch+yaml")],
        Some("metadata: {}"),
    );
    assert_eq!(
        (yaml_apply.status, yaml_apply.json()["reason"].as_str()),
        (415, Some("UnsupportedMediaType"))
    );
    let jp = request(&sim, "GET", &path, &[], None).json();
    // PUT with a stale resourceVersion.
    let mut stale = jp.clone();
    stale["metadata"]["resourceVersion"] = json!("2");
    let conflict = request(&sim, "PUT", &path, &json_ct, Some(&stale.to_string()));
    assert_eq!(
        (conflict.status, conflict.json()["reason"].as_str()),
        (409, Some("Conflict"))
    );
    let mut fresh = jp.clone();
    fresh["metadata"]["labels"]["w"] = json!("4");
    let put = request(&sim, "PUT", &path, &json_ct, Some(&fresh.to_string()));
    assert_eq!(put.status, 200);
    assert_ne!(
        put.json()["metadata"]["resourceVersion"],
        jp["metadata"]["resourceVersion"]
    );

    // Graceful delete, then gone.
    let del = request(
        &sim,
        "DELETE",
        &path,
        &json_ct,
        Some(r#"{"kind":"DeleteOptions","apiVersion":"v1","gracePeriodSeconds":5}"#),
    );
    assert_eq!(del.status, 200);
    assert!(del.json()["metadata"]["deletionTimestamp"].is_string());
    assert_eq!(del.json()["metadata"]["deletionGracePeriodSeconds"], 5);
    wait_for("pod removed", || sim.get("pods", "demo", &name).is_none());
    assert_eq!(request(&sim, "DELETE", &path, &[], None).status, 404);
    assert_eq!(
        request(&sim, "POST", &path, &json_ct, Some("{}")).status,
        405
    );

    // Scale subresource.
    let scale_path = "/apis/apps/v1/namespaces/demo/deployments/web/scale";
    let scale = get(&sim, scale_path).json();
    assert_eq!(scale["kind"], "Scale");
    assert_eq!(scale["apiVersion"], "autoscaling/v1");
    assert_eq!(scale["spec"]["replicas"], 3);
    assert_eq!(scale["status"]["selector"], "app=web,tier=frontend");
    let scaled = request(
        &sim,
        "PATCH",
        scale_path,
        &[("Content-Type", "application/merge-patch+json")],
        Some(r#"{"spec":{"replicas":4}}"#),
    );
    assert_eq!(scaled.json()["spec"]["replicas"], 4);
    wait_for("4 ready", || {
        sim.get("deployments", "demo", "web")
            .is_some_and(|d| d["status"]["readyReplicas"] == 4)
    });
    let d = sim.get("deployments", "demo", "web").unwrap_or_default();
    assert_eq!(d["metadata"]["generation"], 2);
    assert_eq!(d["status"]["observedGeneration"], 2);

    // Eviction.
    let victim = sim.list("pods", "demo")[0]["metadata"]["name"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let ev = format!(
        r#"{{"apiVersion":"policy/v1","kind":"Eviction","metadata":{{"name":"{victim}","namespace":"demo"}}}}"#
    );
    let evicted = request(
        &sim,
        "POST",
        &format!("/api/v1/namespaces/demo/pods/{victim}/eviction"),
        &json_ct,
        Some(&ev),
    );
    assert_eq!(evicted.status, 201);
    assert_eq!(evicted.json()["status"], "Success");
    assert!(sim
        .get("pods", "demo", &victim)
        .is_some_and(|p| p["metadata"]["deletionTimestamp"].is_string()));
    let wrong = request(
        &sim,
        "POST",
        "/api/v1/namespaces/demo/pods/nope/eviction",
        &json_ct,
        Some(r#"{"metadata":{"name":"nope"}}"#),
    );
    assert_eq!(wrong.status, 404);
}

#[test]
fn events_in_both_shapes() {
    let sim = demo();
    let ev = json!({
        "apiVersion": "events.k8s.io/v1", "kind": "Event",
        "metadata": {"name": "chaos.1", "namespace": "demo"},
        "regarding": {"kind": "Pod", "name": "web-x", "namespace": "demo"},
        "note": "pod killed by chaos", "reason": "ChaosKill", "type": "Warning", "action": "Kill",
        "eventTime": "2024-01-01T00:00:00.000000Z", "reportingController": "chaos-harness", "reportingInstance": "chaos-1",
    });
    let r = request(
        &sim,
        "POST",
        "/apis/events.k8s.io/v1/namespaces/demo/events",
        &[("Content-Type", "application/json")],
        Some(&ev.to_string()),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["note"], "pod killed by chaos");
    assert_eq!(r.json()["apiVersion"], "events.k8s.io/v1");
    let core = get(&sim, "/api/v1/namespaces/demo/events").json();
    assert_eq!(core["kind"], "EventList");
    assert_eq!(core["items"][0]["message"], "pod killed by chaos");
    assert_eq!(core["items"][0]["involvedObject"]["name"], "web-x");
    let v1 = get(
        &sim,
        "/apis/events.k8s.io/v1/events?fieldSelector=regarding.name%3Dweb-x",
    )
    .json();
    assert_eq!(v1["apiVersion"], "events.k8s.io/v1");
    assert_eq!(v1["items"][0]["reportingController"], "chaos-harness");
    let by_core = get(
        &sim,
        "/api/v1/events?fieldSelector=involvedObject.name%3Dweb-y",
    )
    .json();
    assert_eq!(names(&by_core).len(), 0);
    assert_eq!(sim.events("demo")[0]["note"], "pod killed by chaos");
    assert_eq!(sim.list("events", "demo")[0]["reason"], "ChaosKill");
    let invalid = request(
        &sim,
        "POST",
        "/apis/events.k8s.io/v1/namespaces/demo/events",
        &[("Content-Type", "application/json")],
        Some(r#"{"metadata":{"name":"e2"},"reason":"X"}"#),
    );
    assert_eq!(invalid.status, 422);
    assert!(invalid.json()["message"]
        .as_str()
        .unwrap_or("")
        .contains("eventTime: Required value"));
    let t = request(
        &sim,
        "GET",
        "/api/v1/namespaces/demo/events",
        &[("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")],
        None,
    )
    .json();
    assert_eq!(t["rows"][0]["cells"][2], "ChaosKill");
    assert_eq!(t["rows"][0]["cells"][3], "pod/web-x");
}

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
fn faults() {
    let sim = demo();
    sim.inject(Fault::status(Some("GET"), "/pods", 429, Some(1)));
    let r = get(&sim, "/api/v1/namespaces/demo/pods");
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("1"));
    assert_eq!(r.json()["reason"], "TooManyRequests");
    assert_eq!(r.json()["details"]["retryAfterSeconds"], 1);
    assert_eq!(
        get(&sim, "/api/v1/namespaces/demo/pods").status,
        200,
        "used up"
    );
    sim.inject(Fault::status(None, "/deployments", 500, None));
    assert_eq!(
        get(&sim, "/apis/apps/v1/deployments").json()["reason"],
        "InternalError"
    );
    assert_eq!(get(&sim, "/apis/apps/v1/deployments").status, 500);
    assert_eq!(get(&sim, "/api/v1/nodes").status, 200);
    sim.clear_faults();
    sim.inject(Fault::status(Some("DELETE"), "/pods", 503, Some(2)));
    assert_eq!(get(&sim, "/api/v1/pods").status, 200, "other method");
    assert_eq!(
        request(&sim, "DELETE", "/api/v1/namespaces/demo/pods/x", &[], None).json()["reason"],
        "ServiceUnavailable"
    );
    sim.clear_faults();
    sim.inject(Fault::latency(
        None,
        "/api/v1/nodes",
        Duration::from_millis(200),
        Some(1),
    ));
    let t = Instant::now();
    assert_eq!(get(&sim, "/api/v1/nodes").status, 200);
    assert!(t.elapsed() >= Duration::from_millis(200));
    // The latency fault is used up (a loose bound: CI machines are shared).
    let t = Instant::now();
    get(&sim, "/api/v1/nodes");
    assert!(t.elapsed() < Duration::from_secs(2));
    let log = sim.requests();
    assert!(log.iter().any(|r| r.status == 429 && r.method == "GET"));
    assert!(log.iter().all(|r| r.finished >= r.started));
    sim.clear_requests();
    assert!(sim.requests().is_empty());
}

#[test]
fn tables_for_kubectl() {
    let sim = demo();
    let accept = [("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json")];
    let t = request(&sim, "GET", "/api/v1/nodes", &accept, None).json();
    assert_eq!(t["kind"], "Table");
    assert_eq!(t["apiVersion"], "meta.k8s.io/v1");
    let cols: Vec<&str> = t["columnDefinitions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["priority"] == 0)
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(cols, ["Name", "Status", "Roles", "Age", "Version"]);
    assert_eq!(t["rows"][0]["cells"][1], "Ready");
    let d = request(
        &sim,
        "GET",
        "/apis/apps/v1/namespaces/demo/deployments/web",
        &accept,
        None,
    )
    .json();
    assert_eq!(
        d["rows"][0]["cells"],
        json!([
            "web",
            "3/3",
            3,
            3,
            d["rows"][0]["cells"][4],
            "app",
            "registry.local/demo:1",
            "app=web,tier=frontend"
        ])
    );
    let full = request(
        &sim,
        "GET",
        "/api/v1/namespaces/demo/pods?includeObject=Object",
        &accept,
        None,
    )
    .json();
    assert_eq!(full["rows"][0]["object"]["kind"], "Pod");
    let meta = request(
        &sim,
        "GET",
        "/api/v1/namespaces/demo/pods",
        &[(
            "Accept",
            "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1",
        )],
        None,
    )
    .json();
    assert_eq!(meta["kind"], "PartialObjectMetadataList");
    assert_eq!(meta["items"][0]["kind"], "PartialObjectMetadata");
}

#[test]
fn dropping_the_last_handle_stops_the_server() {
    let sim = Sim::start(SimConfig::default()).expect("start");
    let port = sim.port();
    let clone = sim.clone();
    drop(sim);
    assert_eq!(get(&clone, "/version").status, 200);
    let t = Instant::now();
    drop(clone);
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "stopping took {:?}",
        t.elapsed()
    );
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[test]
fn ten_thousand_pods_page_and_delete_quickly() {
    let sim = Sim::start(fast()).expect("start");
    let t = Instant::now();
    sim.add_pods("bulk", "pod", 10_000, &[("app", "bulk")]);
    let seeded = t.elapsed();
    let t = Instant::now();
    let mut cont = String::new();
    let mut count = 0;
    loop {
        let page = get(
            &sim,
            &format!("/api/v1/namespaces/bulk/pods?limit=500&continue={cont}"),
        )
        .json();
        count += names(&page).len();
        match page["metadata"]["continue"].as_str() {
            Some(c) => cont = c.to_string(),
            None => break,
        }
    }
    let listed = t.elapsed();
    assert_eq!(count, 10_000);
    let t = Instant::now();
    let workers: Vec<_> = (0..100)
        .map(|i| {
            let sim = sim.clone();
            std::thread::spawn(move || {
                request(
                    &sim,
                    "DELETE",
                    &format!("/api/v1/namespaces/bulk/pods/pod-{:05}", i * 7),
                    &[],
                    None,
                )
                .status
            })
        })
        .collect();
    let statuses: Vec<u16> = workers.into_iter().map(|w| w.join().unwrap_or(0)).collect();
    let deleted = t.elapsed();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    wait_for("terminated", || sim.list("pods", "bulk").len() == 9_900);
    let server: Duration = sim
        .requests()
        .iter()
        .filter(|r| r.query.contains("limit=500"))
        .map(|r| r.finished - r.started)
        .sum();
    eprintln!("seed {seeded:?}, list {listed:?} (server {server:?}), delete {deleted:?}");
    assert!(listed < Duration::from_secs(20), "listing took {listed:?}");
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

#[test]
fn malformed_requests_get_status_errors() {
    let sim = demo();
    let json_ct: &[(&str, &str)] = &[("Content-Type", "application/json")];
    let merge: &[(&str, &str)] = &[("Content-Type", "application/merge-patch+json")];
    type Case<'a> = (&'a str, &'a str, Option<&'a str>, &'a [(&'a str, &'a str)]);
    let cases: Vec<Case> = vec![
        (
            "POST",
            "/apis/apps/v1/namespaces/demo/deployments",
            Some(r#"{"metadata":{"name":"x"},"spec":"nope"}"#),
            json_ct,
        ),
        (
            "POST",
            "/apis/apps/v1/namespaces/demo/deployments",
            Some(r#"{"metadata":{"name":"x"},"spec":{"replicas":1,"template":7}}"#),
            json_ct,
        ),
        (
            "POST",
            "/apis/apps/v1/namespaces/demo/deployments",
            Some(r#"{"metadata":{"name":"x"},"spec":{"replicas":1e12}}"#),
            json_ct,
        ),
        (
            "POST",
            "/api/v1/namespaces/demo/pods",
            Some("[1,2]"),
            json_ct,
        ),
        (
            "POST",
            "/api/v1/namespaces/demo/pods",
            Some(r#"{"kind":"Node","metadata":{"name":"x"}}"#),
            json_ct,
        ),
        (
            "POST",
            "/api/v1/namespaces/demo/pods",
            Some("x: y"),
            &[("Content-Type", "application/yaml")],
        ),
        (
            "PATCH",
            "/api/v1/namespaces/demo/pods/x",
            Some("[]"),
            &[("Content-Type", "text/plain")],
        ),
        (
            "PATCH",
            "/apis/apps/v1/namespaces/demo/deployments/web",
            Some(r#"{"spec":{"replicas":"many"}}"#),
            merge,
        ),
        (
            "PATCH",
            "/apis/apps/v1/namespaces/demo/deployments/web",
            Some(r#"[{"op":"add","path":"nope"}]"#),
            &[("Content-Type", "application/json-patch+json")],
        ),
        (
            "PATCH",
            "/apis/apps/v1/namespaces/demo/deployments/web",
            Some("[1]"),
            merge,
        ),
        (
            "PUT",
            "/apis/apps/v1/namespaces/demo/deployments/web/scale",
            Some(r#"{"spec":{"replicas":-3}}"#),
            json_ct,
        ),
        (
            "DELETE",
            "/api/v1/namespaces/demo/pods/x",
            Some("{oops"),
            json_ct,
        ),
        (
            "GET",
            "/api/v1/pods?watch=true&resourceVersion=abc",
            None,
            &[],
        ),
        ("GET", "/api/v1/pods?limit=lots", None, &[]),
        ("GET", "/api/v1/namespaces/demo/pods/a/b/c/d", None, &[]),
        ("GET", "/api/v1/namespaces/demo/pods/%zz", None, &[]),
        (
            "POST",
            "/api/v1/namespaces/demo/pods/x/eviction",
            Some(r#"{"kind":"Eviction","metadata":{"name":"other"}}"#),
            json_ct,
        ),
    ];
    for (method, path, body, headers) in cases {
        let r = request(&sim, method, path, headers, body);
        let status = r.json();
        assert!(
            r.status >= 400,
            "{method} {path}: {} {}",
            r.status,
            r.text()
        );
        assert_eq!(status["kind"], "Status", "{method} {path}: {}", r.text());
        assert_eq!(status["code"], r.status, "{method} {path}");
    }
    // A huge timeoutSeconds is cut, not an overflow.
    let mut w = TcpStream::connect(("127.0.0.1", sim.port())).expect("connect");
    w.write_all(
        b"GET /api/v1/pods?watch=1&timeoutSeconds=18446744073709551615 HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .expect("write");
    let mut buf = [0u8; 64];
    let n = w.read(&mut buf).expect("read");
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    drop(w);
    // Wild status writes must not break the controllers.
    let d = request(
        &sim,
        "PATCH",
        "/apis/apps/v1/namespaces/demo/deployments/web/status",
        merge,
        Some(r#"{"status":"broken"}"#),
    );
    assert_eq!(d.status, 200, "{}", d.text());
    let name = sim.list("pods", "demo")[0]["metadata"]["name"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let path = format!("/api/v1/namespaces/demo/pods/{name}/status");
    let r = request(
        &sim,
        "PATCH",
        &path,
        merge,
        Some(r#"{"status":{"containerStatuses":[1,"x"],"conditions":"no"}}"#),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let node = r.json()["spec"]["nodeName"]
        .as_str()
        .unwrap_or("node-1")
        .to_string();
    assert!(sim.set_node_ready(&node, false));
    assert!(sim.set_node_ready(&node, true));
    request(
        &sim,
        "DELETE",
        &format!("/api/v1/namespaces/demo/pods/{name}"),
        &[],
        None,
    );
    wait_for("the deployment to recover", || {
        sim.get("deployments", "demo", "web")
            .is_some_and(|d| d["status"]["readyReplicas"] == 3)
    });
    assert_eq!(get(&sim, "/version").status, 200, "still serving");
}
