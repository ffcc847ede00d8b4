//! The Kubernetes example experiments. Run them with `cargo test -p chaos-examples`.
//!
//! Unless the settings name a cluster (`kubeconfig`, `context` or `in_cluster` in
//! `[targets.k8s]`; a shell's `$KUBECONFIG` alone is not enough, so a real cluster is never hit
//! by accident), each experiment runs against a simulated cluster of its own, seeded with
//! namespace `demo`, nodes `node-1`..`node-3` and deployment `web` (3 pods labelled `app=web`).
//! Against a real cluster, deploy the same (or set the variables `k8s_namespace` and `web_url`)
//! and bound the blast radius in `[targets.k8s]`: `allowed_namespaces = ["demo"]`,
//! `max_count = 2`.

use chaos_examples::demo;
use chaos_harness::prelude::*;
use chaos_harness::Setup;
use std::time::Duration;

fn setup(s: &mut Setup) {
    s.extension(k8s::FallbackCluster(chaos_examples::cluster::simulated));
    // The Chaos Toolkit demo's experiments (`chaostoolkit/`) read their targets from the
    // environment, as their `configuration` blocks ask: the demo service and the simulated
    // cluster's `web` pods, unless the environment names others.
    let defaults = [
        ("SERVICE_URL", demo::service("ctk-web").url()),
        ("LABEL_SELECTOR", "app=web".to_owned()),
        ("NAMESPACE", "demo".to_owned()),
        // hello-world misspells `steady-state-hypothesis`: run it as Chaos Toolkit does.
        ("CHAOS_CTK_UNKNOWN_KEYS", "warn".to_owned()),
    ];
    for (k, v) in defaults {
        if std::env::var_os(k).is_none() {
            std::env::set_var(k, v);
        }
    }
}

chaos_harness::main!(
    chaostoolkit = [
        "chaostoolkit/hello-world.yaml",
        "chaostoolkit/kill-pods-with-label.yaml"
    ],
    setup = setup
);

fn ns(cx: &Context) -> String {
    cx.var_or("k8s_namespace", "demo")
}

fn web_url(cx: &Context) -> String {
    cx.var_or("web_url", &demo::service("k8s-web").url())
}

/// Chaos Toolkit's kill-pods-with-label, in Rust: one `app=web` pod terminated at random, and
/// the deployment back to full availability within 20 s.
#[experiment(
    title = "web recovers when a pod labelled app=web is killed",
    tags = ["k8s"],
    touches = ["deployments.read", "pods.terminate"],
    timeout = 60s,
)]
async fn kill_pods_with_label(cx: &Context) {
    steady_state! {
        probe "web fully available" {
            k8s::deployment(cx, &ns(cx), "web").fully_available().await?
        } => == true;
        probe "the service answers" [timeout = 3s] {
            http::get(web_url(cx)).await?.status()
        } => == 200;
    }
    method! {
        action "terminate one app=web pod at random" {
            let report = k8s::pods(cx, &ns(cx)).labeled("app=web").terminate(Select::random(1)).await?;
            if report.targets.len() != 1 {
                return Err(format!("expected to terminate 1 app=web pod, terminated {:?}", report.targets).into());
            }
            report
        };
        probe "web recovered within 20s" {
            k8s::deployment(cx, &ns(cx), "web").wait_fully_available(Duration::from_secs(20)).await?.ready
        } => >= 3;
    }
}

/// LitmusChaos's pod-delete with a percentage: half the web pods (rounded up) deleted at once
/// while a web pod is checked to serve every 200 ms.
#[experiment(
    title = "a web pod keeps serving while half of them are deleted",
    tags = ["k8s"],
    touches = ["pods.read", "pods.terminate"],
    hypothesis = continuously(every = 200ms),
    timeout = 60s,
)]
async fn pod_delete_percentage(cx: &Context) {
    steady_state! {
        probe "at least one web pod ready" {
            k8s::pods(cx, &ns(cx)).labeled("app=web").ready_count().await?
        } => >= 1;
    }
    method! {
        action "delete 50% of the web pods" {
            k8s::pods(cx, &ns(cx)).labeled("app=web").grace_period(Duration::from_secs(1)).terminate(Select::percent(50.0)).await?
        };
        probe "3 web pods ready again within 20s" {
            k8s::pods(cx, &ns(cx)).labeled("app=web").wait_ready(3, Duration::from_secs(20)).await?
        } => >= 3;
    }
}

/// A node drained (cordoned, its pods evicted) while web stays available; the rollback
/// uncordons it, whatever happened.
#[experiment(
    title = "web survives the drain of a node, which the rollback uncordons",
    tags = ["k8s"],
    touches = ["nodes.read", "nodes.drain", "nodes.cordon", "deployments.read"],
    rollbacks = always,
    timeout = 90s,
)]
async fn node_drain(cx: &Context) {
    steady_state! {
        probe "all nodes ready" { k8s::nodes(cx).all_ready().await? } => == true;
        probe "web fully available" {
            k8s::deployment(cx, &ns(cx), "web").fully_available().await?
        } => == true;
    }
    method! {
        action "drain one node" {
            k8s::nodes(cx).drain_timeout(Duration::from_secs(30)).drain(Select::random(1)).await?
        };
        probe "web fully available again within 20s" {
            k8s::deployment(cx, &ns(cx), "web").wait_fully_available(Duration::from_secs(20)).await?.available
        } => >= 3;
    }
    rollback! {
        action "uncordon what was drained" { k8s::uncordon_cordoned(cx).await? };
    }
}
