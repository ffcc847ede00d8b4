//! Pods, nodes and deployments through kubectl: get (selectors, formats, paging), delete,
//! scale, rollout restart, cordon, drain.

use crate::harness::*;
use serde_json::Value;
use std::time::Duration;

#[test]
fn get_pods_with_selectors_formats_and_paging() {
    let Some(c) = cluster() else { return };
    let names: Vec<String> = c.sim.list("pods", "demo").iter().map(name).collect();
    assert_eq!(names.len(), 3);

    let table = c.ok(&["get", "pods", "-n", "demo", "-l", "app=web"]);
    let header = table.lines().next().unwrap_or_default();
    for col in ["NAME", "READY", "STATUS", "RESTARTS", "AGE"] {
        assert!(header.contains(col), "{table}");
    }
    for n in &names {
        assert!(table.contains(n.as_str()), "{n} missing from\n{table}");
    }
    assert_eq!(table.matches("Running").count(), 3, "{table}");
    assert_eq!(table.matches("1/1").count(), 3, "{table}");

    let list = c.json(&["get", "pods", "-n", "demo"]);
    assert_eq!(list["items"].as_array().map(Vec::len), Some(3));
    assert_eq!(list["items"][0]["kind"], "Pod");

    let by_name = c.ok(&["get", "pods", "-n", "demo", "-o", "name"]);
    let mut listed: Vec<&str> = by_name.lines().collect();
    listed.sort();
    let expected: Vec<String> = names.iter().map(|n| format!("pod/{n}")).collect();
    assert_eq!(listed, expected);

    let running = c.ok(&[
        "get",
        "pods",
        "-n",
        "demo",
        "--field-selector",
        "status.phase=Running",
        "-o",
        "name",
    ]);
    assert_eq!(running.lines().count(), 3, "{running}");
    let pending = c.run(&[
        "get",
        "pods",
        "-n",
        "demo",
        "--field-selector",
        "status.phase=Pending",
    ]);
    assert!(pending.success);
    assert!(pending.stderr.contains("No resources found"), "{pending:?}");
    let set_based = c.ok(&[
        "get",
        "pods",
        "-n",
        "demo",
        "-l",
        "tier in (frontend)",
        "-o",
        "name",
    ]);
    assert_eq!(set_based.lines().count(), 3, "{set_based}");
    let none = c.run(&[
        "get",
        "pods",
        "-n",
        "demo",
        "-l",
        "tier notin (frontend)",
        "-o",
        "name",
    ]);
    assert!(none.success && none.stdout.trim().is_empty(), "{none:?}");
    let bad = c.run(&[
        "get",
        "pods",
        "-n",
        "demo",
        "--field-selector",
        "spec.bogus=x",
    ]);
    assert!(!bad.success);
    assert!(
        bad.stderr.contains("field label not supported: spec.bogus"),
        "{bad:?}"
    );
    let wide = c.ok(&["get", "pods", "-n", "demo", "-o", "wide"]);
    assert!(
        wide.contains("node-1") && wide.contains("10.244."),
        "{wide}"
    );

    c.sim.add_pods("bulk", "bulk", 7, &[("app", "bulk")]);
    c.sim.clear_requests();
    let paged = c.ok(&["get", "pods", "-n", "bulk", "--chunk-size=2"]);
    for i in 0..7 {
        assert!(paged.contains(&format!("bulk-{i:05}")), "{paged}");
    }
    let pages: Vec<String> = c
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path == "/api/v1/namespaces/bulk/pods")
        .map(|r| r.query)
        .collect();
    assert_eq!(pages.len(), 4, "{pages:?}");
    assert!(pages.iter().all(|q| q.contains("limit=2")), "{pages:?}");
    assert_eq!(
        pages.iter().filter(|q| q.contains("continue=")).count(),
        3,
        "{pages:?}"
    );
}

#[test]
fn get_nodes_and_deployments() {
    let Some(c) = cluster() else { return };
    let nodes = c.ok(&["get", "nodes"]);
    for col in ["NAME", "STATUS", "ROLES", "AGE", "VERSION"] {
        assert!(nodes.contains(col), "{nodes}");
    }
    for n in ["node-1", "node-2", "node-3"] {
        assert!(nodes.contains(n), "{nodes}");
    }
    assert_eq!(nodes.matches(" Ready ").count(), 3, "{nodes}");
    assert!(nodes.contains("v1.32.0"), "{nodes}");
    let labeled = c.ok(&[
        "get",
        "nodes",
        "-l",
        "topology.kubernetes.io/zone=zone-b",
        "-o",
        "name",
    ]);
    assert_eq!(labeled.trim(), "node/node-2");

    let deploy = c.ok(&["get", "deploy", "-n", "demo"]);
    let row = deploy
        .lines()
        .find(|l| l.starts_with("web "))
        .unwrap_or_default();
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(&cells[..4], ["web", "3/3", "3", "3"], "{deploy}");
    let rs = c.ok(&["get", "rs", "-n", "demo"]);
    assert!(rs.contains("web-"), "{rs}");
    assert_eq!(
        c.ok(&["get", "ns", "demo", "-o", "jsonpath={.status.phase}"]),
        "Active"
    );
    let version = c.ok(&["version"]);
    assert!(version.contains("v1.32.0-kube-sim"), "{version}");
}

#[test]
fn delete_pod_is_replaced() {
    let Some(c) = cluster() else { return };
    let victim = name(&c.sim.list("pods", "demo")[0]);
    let out = c.ok(&["delete", "pod", &victim, "-n", "demo"]);
    assert!(out.contains(&format!("pod \"{victim}\" deleted")), "{out}");
    // kubectl waited for the deletion to finish.
    assert!(c.sim.get("pods", "demo", &victim).is_none());
    wait_until("a Ready replacement", Duration::from_secs(10), || {
        let ready = c.ready_pods();
        ready.len() == 3 && ready.iter().all(|p| name(p) != victim)
    });
    let d = c.sim.get("deployments", "demo", "web").unwrap_or_default();
    assert_eq!(d["spec"]["replicas"], 3);
}

#[test]
fn scale_deployment() {
    let Some(c) = cluster() else { return };
    let out = c.ok(&["scale", "deployment", "web", "-n", "demo", "--replicas=5"]);
    assert!(out.contains("deployment.apps/web scaled"), "{out}");
    wait_until("5 Ready pods", Duration::from_secs(10), || {
        c.ready_pods().len() == 5
    });
    assert_eq!(
        c.ok(&[
            "get",
            "deploy",
            "web",
            "-n",
            "demo",
            "-o",
            "jsonpath={.spec.replicas}"
        ]),
        "5"
    );
    wait_until("deployment status", Duration::from_secs(10), || {
        c.sim.get("deployments", "demo", "web").is_some_and(|d| {
            d["status"]["readyReplicas"] == 5 && d["status"]["availableReplicas"] == 5
        })
    });
    c.ok(&["scale", "deployment/web", "-n", "demo", "--replicas=2"]);
    wait_until("2 pods", Duration::from_secs(10), || {
        c.sim.list("pods", "demo").len() == 2
    });
}

#[test]
fn rollout_restart_replaces_pods() {
    let Some(c) = cluster() else { return };
    let old_rs: Vec<String> = c.sim.list("replicasets", "demo").iter().map(name).collect();
    let old_pods: Vec<String> = c.sim.list("pods", "demo").iter().map(name).collect();
    assert_eq!(old_rs.len(), 1);
    let out = c.ok(&["rollout", "restart", "deployment/web", "-n", "demo"]);
    assert!(out.contains("restarted"), "{out}");
    let status = c.ok(&[
        "rollout",
        "status",
        "deployment/web",
        "-n",
        "demo",
        "--timeout=30s",
    ]);
    assert!(status.contains("successfully rolled out"), "{status}");
    wait_until("old pods replaced", Duration::from_secs(10), || {
        let pods = c.sim.list("pods", "demo");
        pods.len() == 3
            && pods
                .iter()
                .all(|p| !old_pods.contains(&name(p)) && is_ready(p))
    });
    let rs = c.sim.list("replicasets", "demo");
    assert_eq!(rs.len(), 2);
    let new_rs = rs
        .iter()
        .find(|r| !old_rs.contains(&name(r)))
        .cloned()
        .unwrap_or_default();
    assert_eq!(new_rs["spec"]["replicas"], 3);
    let old = c
        .sim
        .get("replicasets", "demo", &old_rs[0])
        .unwrap_or_default();
    assert_eq!(old["spec"]["replicas"], 0);
    let d = c.sim.get("deployments", "demo", "web").unwrap_or_default();
    assert!(
        d["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
            .is_string()
    );
}

#[test]
fn cordon_and_uncordon() {
    let Some(c) = cluster() else { return };
    assert!(c.ok(&["cordon", "node-1"]).contains("node/node-1 cordoned"));
    assert_eq!(
        c.sim.get("nodes", "", "node-1").unwrap_or_default()["spec"]["unschedulable"],
        true
    );
    let nodes = c.ok(&["get", "nodes"]);
    let row = nodes
        .lines()
        .find(|l| l.starts_with("node-1"))
        .unwrap_or_default();
    assert!(row.contains("Ready,SchedulingDisabled"), "{nodes}");
    assert!(c
        .ok(&["uncordon", "node-1"])
        .contains("node/node-1 uncordoned"));
    assert!(
        c.sim.get("nodes", "", "node-1").unwrap_or_default()["spec"]["unschedulable"].is_null()
    );
    assert!(!c.ok(&["get", "nodes"]).contains("SchedulingDisabled"));
}

#[test]
fn drain_evicts_and_pods_move() {
    let Some(c) = cluster() else { return };
    let on_node2 = |c: &Cluster| -> Vec<Value> {
        c.sim
            .list("pods", "")
            .into_iter()
            .filter(|p| p["spec"]["nodeName"] == "node-2")
            .collect()
    };
    assert_eq!(on_node2(&c).len(), 1);
    c.sim.clear_requests();
    let out = c.run(&[
        "drain",
        "node-2",
        "--ignore-daemonsets",
        "--delete-emptydir-data",
        "--timeout=60s",
    ]);
    assert!(out.success, "{out:?}");
    assert!(out.stdout.contains("drained"), "{out:?}");
    assert_eq!(
        c.sim.get("nodes", "", "node-2").unwrap_or_default()["spec"]["unschedulable"],
        true
    );
    wait_until("node-2 empty", Duration::from_secs(10), || {
        on_node2(&c).is_empty()
    });
    wait_until("3 Ready pods elsewhere", Duration::from_secs(10), || {
        let ready = c.ready_pods();
        ready.len() == 3 && ready.iter().all(|p| p["spec"]["nodeName"] != "node-2")
    });
    let evictions = c
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/eviction"))
        .count();
    assert_eq!(evictions, 1);
}
