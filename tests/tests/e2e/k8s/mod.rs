//! The Kubernetes target against the simulated cluster (`kube_sim`), served
//! over HTTP on loopback: selection, every action and probe with the cluster state checked
//! afterwards, recovery waits, guards, dry-run, retries, Events and rollbacks. This file holds
//! the fixtures; the tests are in one module per subject.

mod actions;
mod events;
mod safety;
mod selection;
mod touches;

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
