//! kube-rs against the simulation.

use kube_sim::{Sim, SimConfig};
use std::time::Duration;

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
