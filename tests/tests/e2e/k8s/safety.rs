//! Guards, dry runs and retries: what keeps an action from doing harm.

use super::*;

#[tokio::test]
async fn guards_refuse_and_touch_nothing() {
    let c = cluster();
    let cases = [
        (
            "allowed_namespaces = [\"prod\"]",
            "namespace `demo` is not in allowed_namespaces",
        ),
        ("max_count = 1", "max_count = 1"),
        ("max_percent = 50", "over max_percent = 50"),
        (
            "opt_in_label = \"chaos=enabled\"",
            "lacks the opt-in label chaos=enabled",
        ),
    ];
    for (setting, why) in cases {
        let cx = c.cx(1, setting);
        let before = c.live_pod_names();
        c.sim.clear_requests();
        let err = k8s::pods(&cx, "demo")
            .labeled("app=web")
            .terminate(Select::random(2))
            .await
            .expect_err(setting);
        let msg = err.to_string();
        assert!(
            msg.contains(why) && msg.contains("nothing was touched"),
            "{setting}: {msg}"
        );
        assert!(
            matches!(err, K8sError::Refused(Refusal { count: 2, .. })),
            "{msg}"
        );
        assert_eq!(c.writes(), 0, "{setting}: no write reached the cluster");
        assert_eq!(c.live_pod_names(), before);
    }
    // The opt-in label lets labelled pods through, and refuses nodes without it.
    for p in c.live_pod_names() {
        assert!(c.sim.set_label("pods", "demo", &p, "chaos", "enabled"));
    }
    let cx = c.cx(1, "opt_in_label = \"chaos=enabled\"\nmax_count = 1");
    k8s::pods(&cx, "demo")
        .labeled("app=web")
        .terminate(Select::random(1))
        .await
        .expect("labelled and within max_count");
    let err = k8s::node(&cx, "node-1")
        .cordon(Select::all())
        .await
        .expect_err("node-1 lacks the label");
    assert!(
        err.to_string().contains("node-1 lacks the opt-in label"),
        "{err}"
    );
    let err = k8s::deployment(&c.cx(1, "allowed_namespaces = [\"prod\"]"), "demo", "web")
        .scale(0)
        .await
        .expect_err("not allowed");
    assert!(err.to_string().contains("allowed_namespaces"), "{err}");
    // A scale-down counts the pods it removes, of those there were.
    let cx = c.cx(1, "max_count = 1");
    let err = k8s::deployment(&cx, "demo", "web")
        .scale(0)
        .await
        .expect_err("removes 3 pods");
    assert!(err.to_string().contains("refused to scale 3"), "{err}");
    let cx = c.cx(1, "max_percent = 34");
    let err = k8s::deployment(&cx, "demo", "web")
        .scale(1)
        .await
        .expect_err("removes 2 of 3");
    assert!(err.to_string().contains("66.7%"), "{err}");
    assert_eq!(
        c.sim.get("deployments", "demo", "web").expect("web")["spec"]["replicas"],
        3
    );
    // One named node is a third of the cluster's nodes, not all of what matched.
    let nodes_before = c.sim.list("nodes", "");
    k8s::node(&cx, "node-1")
        .cordon(Select::all())
        .await
        .expect("1 of 3 nodes");
    k8s::node(&cx, "node-1")
        .uncordon(Select::all())
        .await
        .expect("1 of 3 nodes");
    let err = k8s::nodes(&cx)
        .cordon(Select::random(2))
        .await
        .expect_err("2 of 3");
    assert!(err.to_string().contains("over max_percent = 34"), "{err}");
    // A drain or node deletion is refused for the pods it would evict, before anything: on a
    // node that runs a web pod now (the terminate above moved one).
    let busy = c
        .pods(Some(("app", "web")))
        .iter()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .find_map(|p| p["spec"]["nodeName"].as_str().map(str::to_owned))
        .expect("a node runs a web pod");
    let cx = c.cx(1, "allowed_namespaces = [\"prod\"]");
    c.sim.clear_requests();
    let err = k8s::node(&cx, &busy)
        .drain(Select::all())
        .await
        .expect_err("demo pods");
    assert!(err.to_string().contains("refused to drain"), "{err}");
    let err = k8s::node(&cx, &busy)
        .delete(Select::all())
        .await
        .expect_err("demo pods");
    assert!(err.to_string().contains("refused to delete-node"), "{err}");
    assert_eq!(c.writes(), 0);
    assert_eq!(c.sim.list("nodes", "").len(), nodes_before.len());
    assert!(c
        .sim
        .events("demo")
        .iter()
        .all(|e| e["reason"] != "ChaosNodeDrained"));
}

#[tokio::test]
async fn dry_run_resolves_records_and_touches_nothing() {
    let c = cluster();
    let cx = c.cx(9, "dry_run = true");
    let before = c.live_pod_names();
    c.sim.clear_requests();
    let r = k8s::pods(&cx, "demo")
        .labeled("app=web")
        .terminate(Select::random(2))
        .await
        .expect("dry run");
    assert!(r.dry_run);
    assert_eq!(r.targets.len(), 2);
    let s = k8s::deployment(&cx, "demo", "web")
        .scale(0)
        .await
        .expect("dry run");
    assert!(s.dry_run);
    k8s::nodes(&cx).drain(Select::all()).await.expect("dry run");
    k8s::nodes(&cx)
        .cordon(Select::all())
        .await
        .expect("dry run");
    k8s::nodes(&cx)
        .delete(Select::random(1))
        .await
        .expect("dry run");
    k8s::pods(&cx, "demo")
        .labeled("app=web")
        .evict(Select::all())
        .await
        .expect("dry run");
    assert!(k8s::uncordon_cordoned(&cx)
        .await
        .expect("nothing cordoned")
        .is_empty());
    k8s::deployment(&cx, "demo", "web")
        .restart()
        .await
        .expect("dry run");
    assert_eq!(
        c.writes(),
        0,
        "{:?}",
        c.sim
            .requests()
            .iter()
            .map(|r| (&r.method, &r.path))
            .collect::<Vec<_>>()
    );
    assert_eq!(c.live_pod_names(), before);
    assert!(c.sim.events("demo").is_empty());
    let recorded = cx.recorded_targets();
    assert_eq!(recorded[0]["dry_run"], true);
    assert_eq!(recorded[0]["chosen"].as_array().map(Vec::len), Some(2));
    assert!(recorded.iter().any(|t| t["target"] == "k8s-nodes"));
}

#[tokio::test]
async fn retries_on_429_and_500_then_fails_with_the_reason() {
    let c = cluster();
    let cx = c.cx(1, "");
    c.sim.inject(Fault {
        method: Some("GET".into()),
        path_contains: "/pods".into(),
        times: Some(2),
        kind: FaultKind::Status {
            code: 429,
            retry_after: Some(1),
        },
    });
    c.sim.inject(Fault {
        method: Some("DELETE".into()),
        path_contains: "/pods/".into(),
        times: Some(2),
        kind: FaultKind::Status {
            code: 500,
            retry_after: None,
        },
    });
    c.sim.clear_requests();
    let started = std::time::Instant::now();
    k8s::pods(&cx, "demo")
        .labeled("app=web")
        .terminate(Select::random(1))
        .await
        .expect("retried through");
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "Retry-After honoured twice"
    );
    let statuses = |m: &str| {
        c.sim
            .requests()
            .iter()
            .filter(|r| r.method == m && r.path.contains("/pods"))
            .map(|r| r.status)
            .collect::<Vec<_>>()
    };
    assert_eq!(statuses("GET")[..3], [429, 429, 200]);
    assert_eq!(statuses("DELETE"), [500, 500, 200]);

    // Out of retries: the API's reason and code reach the error.
    let cx = c.cx(1, "retries = 1");
    c.sim.inject(Fault {
        method: Some("GET".into()),
        path_contains: "/deployments/web".into(),
        times: None,
        kind: FaultKind::Status {
            code: 500,
            retry_after: None,
        },
    });
    let err = k8s::deployment(&cx, "demo", "web")
        .state()
        .await
        .expect_err("always 500");
    assert!(
        matches!(&err, K8sError::Api { code: 500, reason, .. } if reason == "InternalError"),
        "{err}"
    );
    c.sim.clear_faults();
    // One of three deletes fails for good: the others are done, and the error says so.
    let cx0 = c.cx(2, "retries = 0");
    let before = c.live_pod_names();
    c.sim.inject(Fault {
        method: Some("DELETE".into()),
        path_contains: "/pods/".into(),
        times: Some(1),
        kind: FaultKind::Status {
            code: 500,
            retry_after: None,
        },
    });
    let err = k8s::pods(&cx0, "demo")
        .labeled("app=web")
        .force()
        .terminate(Select::all())
        .await
        .expect_err("one delete fails");
    assert!(
        matches!(
            &err,
            K8sError::Partial {
                failed: 1,
                total: 3,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("terminate failed for 1 of 3 pod(s)"),
        "{err}"
    );
    let left = c.live_pod_names();
    assert_eq!(
        before.iter().filter(|p| left.contains(*p)).count(),
        1,
        "two were deleted"
    );
    let partial = c.sim.events("demo").into_iter().find(|e| {
        e["note"]
            .as_str()
            .unwrap_or_default()
            .contains("failed for 1 of 3")
    });
    assert!(partial.is_some(), "the Event tells the partial failure too");
    let err = k8s::deployment(&cx, "demo", "nope")
        .state()
        .await
        .expect_err("missing");
    let msg = err.to_string();
    assert!(
        msg.contains("NotFound (404)") && msg.contains("get deployment demo/nope"),
        "{msg}"
    );
}
