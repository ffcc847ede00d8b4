//! Injected faults, and Status errors for malformed requests.

use super::client::*;
use crate::Fault;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

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
