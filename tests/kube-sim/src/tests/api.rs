//! Discovery, reads, paging, writes, events and tables over HTTP.

use super::client::*;
use crate::Sim;
use serde_json::json;

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
    assert_eq!(
        gnames,
        [
            "apps",
            "events.k8s.io",
            "policy",
            "batch",
            "rbac.authorization.k8s.io"
        ]
    );
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
    assert_eq!(get(&sim, "/apis/autoscaling/v1").status, 404);
    assert_eq!(get(&sim, "/apis/batch/v1").status, 200);
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
fn pod_logs_with_the_kubelet_options_and_errors() {
    let sim = demo();
    sim.add_pods("demo", "api", 1, &[("app", "api")]);
    for line in ["starting", "listening on :8080", "GET /health 200"] {
        assert!(sim.write_pod_log("demo", "api-00000", None, line));
    }
    assert!(!sim.write_pod_log("demo", "api-00000", Some("sidecar"), "x"));
    assert!(!sim.write_pod_log("demo", "missing", None, "x"));
    let base = "/api/v1/namespaces/demo/pods/api-00000/log";
    assert_eq!(
        get(&sim, base).text(),
        "starting\nlistening on :8080\nGET /health 200\n"
    );
    assert_eq!(
        get(&sim, &format!("{base}?tailLines=1")).text(),
        "GET /health 200\n"
    );
    let stamped = get(&sim, &format!("{base}?timestamps=true&sinceSeconds=60")).text();
    let lines: Vec<&str> = stamped.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(
        lines[0].ends_with("Z starting") && lines[0].starts_with("20"),
        "{stamped}"
    );
    let prev = get(&sim, &format!("{base}?previous=true"));
    assert_eq!(prev.status, 400);
    assert!(prev.json()["message"]
        .as_str()
        .is_some_and(|m| m.contains("previous terminated container")));
    let wrong = get(&sim, &format!("{base}?container=sidecar"));
    assert_eq!(wrong.status, 400);
    assert_eq!(
        get(&sim, "/api/v1/namespaces/demo/pods/missing/log").status,
        404
    );
    // The logs go with the pod.
    let gone = request(
        &sim,
        "DELETE",
        "/api/v1/namespaces/demo/pods/api-00000?gracePeriodSeconds=0",
        &[],
        None,
    );
    assert_eq!(gone.status, 200);
    wait_for("the pod to go", || {
        sim.get("pods", "demo", "api-00000").is_none()
    });
    sim.add_pods("demo", "api", 1, &[("app", "api")]);
    assert_eq!(get(&sim, base).text(), "");
}
