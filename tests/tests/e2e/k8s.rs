//! The Kubernetes target against the simulated cluster (`kube_sim`), served
//! over HTTP on loopback: selection, every action and probe with the cluster state checked
//! afterwards, recovery waits, guards, dry-run, retries, Events and rollbacks.

use chaos_harness::k8s::{self, K8sError};
use chaos_harness::prelude::Select;
use chaos_harness::target::Refusal;
use chaos_harness::target::TargetContext;
use chaos_harness::{run::Runner, Action, Context, Experiment, Outcome, Probe};
use kube_sim::{Fault, FaultKind, Sim, SimConfig};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

struct Cluster {
    sim: Sim,
    _dir: tempfile::TempDir,
    kubeconfig: PathBuf,
}

fn fast() -> SimConfig {
    SimConfig {
        replace_delay: Duration::from_millis(100),
        ready_delay: Duration::from_millis(100),
        max_termination: Duration::from_millis(100),
    }
}

fn cluster() -> Cluster {
    cluster_with(fast())
}

fn cluster_with(config: SimConfig) -> Cluster {
    let sim = Sim::start(config).expect("the simulated cluster starts");
    sim.seed_demo();
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&kubeconfig, "demo")
        .expect("kubeconfig written");
    Cluster {
        sim,
        _dir: dir,
        kubeconfig,
    }
}

impl Cluster {
    /// A context whose `[targets.k8s]` points at this cluster, plus `extra` TOML lines.
    fn cx(&self, seed: u64, extra: &str) -> Context {
        let text = format!(
            "[k8s]\nkubeconfig = {:?}\n{extra}\n",
            self.kubeconfig.display().to_string()
        );
        let table: toml::Table = toml::from_str(&text).expect("test TOML");
        Context::builder()
            .experiment("k8s-tests::case")
            .seed(seed)
            .target_settings(table)
            .build()
    }

    fn pods(&self, selector: Option<(&str, &str)>) -> Vec<Value> {
        self.sim
            .list("pods", "demo")
            .into_iter()
            .filter(|p| {
                selector.is_none_or(|(k, v)| p["metadata"]["labels"][k].as_str() == Some(v))
            })
            .collect()
    }

    fn live_pod_names(&self) -> BTreeSet<String> {
        self.pods(Some(("app", "web")))
            .iter()
            .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
            .map(|p| {
                p["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect()
    }

    fn requests(&self, method: &str, path_part: &str) -> usize {
        self.sim
            .requests()
            .iter()
            .filter(|r| r.method == method && r.path.contains(path_part))
            .count()
    }

    /// Requests that change the cluster's objects (Events aside).
    fn writes(&self) -> usize {
        self.sim
            .requests()
            .iter()
            .filter(|r| r.method != "GET" && !r.path.contains("/events"))
            .count()
    }

    async fn wait_web_ready(&self, n: usize) {
        for _ in 0..200 {
            let ready = self
                .pods(Some(("app", "web")))
                .iter()
                .filter(|p| {
                    p["metadata"]["deletionTimestamp"].is_null()
                        && p["status"]["conditions"].as_array().is_some_and(|c| {
                            c.iter()
                                .any(|c| c["type"] == "Ready" && c["status"] == "True")
                        })
                })
                .count();
            if ready == n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "web never had {n} ready pods: {:#?}",
            self.pods(Some(("app", "web")))
        );
    }
}

/// The reasons of the Events in `ns`, in the order they happened.
fn reasons(sim: &Sim, ns: &str) -> Vec<String> {
    let mut events = sim.events(ns);
    events.sort_by(|a, b| {
        let key = |e: &Value| {
            (
                e["eventTime"].as_str().unwrap_or_default().to_owned(),
                e["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        };
        key(a).cmp(&key(b))
    });
    events
        .iter()
        .map(|e| e["reason"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn selection_by_labels_fields_and_names_over_pages() {
    let c = cluster();
    c.sim.add_pods("demo", "batch", 1_205, &[("app", "batch")]);
    let cx = c.cx(1, "");
    let batch = k8s::pods(&cx, "demo").labeled("app=batch").page_size(500);
    c.sim.clear_requests();
    let all = batch.list().await.expect("list");
    assert_eq!(all.len(), 1_205);
    assert_eq!(c.requests("GET", "/pods"), 3, "three pages of 500");
    assert!(c
        .sim
        .requests()
        .iter()
        .any(|r| r.query.contains("continue=")));
    assert!(
        all.windows(2).all(|w| w[0].name < w[1].name),
        "sorted by name"
    );

    let web = k8s::pods(&cx, "demo").labeled("app=web");
    assert_eq!(web.count().await.expect("count"), 3);
    let set_based = k8s::pods(&cx, "demo").labeled("tier in (frontend,backend),app!=batch");
    assert_eq!(set_based.count().await.expect("count"), 3);
    let running = k8s::pods(&cx, "demo")
        .fields("status.phase=Running")
        .count()
        .await
        .expect("count");
    assert_eq!(running, 1_208);
    let named = k8s::pods(&cx, "demo")
        .name_matches("batch-0000?")
        .count()
        .await
        .expect("count");
    assert_eq!(named, 10);
    let every_ns = k8s::pods(&cx, "*")
        .labeled("app=web")
        .count()
        .await
        .expect("count");
    assert_eq!(every_ns, 3);

    let err = k8s::pods(&cx, "demo")
        .fields("spec.bogus=1")
        .count()
        .await
        .expect_err("unsupported field");
    assert!(
        matches!(&err, K8sError::Api { code: 400, reason, .. } if reason == "BadRequest"),
        "{err}"
    );
}

#[tokio::test]
async fn choices_are_seeded_rounded_up_and_recorded() {
    let c = cluster();
    c.sim.add_pods("demo", "batch", 50, &[("app", "batch")]);
    fn batch(cx: &Context) -> k8s::Pods<'_> {
        k8s::pods(cx, "demo").labeled("app=batch")
    }
    let names = |s: &chaos_harness::target::Selection<k8s::PodInfo>| {
        s.chosen.iter().map(|p| p.name.clone()).collect::<Vec<_>>()
    };

    let cx = c.cx(42, "");
    let a = batch(&cx).choose(Select::random(5)).await.expect("choose");
    let again = batch(&c.cx(42, ""))
        .choose(Select::random(5))
        .await
        .expect("choose");
    let other = batch(&c.cx(43, ""))
        .choose(Select::random(5))
        .await
        .expect("choose");
    assert_eq!(names(&a), names(&again), "same seed, same pods");
    assert_ne!(names(&a), names(&other), "another seed, other pods");
    assert_eq!(a.matched, 50);

    let pct = batch(&cx)
        .choose(Select::percent(11.0))
        .await
        .expect("choose");
    assert_eq!(pct.chosen.len(), 6, "11% of 50 is 5.5, rounded up");
    let all = batch(&cx).choose(Select::all()).await.expect("choose");
    assert_eq!(all.chosen.len(), 50);

    assert!(c
        .sim
        .set_pod_age("demo", "batch-00031", Duration::from_secs(3_600)));
    assert!(c
        .sim
        .set_pod_age("demo", "batch-00007", Duration::from_secs(7_200)));
    let oldest = batch(&cx).choose(Select::oldest(2)).await.expect("choose");
    assert_eq!(names(&oldest), ["batch-00007", "batch-00031"]);
    let oldest_pct = batch(&cx)
        .choose(Select::percent(2.0).oldest_first())
        .await
        .expect("choose");
    assert_eq!(names(&oldest_pct), ["batch-00007"]);

    let recorded = cx.recorded_targets();
    assert_eq!(recorded.len(), 5);
    assert_eq!(recorded[0]["target"], "k8s-pods");
    assert_eq!(recorded[0]["label_selector"], "app=batch");
    assert_eq!(recorded[0]["matched"], 50);
    assert_eq!(recorded[0]["choice"], "random 5");
    assert_eq!(recorded[0]["chosen"].as_array().map(Vec::len), Some(5));
    assert_eq!(recorded[3]["choice"], "oldest 2");
}

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

#[tokio::test]
async fn events_tell_the_story_of_a_run_and_rollbacks_restore_state() {
    let c = cluster();
    let cx = c.cx(11, "");
    let exp = Experiment::builder("k8s-tests::failed_method")
        .steady_state(
            Probe::new("web ready", |cx: Context| async move {
                Ok(k8s::pods(&cx, "demo")
                    .labeled("app=web")
                    .ready_count()
                    .await?)
            })
            .tolerance(">= 1", |n| *n >= 1),
        )
        .method(Action::new("scale web to 1", |cx: Context| async move {
            Ok(k8s::deployment(&cx, "demo", "web").scale(1).await?)
        }))
        .method(Action::new("cordon node-1", |cx: Context| async move {
            Ok(k8s::node(&cx, "node-1").cordon(Select::all()).await?)
        }))
        .method(Action::new("break", |_cx: Context| async move {
            Err::<(), _>("the method fails".into())
        }))
        .rollback(Action::new("restore replicas", |cx: Context| async move {
            Ok(k8s::restore_scales(&cx).await?)
        }))
        .rollback(Action::new("uncordon", |cx: Context| async move {
            Ok(k8s::uncordon_cordoned(&cx).await?)
        }))
        .build()
        .expect("experiment");
    let report = Runner::new()
        .extension(k8s::ClusterEvents)
        .run(&exp, cx.clone())
        .await;
    assert_eq!(report.outcome, Outcome::ActivityFailed);
    assert_eq!(
        c.sim.get("deployments", "demo", "web").expect("web")["spec"]["replicas"],
        3
    );
    assert_ne!(
        c.sim.get("nodes", "", "node-1").expect("node")["spec"]["unschedulable"],
        true
    );
    k8s::deployment(&cx, "demo", "web")
        .wait_fully_available(Duration::from_secs(10))
        .await
        .expect("web back to 3");

    let reasons = reasons(&c.sim, "demo");
    let want = [
        "ChaosExperimentStarted",
        "ChaosDeploymentScaled",
        "ChaosNodeCordoned",
        "ChaosRollbacksStarted",
        "ChaosDeploymentRestored",
        "ChaosNodeUncordoned",
        "ChaosRollbacksCompleted",
        "ChaosExperimentActivityFailed",
    ];
    let mut it = reasons.iter();
    for w in want {
        assert!(
            it.any(|r| r == w),
            "{w} missing or out of order in {reasons:?}"
        );
    }
    let events = c.sim.events("demo");
    let verdict = events
        .iter()
        .find(|e| e["reason"] == "ChaosExperimentActivityFailed")
        .expect("verdict");
    assert_eq!(verdict["type"], "Warning");
    assert_eq!(verdict["reportingController"], k8s::REPORTING_CONTROLLER);
    assert!(
        verdict["note"]
            .as_str()
            .unwrap_or_default()
            .contains("seed 11"),
        "{verdict:#}"
    );
    let scaled = events
        .iter()
        .find(|e| e["reason"] == "ChaosDeploymentScaled")
        .expect("scaled");
    assert_eq!(scaled["regarding"]["kind"], "Deployment");
    assert_eq!(scaled["regarding"]["name"], "web");
}

/// A context for `kubeconfig`'s `sim` context, namespace `demo`, authenticating with
/// `provider` registered as `cluster-token`.
fn cx_with_credentials(
    kubeconfig: &std::path::Path,
    provider: impl chaos_harness::credentials::CredentialProvider,
) -> Context {
    let mut registry = chaos_harness::credentials::CredentialRegistry::new();
    registry
        .register("cluster-token", provider)
        .expect("register");
    let table: toml::Table = toml::from_str(&format!(
        "[k8s]\nkubeconfig = {:?}\ncontext = \"sim\"\nnamespace = \"demo\"\ncredentials = \"cluster-token\"\n",
        kubeconfig.display().to_string()
    ))
    .expect("toml");
    Context::builder()
        .experiment("k8s-tests::context")
        .seed(1)
        .credentials(Arc::new(registry))
        .target_settings(table)
        .build()
}

#[tokio::test]
async fn context_namespace_and_credentials_from_settings() {
    use chaos_harness::credentials::{from_fn, Credentials, TokenFile};
    let c = cluster();
    let dir = tempfile::tempdir().expect("tempdir");
    // Two contexts: the current one points at a closed port, `sim` at the cluster.
    let kubeconfig = dir.path().join("two-contexts");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: dead\n  cluster:\n    server: http://127.0.0.1:9\n- name: sim\n  cluster:\n    server: {}\nusers:\n- name: nobody\n  user: {{}}\ncontexts:\n- name: dead\n  context:\n    cluster: dead\n    user: nobody\n- name: sim\n  context:\n    cluster: sim\n    user: nobody\n    namespace: kube-system\ncurrent-context: dead\n",
            c.sim.url()
        ),
    )
    .expect("kubeconfig");
    let token = dir.path().join("token");
    std::fs::write(&token, "k8s-test-token-123\n").expect("token");
    let cx = cx_with_credentials(&kubeconfig, TokenFile::new(&token));
    c.sim.clear_requests();
    // "" is the default namespace: the settings' `demo` wins over the context's `kube-system`.
    let web = k8s::pods(&cx, "").labeled("app=web");
    assert_eq!(web.count().await.expect("count"), 3);
    let cluster = k8s::cluster(&cx).await.expect("cluster");
    assert_eq!(cluster.namespace(), "demo");
    let auth: Vec<_> = c
        .sim
        .requests()
        .iter()
        .map(|r| r.authorization.clone().unwrap_or_default())
        .collect();
    assert!(!auth.is_empty());
    assert!(
        auth.iter().all(|a| a == "Bearer k8s-test-token-123"),
        "{auth:?}"
    );

    // A user and password: basic authentication.
    let cx = cx_with_credentials(
        &kubeconfig,
        from_fn("test", || {
            Ok(Credentials::from_user_password(
                "chaos",
                "k8s-test-password",
            ))
        }),
    );
    c.sim.clear_requests();
    k8s::pods(&cx, "").count().await.expect("count");
    let auth = c.sim.requests()[0]
        .authorization
        .clone()
        .unwrap_or_default();
    // base64("chaos:k8s-test-password")
    assert_eq!(auth, "Basic Y2hhb3M6azhzLXRlc3QtcGFzc3dvcmQ=");

    // A bad kubeconfig path names the file.
    let table: toml::Table =
        toml::from_str("[k8s]\nkubeconfig = \"/nonexistent/kubeconfig\"\n").expect("toml");
    let cx = Context::builder().target_settings(table).build();
    let err = k8s::pods(&cx, "demo")
        .count()
        .await
        .expect_err("no such file");
    assert!(err.to_string().contains("/nonexistent/kubeconfig"), "{err}");
    // A bad key is named.
    let table: toml::Table = toml::from_str("[k8s]\nmax_pods = 3\n").expect("toml");
    let cx = Context::builder().target_settings(table).build();
    let err = k8s::pods(&cx, "demo").count().await.expect_err("bad key");
    assert!(err.to_string().contains("unknown key `max_pods`"), "{err}");
}

#[tokio::test]
async fn events_can_be_turned_off() {
    let c = cluster();
    let cx = c.cx(1, "events = false");
    k8s::pods(&cx, "demo")
        .labeled("app=web")
        .terminate(Select::random(1))
        .await
        .expect("terminate");
    k8s::deployment(&cx, "demo", "web")
        .scale(4)
        .await
        .expect("scale");
    assert!(c.sim.events("demo").is_empty());
    assert_eq!(c.requests("POST", "/events"), 0);
}
