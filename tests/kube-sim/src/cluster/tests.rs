//! Unit tests of the cluster model, driven without HTTP.

use super::controllers::{HASH_LABEL, REVISION};
use super::json::{is_terminating, name_of, pod_ready, st};
use super::state::Cluster;
use super::verbs::{DeleteOpts, Deleted, ListOpts, PatchKind};
use crate::config::SimConfig;
use crate::resources::{self as res, DEPLOYMENTS, NODES, PODS, REPLICASETS};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

fn fast() -> SimConfig {
    SimConfig {
        replace_delay: Duration::from_millis(50),
        ready_delay: Duration::from_millis(30),
        max_termination: Duration::from_millis(20),
    }
}

/// Runs the queue until `deadline` (simulating the controller task).
fn run_for(c: &mut Cluster, d: Duration) {
    let end = Instant::now() + d;
    while Instant::now() < end {
        c.run_due(Instant::now());
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn web_pods(c: &Cluster) -> Vec<Value> {
    c.objects("pods", "demo")
}

fn seeded() -> Cluster {
    let mut c = Cluster::new(fast());
    for n in ["node-1", "node-2", "node-3"] {
        c.add_node(n, &[]);
    }
    c.add_deployment("demo", "web", 3, &[("app", "web")]);
    c
}

#[test]
fn seeded_deployment_is_ready_at_once() {
    let c = seeded();
    let pods = web_pods(&c);
    assert_eq!(pods.len(), 3);
    let nodes: BTreeSet<&str> = pods.iter().map(|p| st(p, &["spec", "nodeName"])).collect();
    assert_eq!(nodes.len(), 3, "round-robin over the nodes");
    assert!(pods.iter().all(pod_ready));
    let d = c.object("deployments", "demo", "web").unwrap_or_default();
    assert_eq!(d["status"]["readyReplicas"], 3);
    assert_eq!(d["status"]["availableReplicas"], 3);
    assert_eq!(d["status"]["conditions"][0]["type"], "Available");
    assert_eq!(d["status"]["conditions"][0]["status"], "True");
    let rs = c.objects("replicasets", "demo");
    assert_eq!(rs.len(), 1);
    assert_eq!(rs[0]["status"]["readyReplicas"], 3);
    assert!(name_of(&rs[0]).starts_with("web-"));
    assert_eq!(
        pods[0]["metadata"]["labels"][HASH_LABEL],
        rs[0]["metadata"]["labels"][HASH_LABEL]
    );
}

#[test]
fn deleted_pod_is_replaced_after_the_delay() {
    let mut c = seeded();
    let victim = name_of(&web_pods(&c)[0]).to_string();
    let t0 = Instant::now();
    let out = c.delete(&PODS, "demo", &victim, &DeleteOpts::default());
    assert!(matches!(&out, Ok(Deleted::Object(o)) if is_terminating(o)));
    // Terminating pods no longer count: 2 active, and no replacement yet.
    assert_eq!(
        web_pods(&c).iter().filter(|p| !is_terminating(p)).count(),
        2
    );
    let mut replaced_at = None;
    while t0.elapsed() < Duration::from_secs(2) {
        c.run_due(Instant::now());
        if replaced_at.is_none() && web_pods(&c).iter().filter(|p| !is_terminating(p)).count() == 3
        {
            replaced_at = Some(t0.elapsed());
        }
        if replaced_at.is_some() && web_pods(&c).iter().all(pod_ready) && web_pods(&c).len() == 3 {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let at = replaced_at.unwrap_or_default();
    assert!(at >= Duration::from_millis(50), "replaced after {at:?}");
    assert!(at < Duration::from_millis(500), "replaced after {at:?}");
    let pods = web_pods(&c);
    assert_eq!(pods.len(), 3);
    assert!(pods.iter().all(pod_ready));
    assert!(pods.iter().all(|p| name_of(p) != victim));
}

#[test]
fn scale_rollout_and_cascade() {
    let mut c = seeded();
    let patch = json!({"spec": {"replicas": 5}});
    assert!(c
        .patch_scale(&DEPLOYMENTS, "demo", "web", PatchKind::Merge, &patch, false)
        .is_ok());
    run_for(&mut c, Duration::from_millis(150));
    assert_eq!(web_pods(&c).iter().filter(|p| pod_ready(p)).count(), 5);
    let restart = json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "now"}}}}});
    let before: BTreeSet<String> = web_pods(&c)
        .iter()
        .map(|p| name_of(p).to_string())
        .collect();
    assert!(c
        .patch(
            &DEPLOYMENTS,
            "demo",
            "web",
            PatchKind::Merge,
            &restart,
            None,
            false
        )
        .is_ok());
    run_for(&mut c, Duration::from_millis(200));
    let rs = c.objects("replicasets", "demo");
    assert_eq!(rs.len(), 2);
    let pods = web_pods(&c);
    assert_eq!(pods.len(), 5);
    assert!(pods.iter().all(|p| !before.contains(name_of(p))));
    let d = c.object("deployments", "demo", "web").unwrap_or_default();
    assert_eq!(d["metadata"]["generation"], 3, "scale, then template");
    assert_eq!(d["status"]["observedGeneration"], 3);
    assert_eq!(d["status"]["updatedReplicas"], 5);
    assert_eq!(d["metadata"]["annotations"][REVISION], "2");
    // Scale down: newest go first.
    c.set_pod_age("demo", name_of(&pods[0]), Duration::from_secs(3600));
    let keep = name_of(&pods[0]).to_string();
    assert!(c
        .patch(
            &DEPLOYMENTS,
            "demo",
            "web",
            PatchKind::Merge,
            &json!({"spec": {"replicas": 1}}),
            None,
            false
        )
        .is_ok());
    run_for(&mut c, Duration::from_millis(100));
    let pods = web_pods(&c);
    assert_eq!(pods.len(), 1);
    assert_eq!(name_of(&pods[0]), keep);
    // Cascade.
    assert!(matches!(
        c.delete(&DEPLOYMENTS, "demo", "web", &DeleteOpts::default()),
        Ok(Deleted::Status(_))
    ));
    run_for(&mut c, Duration::from_millis(60));
    assert!(c.objects("replicasets", "demo").is_empty());
    assert!(web_pods(&c).is_empty());
}

#[test]
fn pods_wait_for_nodes_and_move_off_deleted_ones() {
    let mut c = Cluster::new(fast());
    c.ensure_namespace("demo");
    let rs = json!({"metadata": {"name": "rs"}, "spec": {"replicas": 2, "selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}}}}});
    assert!(c.create(&REPLICASETS, "demo", rs, false).is_ok());
    let pods = web_pods(&c);
    assert_eq!(pods.len(), 2);
    assert!(pods
        .iter()
        .all(|p| p["status"]["phase"] == "Pending" && p["spec"]["nodeName"].is_null()));
    c.add_node("n1", &[]);
    run_for(&mut c, Duration::from_millis(80));
    assert!(web_pods(&c)
        .iter()
        .all(|p| p["status"]["phase"] == "Running" && pod_ready(p)));
    c.add_node("n2", &[]);
    assert!(c.delete(&NODES, "", "n1", &DeleteOpts::default()).is_ok());
    assert!(web_pods(&c).is_empty());
    run_for(&mut c, Duration::from_millis(150));
    let pods = web_pods(&c);
    assert_eq!(pods.len(), 2);
    assert!(pods
        .iter()
        .all(|p| p["spec"]["nodeName"] == "n2" && pod_ready(p)));
    // Cordon: new pods stay Pending.
    assert!(c
        .patch(
            &NODES,
            "",
            "n2",
            PatchKind::Merge,
            &json!({"spec": {"unschedulable": true}}),
            None,
            false
        )
        .is_ok());
    assert!(c
        .delete(
            &PODS,
            "demo",
            name_of(&pods[0]),
            &DeleteOpts {
                grace: Some(0),
                ..Default::default()
            }
        )
        .is_ok());
    run_for(&mut c, Duration::from_millis(100));
    assert_eq!(
        web_pods(&c)
            .iter()
            .filter(|p| p["status"]["phase"] == "Pending")
            .count(),
        1
    );
    // NotReady node: pods lose readiness.
    c.set_node_ready("n2", false);
    assert!(web_pods(&c).iter().all(|p| !pod_ready(p)));
}

#[test]
fn api_errors() {
    let mut c = seeded();
    let e = c.create(&PODS, "nope", json!({"metadata": {"name": "x"}}), false);
    assert_eq!(
        e.err().map(|e| e.message),
        Some("namespaces \"nope\" not found".into())
    );
    let e = c.create(&DEPLOYMENTS, "demo", json!({"metadata": {"name": "web"}, "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}}}}}), false);
    assert_eq!(e.err().map(|e| e.code), Some(409));
    let e = c.create(
        &PODS,
        "demo",
        json!({"metadata": {"name": "Bad_Name"}}),
        false,
    );
    assert_eq!(e.err().map(|e| e.code), Some(422));
    let p = c.create(
        &PODS,
        "demo",
        json!({"metadata": {"generateName": "gen-"}}),
        false,
    );
    assert!(p
        .as_ref()
        .is_ok_and(|p| name_of(p).starts_with("gen-") && name_of(p).len() == 9));
    let name = p.map(|p| name_of(&p).to_string()).unwrap_or_default();
    let stale = json!({"metadata": {"name": name, "resourceVersion": "1"}});
    assert_eq!(
        c.update(&PODS, "demo", &name, stale, None, false)
            .err()
            .map(|e| e.code),
        Some(409)
    );
    let e = c.patch(
        &PODS,
        "demo",
        &name,
        PatchKind::Json,
        &json!([{"op": "test", "path": "/metadata/name", "value": "x"}]),
        None,
        false,
    );
    assert_eq!(e.err().map(|e| e.code), Some(422));
    let e = c.delete(&PODS, "demo", "nope", &DeleteOpts::default());
    assert_eq!(
        e.err().map(|e| e.message),
        Some("pods \"nope\" not found".into())
    );
    let ev = json!({"metadata": {"name": "e"}, "reason": "R"});
    let e = c.create(&res::EVENTS_V1, "demo", ev, false);
    assert_eq!(e.err().map(|e| e.code), Some(422));
}

#[test]
fn eviction_honours_budgets() {
    let mut c = seeded();
    let pdb = json!({"metadata": {"name": "web"}, "spec": {"minAvailable": 3, "selector": {"matchLabels": {"app": "web"}}}});
    assert!(c.create(&res::PDBS, "demo", pdb, false).is_ok());
    let victim = name_of(&web_pods(&c)[0]).to_string();
    let e = c.evict(
        "demo",
        &victim,
        &json!({"metadata": {"name": victim}}),
        false,
    );
    assert_eq!(e.err().map(|e| e.code), Some(429));
    assert!(c
        .patch(
            &res::PDBS,
            "demo",
            "web",
            PatchKind::Merge,
            &json!({"spec": {"minAvailable": 2}}),
            None,
            false
        )
        .is_ok());
    let ok = c.evict(
        "demo",
        &victim,
        &json!({"metadata": {"name": victim}}),
        false,
    );
    assert_eq!(ok.map(|s| s["code"].clone()), Ok(json!(201)));
    assert!(c
        .object("pods", "demo", &victim)
        .is_some_and(|p| is_terminating(&p)));
}

#[test]
fn paging() {
    let mut c = Cluster::new(fast());
    c.add_pods("demo", "p", 25, &[("app", "bulk")]);
    let mut o = ListOpts {
        limit: 10,
        ..Default::default()
    };
    let page = c.list(&PODS, Some("demo"), &o);
    assert_eq!(page.items.len(), 10);
    assert_eq!(page.remaining, Some(15));
    assert_eq!(page.cont.as_ref().map(|k| k.1.as_str()), Some("p-00009"));
    o.after = page.cont;
    let page = c.list(&PODS, Some("demo"), &o);
    assert_eq!(name_of(&page.items[0]), "p-00010");
    o.after = page.cont;
    let page = c.list(&PODS, Some("demo"), &o);
    assert_eq!(page.items.len(), 5);
    assert!(page.cont.is_none());
}
