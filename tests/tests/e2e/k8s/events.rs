//! Events that tell a run's story, the cluster reached from settings, and Events turned off.

use super::*;

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
