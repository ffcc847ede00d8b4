//! A simulated cluster seeded with the demo, kubectl run against it, and waits.

use kube_sim::{Sim, SimConfig};
use serde_json::Value;
use std::io::Read;
use std::path::PathBuf;
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
pub(crate) struct Cluster {
    pub(crate) sim: Sim,
    kubectl: PathBuf,
    kubeconfig: PathBuf,
    pub(crate) home: PathBuf,
    _dir: tempfile::TempDir,
}

/// What a kubectl run produced.
#[derive(Debug)]
pub(crate) struct Output {
    pub(crate) success: bool,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// The demo cluster, or None when kubectl is missing and `CHAOS_SKIP_KUBECTL=1`.
pub(crate) fn cluster() -> Option<Cluster> {
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
    pub(crate) fn run(&self, args: &[&str]) -> Output {
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
    pub(crate) fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.success,
            "kubectl {args:?} failed:\n{}\n{}",
            out.stdout, out.stderr
        );
        out.stdout
    }

    pub(crate) fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["-o", "json"]);
        serde_json::from_str(&self.ok(&all)).expect("kubectl -o json prints JSON")
    }

    /// Pods of namespace demo that are not terminating.
    pub(crate) fn live_pods(&self) -> Vec<Value> {
        self.sim
            .list("pods", "demo")
            .into_iter()
            .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
            .collect()
    }

    pub(crate) fn ready_pods(&self) -> Vec<Value> {
        self.live_pods().into_iter().filter(is_ready).collect()
    }
}

pub(crate) fn is_ready(p: &Value) -> bool {
    p["status"]["conditions"].as_array().is_some_and(|c| {
        c.iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    })
}

pub(crate) fn name(o: &Value) -> String {
    o["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

pub(crate) fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out after {timeout:?} waiting for {what}");
}
