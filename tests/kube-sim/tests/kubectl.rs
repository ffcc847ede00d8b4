//! The Kubernetes API simulation (`kube_sim`) checked against the real
//! `kubectl`: every operation the Kubernetes target relies on, as kubectl performs it.
//!
//! kubectl must be on PATH (CI machine images have it); without it these tests fail, unless
//! `CHAOS_SKIP_KUBECTL=1`. Each test has its own simulated cluster, kubeconfig and `HOME`
//! (kubectl's discovery cache), and every kubectl run is killed after 60 s.

use kube_sim::{Fault, Sim, SimConfig};
use serde_json::Value;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const KUBECTL_TIMEOUT: Duration = Duration::from_secs(60);

fn kubectl_binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("kubectl"))
        .find(|p| p.is_file())
}

/// A simulated cluster seeded with the demo, and a way to run kubectl against it.
struct Cluster {
    sim: Sim,
    kubectl: PathBuf,
    kubeconfig: PathBuf,
    home: PathBuf,
    _dir: tempfile::TempDir,
}

/// What a kubectl run produced.
#[derive(Debug)]
struct Output {
    success: bool,
    stdout: String,
    stderr: String,
}

/// The demo cluster, or None when kubectl is missing and `CHAOS_SKIP_KUBECTL=1`.
fn cluster() -> Option<Cluster> {
    let Some(kubectl) = kubectl_binary() else {
        if std::env::var("CHAOS_SKIP_KUBECTL").as_deref() == Ok("1") {
            eprintln!("kubectl is not on PATH; skipped (CHAOS_SKIP_KUBECTL=1)");
            return None;
        }
        panic!(
            "kubectl is not on PATH: these tests check the Kubernetes simulation against the real \
             kubectl (v1.32). Install kubectl, or set CHAOS_SKIP_KUBECTL=1 to skip them."
        );
    };
    let sim = Sim::start(SimConfig {
        replace_delay: Duration::from_millis(150),
        ready_delay: Duration::from_millis(150),
        max_termination: Duration::from_millis(150),
    })
    .expect("the simulation starts");
    sim.seed_demo();
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&kubeconfig, "demo")
        .expect("kubeconfig written");
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).expect("home");
    Some(Cluster {
        sim,
        kubectl,
        kubeconfig,
        home,
        _dir: dir,
    })
}

fn read_all(mut r: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}

impl Cluster {
    /// Runs kubectl with these arguments (killed after 60 s).
    fn run(&self, args: &[&str]) -> Output {
        let mut child = Command::new(&self.kubectl)
            .arg(format!("--kubeconfig={}", self.kubeconfig.display()))
            .arg("--request-timeout=20s")
            .args(args)
            .env("HOME", &self.home)
            .env_remove("KUBECONFIG")
            .env_remove("HTTP_PROXY")
            .env_remove("HTTPS_PROXY")
            .env_remove("http_proxy")
            .env_remove("https_proxy")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubectl starts");
        let out = read_all(child.stdout.take().expect("stdout"));
        let err = read_all(child.stderr.take().expect("stderr"));
        let deadline = Instant::now() + KUBECTL_TIMEOUT;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
            }
        };
        let output = Output {
            success: status.is_some_and(|s| s.success()),
            stdout: out.join().unwrap_or_default(),
            stderr: err.join().unwrap_or_default(),
        };
        assert!(
            status.is_some(),
            "kubectl {args:?} was killed after {KUBECTL_TIMEOUT:?}: {output:?}"
        );
        output
    }

    /// Runs kubectl, which must succeed; its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.success,
            "kubectl {args:?} failed:\n{}\n{}",
            out.stdout, out.stderr
        );
        out.stdout
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["-o", "json"]);
        serde_json::from_str(&self.ok(&all)).expect("kubectl -o json prints JSON")
    }

    /// Pods of namespace demo that are not terminating.
    fn live_pods(&self) -> Vec<Value> {
        self.sim
            .list("pods", "demo")
            .into_iter()
            .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
            .collect()
    }

    fn ready_pods(&self) -> Vec<Value> {
        self.live_pods().into_iter().filter(is_ready).collect()
    }
}

fn is_ready(p: &Value) -> bool {
    p["status"]["conditions"].as_array().is_some_and(|c| {
        c.iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    })
}

fn name(o: &Value) -> String {
    o["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out after {timeout:?} waiting for {what}");
}

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

/// kube-rs (the client the Kubernetes target uses) against the same simulation: typed
/// objects deserialise, errors parse as `Status`, paging, scale, eviction, events and watch.
#[test]
fn kube_rs_accepts_the_simulation() {
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::core::v1::{Node, Pod};
    use k8s_openapi::api::events::v1::Event;
    use kube::api::{Api, DeleteParams, EvictParams, ListParams, Patch, PatchParams, PostParams};
    use kube::config::{KubeConfigOptions, Kubeconfig};

    let _ = tokio_rustls::rustls::crypto::aws_lc_rs::default_provider().install_default();
    let sim = Sim::start(SimConfig {
        replace_delay: Duration::from_millis(100),
        ready_delay: Duration::from_millis(100),
        max_termination: Duration::from_millis(100),
    })
    .expect("the simulation starts");
    sim.seed_demo();
    sim.add_pods("bulk", "p", 25, &[("app", "bulk")]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let kubeconfig = Kubeconfig::from_yaml(&sim.kubeconfig("demo")).expect("kubeconfig parses");
        let config =
            kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                .await
                .expect("config");
        let client = kube::Client::try_from(config).expect("client");

        let pods: Api<Pod> = Api::namespaced(client.clone(), "demo");
        let web = pods
            .list(&ListParams::default().labels("app=web,tier in (frontend)"))
            .await
            .expect("list");
        assert_eq!(web.items.len(), 3);
        assert!(web
            .items
            .iter()
            .all(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")));

        let bulk: Api<Pod> = Api::namespaced(client.clone(), "bulk");
        let mut params = ListParams::default().limit(10);
        let mut seen = 0;
        loop {
            let page = bulk.list(&params).await.expect("page");
            seen += page.items.len();
            match page.metadata.continue_ {
                Some(token) if !token.is_empty() => params = params.continue_token(&token),
                _ => break,
            }
        }
        assert_eq!(seen, 25);

        let err = pods.get("nope").await.expect_err("missing pod");
        match err {
            kube::Error::Api(s) => {
                assert_eq!(s.code, 404);
                assert_eq!(s.reason, "NotFound");
                assert_eq!(s.message, "pods \"nope\" not found");
            }
            other => panic!("expected an API error, got {other:?}"),
        }

        let nodes: Api<Node> = Api::all(client.clone());
        assert_eq!(
            nodes
                .list(&ListParams::default())
                .await
                .expect("nodes")
                .items
                .len(),
            3
        );
        nodes
            .patch(
                "node-3",
                &PatchParams::default(),
                &Patch::Merge(serde_json::json!({"spec": {"unschedulable": true}})),
            )
            .await
            .expect("cordon");

        let deployments: Api<Deployment> = Api::namespaced(client.clone(), "demo");
        let scale = deployments.get_scale("web").await.expect("scale");
        assert_eq!(scale.spec.and_then(|s| s.replicas), Some(3));
        deployments
            .patch_scale(
                "web",
                &PatchParams::default(),
                &Patch::Merge(serde_json::json!({"spec": {"replicas": 4}})),
            )
            .await
            .expect("patch scale");
        let d = deployments.get("web").await.expect("deployment");
        assert_eq!(d.spec.replicas, Some(4));

        let victim = web.items[0].metadata.name.clone().unwrap_or_default();
        let evicted = pods
            .evict(&victim, &EvictParams::default())
            .await
            .expect("evict");
        assert_eq!(evicted.code, 201);
        let terminating = pods.get(&victim).await.expect("evicted pod, terminating");
        assert!(terminating.metadata.deletion_timestamp.is_some());
        let other = web.items[1].metadata.name.clone().unwrap_or_default();
        // A watch on that one pod (from "0": the current state first) sees it deleted.
        let watch = pods
            .watch(
                &kube::api::WatchParams::default()
                    .fields(&format!("metadata.name={other}"))
                    .timeout(20),
                "0",
            )
            .await
            .expect("watch");
        let watched = tokio::spawn(async move {
            use futures_util::StreamExt;
            let mut kinds = Vec::new();
            let mut watch = std::pin::pin!(watch);
            while let Some(ev) = watch.next().await {
                let kind = match ev.expect("watch event") {
                    kube::api::WatchEvent::Added(_) => "ADDED",
                    kube::api::WatchEvent::Modified(_) => "MODIFIED",
                    kube::api::WatchEvent::Deleted(_) => "DELETED",
                    kube::api::WatchEvent::Bookmark(_) => "BOOKMARK",
                    kube::api::WatchEvent::Error(_) => "ERROR",
                };
                kinds.push(kind);
                if kind == "DELETED" {
                    break;
                }
            }
            kinds
        });
        let deleted = pods
            .delete(&other, &DeleteParams::default().grace_period(0))
            .await
            .expect("delete");
        let kinds = tokio::time::timeout(Duration::from_secs(20), watched)
            .await
            .expect("the watch saw the delete in time")
            .expect("watch task");
        assert_eq!(kinds.first(), Some(&"ADDED"), "{kinds:?}");
        assert_eq!(kinds.last(), Some(&"DELETED"), "{kinds:?}");
        assert!(deleted.is_left(), "pods come back as the object");
        assert!(pods.get_opt(&other).await.expect("get_opt").is_none());
        let deleted = deployments
            .delete("nope", &DeleteParams::default())
            .await
            .expect_err("missing");
        assert!(matches!(deleted, kube::Error::Api(s) if s.reason == "NotFound"));

        let events: Api<Event> = Api::namespaced(client.clone(), "demo");
        let ev: Event = serde_json::from_value(serde_json::json!({
            "metadata": {"generateName": "chaos-"},
            "regarding": {"kind": "Pod", "name": victim, "namespace": "demo"},
            "note": "evicted by chaos", "reason": "ChaosEvict", "type": "Normal", "action": "Evict",
            "eventTime": "2025-01-01T00:00:00.000000Z",
            "reportingController": "chaos-harness", "reportingInstance": "chaos-harness-1",
        }))
        .expect("event");
        let created = events
            .create(&PostParams::default(), &ev)
            .await
            .expect("create event");
        assert_eq!(created.note.as_deref(), Some("evicted by chaos"));
        assert_eq!(
            events
                .list(&ListParams::default())
                .await
                .expect("events")
                .items
                .len(),
            1
        );
    });
    assert_eq!(sim.events("demo")[0]["reason"], "ChaosEvict");
    assert_eq!(
        sim.get("nodes", "", "node-3").unwrap_or_default()["spec"]["unschedulable"],
        true
    );
}
