//! FIGURE (issue 14): time from the harness's start to its first action, run as a pod of the
//! in-cluster Job would run it, against the simulated cluster: the service account's token and
//! CA, `KUBERNETES_SERVICE_HOST`/`PORT` in front of a TLS relay, `[targets.k8s] in_cluster =
//! true`, and the Job's identity (so each run also writes its result ConfigMap and its Event
//! on the Job). The experiment is `k8s_fixtures::terminate_one` (list the `app=web` pods,
//! terminate one at random); the first action is the first pod DELETE the cluster receives.
//! (Litmus's runner sleeps at least 25 s per experiment on its happy path.)
//!
//! `cargo bench -p chaos-tests --bench k8s_job` (`CHAOS_BENCH_RUNS`, default 15). Each run
//! gets a fresh cluster; the run's exit code, its pod DELETE and its result ConfigMap are
//! checked.

use kube_sim::{Sim, SimConfig};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

mod common;

const EXE: &str = env!("CARGO_BIN_EXE_k8s-fixtures");

fn main() {
    let _ = tokio_rustls::rustls::crypto::aws_lc_rs::default_provider().install_default();
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).expect("certificate");
    let key =
        tokio_rustls::rustls::pki_types::PrivateKeyDer::try_from(cert.signing_key.serialize_der())
            .expect("key");
    let config = Arc::new(
        tokio_rustls::rustls::ServerConfig::builder_with_provider(Arc::new(
            tokio_rustls::rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)
        .expect("certificate"),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let sa = dir.path().join("serviceaccount");
    std::fs::create_dir_all(&sa).expect("sa dir");
    std::fs::write(sa.join("token"), "bench-token").expect("token");
    std::fs::write(sa.join("ca.crt"), cert.cert.pem()).expect("ca");
    std::fs::write(sa.join("namespace"), "chaos").expect("namespace");
    let settings = dir.path().join("chaos.toml");
    std::fs::write(
        &settings,
        "[targets.k8s]\nin_cluster = true\nnamespace = \"demo\"\n",
    )
    .expect("settings");

    let runs = common::runs(15);
    let (mut first, mut whole) = (Vec::new(), Vec::new());
    for i in 0..runs {
        let sim = Sim::start(SimConfig::default()).expect("cluster");
        sim.seed_demo();
        sim.add_namespace("chaos");
        let front = chaos_test_support::tls_forward::TlsForward::start(
            tokio_rustls::TlsAcceptor::from(config.clone()),
            ([127, 0, 0, 1], sim.port()).into(),
        );
        let work = dir.path().join(format!("run{i}"));
        let start = Instant::now();
        let out = Command::new(EXE)
            .env("CHAOS_SETTINGS", &settings)
            .env("CHAOS_JOURNAL_DIR", work.join("journals"))
            .env("CHAOS_LOCK_DIR", work.join("locks"))
            .env("CHAOS_HISTORY", "off")
            .env("CHAOS_HTML", "off")
            .env("KUBERNETES_SERVICE_HOST", "127.0.0.1")
            .env("KUBERNETES_SERVICE_PORT", front.port().to_string())
            .env("CHAOS_K8S_SERVICE_ACCOUNT_DIR", &sa)
            .env("CHAOS_K8S_JOB", "chaos-bench")
            .env("CHAOS_K8S_NAMESPACE", "chaos")
            .env_remove("NEXTEST_RUN_ID")
            .args(["--exact", "k8s_fixtures::terminate_one"])
            .output()
            .expect("the harness runs");
        let ended = start.elapsed();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        let delete = sim
            .requests()
            .into_iter()
            .find(|r| r.method == "DELETE" && r.path.starts_with("/api/v1/namespaces/demo/pods/"))
            .expect("a pod DELETE");
        assert!(
            sim.list("configmaps", "chaos")
                .iter()
                .any(|c| c["data"]["outcome"] == "passed"),
            "no result ConfigMap"
        );
        first.push(common::ms(delete.started.duration_since(start)));
        whole.push(common::ms(ended));
    }
    println!(
        "in-cluster run of k8s_fixtures::terminate_one, {runs} runs (debug build: {})",
        cfg!(debug_assertions)
    );
    println!(
        "  harness start -> first action (pod DELETE): median {:.1} ms, p90 {:.1} ms, min {:.1} ms",
        common::median(&first),
        common::percentile(&first, 90.0),
        common::min(&first)
    );
    println!(
        "  harness start -> exit (result ConfigMap and Event written): median {:.1} ms, p90 {:.1} ms",
        common::median(&whole),
        common::percentile(&whole, 90.0)
    );
}
