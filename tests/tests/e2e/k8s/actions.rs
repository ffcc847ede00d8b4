//! Every pod, workload and node action and probe, with the cluster state checked afterwards.

use super::*;

#[tokio::test]
async fn terminate_with_grace_and_force_then_replacement() {
    // Pods deleted with a grace period stay Terminating for up to 5 s here.
    let c = cluster_with(SimConfig {
        max_termination: Duration::from_secs(5),
        ..fast()
    });
    let cx = c.cx(7, "");
    let before = c.live_pod_names();
    let web = k8s::pods(&cx, "demo").labeled("app=web");
    let report = web
        .clone()
        .grace_period(Duration::from_secs(30))
        .terminate(Select::random(1))
        .await
        .expect("terminate");
    assert_eq!(report.targets.len(), 1);
    let victim = report.targets[0].trim_start_matches("demo/").to_owned();
    assert!(before.contains(&victim));
    // Graceful: terminating first (deletionTimestamp), gone after the grace the sim allows.
    let p = c
        .sim
        .get("pods", "demo", &victim)
        .expect("still terminating");
    assert!(!p["metadata"]["deletionTimestamp"].is_null(), "{p:#}");
    assert_eq!(p["metadata"]["deletionGracePeriodSeconds"], 30, "{p:#}");
    assert!(reasons(&c.sim, "demo").contains(&"ChaosPodsTerminated".to_owned()));
    assert!(c
        .sim
        .requests()
        .iter()
        .any(|r| r.method == "DELETE" && r.path.ends_with(&victim)));
    c.wait_web_ready(3).await;
    let after = c.live_pod_names();
    assert!(!after.contains(&victim), "{after:?}");
    assert_eq!(after.len(), 3);

    let forced = web
        .force()
        .terminate(Select::random(2))
        .await
        .expect("terminate");
    for t in &forced.targets {
        let name = t.trim_start_matches("demo/");
        assert!(
            c.sim.get("pods", "demo", name).is_none(),
            "force removes {name} at once"
        );
    }
    c.wait_web_ready(3).await;
}

#[tokio::test]
async fn evict_goes_through_the_eviction_api() {
    let c = cluster();
    let cx = c.cx(3, "");
    let report = k8s::pods(&cx, "demo")
        .labeled("app=web")
        .evict(Select::random(1))
        .await
        .expect("evict");
    let name = report.targets[0].trim_start_matches("demo/").to_owned();
    assert_eq!(c.requests("POST", &format!("/pods/{name}/eviction")), 1);
    c.wait_web_ready(3).await;
    assert!(!c.live_pod_names().contains(&name));
    assert!(reasons(&c.sim, "demo").contains(&"ChaosPodsEvicted".to_owned()));
}

#[tokio::test]
async fn evict_honours_a_pod_disruption_budget() {
    use k8s_openapi::api::policy::v1::PodDisruptionBudget;
    let c = cluster();
    let cx = c.cx(3, "retries = 1");
    let pdb: PodDisruptionBudget = serde_json::from_value(serde_json::json!({
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": { "name": "web", "namespace": "demo" },
        "spec": { "minAvailable": 3, "selector": { "matchLabels": { "app": "web" } } }
    }))
    .expect("pdb");
    let client = k8s::cluster(&cx).await.expect("cluster").client().clone();
    kube::Api::<PodDisruptionBudget>::namespaced(client, "demo")
        .create(&Default::default(), &pdb)
        .await
        .expect("PDB created");
    let before = c.live_pod_names();
    let err = k8s::pods(&cx, "demo")
        .labeled("app=web")
        .evict(Select::random(1))
        .await
        .expect_err("the budget forbids it");
    assert!(
        matches!(&err, K8sError::Api { code: 429, reason, .. } if reason == "TooManyRequests"),
        "{err}"
    );
    assert_eq!(
        c.requests("POST", "/eviction"),
        2,
        "tried, retried once, refused"
    );
    assert_eq!(c.live_pod_names(), before);
}

#[tokio::test]
async fn scale_restore_and_restart() {
    let c = cluster();
    let cx = c.cx(3, "");
    let web = k8s::deployment(&cx, "demo", "web");
    let r = web.scale(5).await.expect("scale");
    assert_eq!((r.previous, r.replicas), (3, 5));
    web.wait_fully_available(Duration::from_secs(10))
        .await
        .expect("5 available");
    assert_eq!(
        c.sim.get("deployments", "demo", "web").expect("web")["spec"]["replicas"],
        5
    );
    assert_eq!(c.live_pod_names().len(), 5);
    // A second scale does not overwrite what the rollback restores.
    web.scale(1).await.expect("scale");
    let restored = k8s::restore_scales(&cx).await.expect("restore");
    assert_eq!(restored.len(), 1);
    assert_eq!(restored[0].replicas, 3);
    assert_eq!(
        c.sim.get("deployments", "demo", "web").expect("web")["spec"]["replicas"],
        3
    );
    let state = web
        .wait_fully_available(Duration::from_secs(10))
        .await
        .expect("3 available");
    assert_eq!((state.desired, state.ready, state.available), (3, 3, 3));
    assert!(k8s::restore_scales(&cx)
        .await
        .expect("nothing left")
        .is_empty());

    let before = c.live_pod_names();
    let rs_before = c.sim.list("replicasets", "demo").len();
    web.restart().await.expect("restart");
    let d = c.sim.get("deployments", "demo", "web").expect("web");
    assert!(
        !d["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
            .is_null()
    );
    assert!(
        c.sim.list("replicasets", "demo").len() > rs_before,
        "a new ReplicaSet"
    );
    assert!(reasons(&c.sim, "demo").contains(&"ChaosDeploymentRestarted".to_owned()));
    for _ in 0..400 {
        let now = c.live_pod_names();
        if now.len() == 3 && now.is_disjoint(&before) && web.fully_available().await.expect("probe")
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "the restart did not replace every pod: {:?}",
        c.live_pod_names()
    );
}

#[tokio::test]
async fn probes_and_recovery_waits() {
    let c = cluster();
    let cx = c.cx(3, "");
    let web = k8s::pods(&cx, "demo").labeled("app=web");
    assert_eq!(web.ready_count().await.expect("probe"), 3);
    assert_eq!(web.count_in_phase("Running").await.expect("probe"), 3);
    assert!(web.all_in_phase("Running").await.expect("probe"));
    assert_eq!(web.phases().await.expect("probe").get("Running"), Some(&3));
    let d = k8s::deployment(&cx, "demo", "web");
    assert!(d.available().await.expect("probe"));
    assert!(d.fully_available().await.expect("probe"));
    assert!(k8s::nodes(&cx).all_ready().await.expect("probe"));
    assert_eq!(k8s::nodes(&cx).ready_count().await.expect("probe"), 3);

    c.sim.set_node_ready("node-2", false);
    assert!(!k8s::nodes(&cx).all_ready().await.expect("probe"));
    let err = k8s::nodes(&cx)
        .wait_all_ready(Duration::from_millis(300))
        .await
        .expect_err("node-2 stays not ready");
    assert!(err.to_string().contains("2 of 3 ready"), "{err}");
    c.sim.set_node_ready("node-2", true);
    k8s::nodes(&cx)
        .wait_all_ready(Duration::from_secs(5))
        .await
        .expect("ready again");

    // Scale to 6 with no wait: not fully available at once, then recovered.
    k8s::deployment(&cx, "demo", "web")
        .scale(6)
        .await
        .expect("scale");
    let err = web
        .wait_ready(7, Duration::from_millis(400))
        .await
        .expect_err("there are never 7");
    assert!(matches!(err, K8sError::WaitTimeout { .. }), "{err}");
    assert_eq!(
        web.wait_ready(6, Duration::from_secs(10))
            .await
            .expect("recovered"),
        6
    );
}

#[tokio::test]
async fn nodes_cordon_uncordon_drain_and_delete() {
    let c = cluster();
    let cx = c.cx(5, "");
    let r = k8s::node(&cx, "node-1")
        .cordon(Select::all())
        .await
        .expect("cordon");
    assert_eq!(r.targets, ["node-1"]);
    let unschedulable =
        |n: &str| c.sim.get("nodes", "", n).expect("node")["spec"]["unschedulable"] == true;
    assert!(unschedulable("node-1"));
    k8s::node(&cx, "node-1")
        .uncordon(Select::all())
        .await
        .expect("uncordon");
    assert!(!unschedulable("node-1"));

    let on_node = |n: &str| {
        c.pods(Some(("app", "web")))
            .iter()
            .filter(|p| p["spec"]["nodeName"] == n && p["metadata"]["deletionTimestamp"].is_null())
            .count()
    };
    assert!(
        on_node("node-2") > 0,
        "the demo spreads web over every node"
    );
    let r = k8s::node(&cx, "node-2")
        .drain(Select::all())
        .await
        .expect("drain");
    assert_eq!(r.targets, ["node-2"]);
    assert!(unschedulable("node-2"));
    assert_eq!(on_node("node-2"), 0);
    assert!(c.requests("POST", "/eviction") >= 1);
    c.wait_web_ready(3).await;
    assert_eq!(on_node("node-2"), 0, "nothing scheduled on a cordoned node");
    assert_eq!(
        k8s::uncordon_cordoned(&cx).await.expect("rollback"),
        ["node-2"]
    );
    assert!(!unschedulable("node-2"));
    assert!(k8s::uncordon_cordoned(&cx)
        .await
        .expect("nothing left")
        .is_empty());

    // A node cordoned before the run is not the run's to uncordon.
    let client = k8s::cluster(&cx).await.expect("cluster").client().clone();
    kube::Api::<k8s_openapi::api::core::v1::Node>::all(client)
        .cordon("node-1")
        .await
        .expect("cordoned by someone else");
    k8s::node(&cx, "node-1")
        .cordon(Select::all())
        .await
        .expect("cordon");
    assert!(k8s::uncordon_cordoned(&cx)
        .await
        .expect("rollback")
        .is_empty());
    assert!(unschedulable("node-1"));
    k8s::node(&cx, "node-1")
        .uncordon(Select::all())
        .await
        .expect("uncordon");

    let r = k8s::node(&cx, "node-3")
        .delete(Select::all())
        .await
        .expect("delete");
    assert_eq!(r.targets, ["node-3"]);
    assert!(c.sim.get("nodes", "", "node-3").is_none());
    c.wait_web_ready(3).await;
    assert_eq!(on_node("node-3"), 0);
    let reasons = reasons(&c.sim, "demo");
    for r in [
        "ChaosNodeCordoned",
        "ChaosNodeUncordoned",
        "ChaosNodeDrained",
        "ChaosNodeDeleted",
    ] {
        assert!(
            reasons.iter().any(|x| x == r),
            "{r} missing from {reasons:?}"
        );
    }
}
