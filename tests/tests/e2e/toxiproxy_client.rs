//! The Toxiproxy-compatible server (`chaos_runtime::target::proxy::server`) driven by
//! Toxiproxy's own Python client, toxiproxy-python (toxiproxy_client.py beside this file):
//! proxies created, a latency toxic measured, updated, listed and removed, a proxy disabled
//! and enabled, reset, populate, and the client's exceptions for 404, 409 and 400; then the
//! requests chaostoolkit-toxiproxy sends.
//!
//! The client lives in a venv that `bash scripts/toxiproxy-client.sh install` makes (as
//! scripts/test.sh does before the tests); `CHAOS_TOXIPROXY_PYTHON` names another python that
//! has it. Without either the test fails, saying so.

use chaos_runtime::target::proxy::server::{Registry, Server};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::net::TcpListener;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate sits in the repository")
        .to_owned()
}

/// The python with the client: `CHAOS_TOXIPROXY_PYTHON`, or the venv of
/// `scripts/toxiproxy-client.sh`.
fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("CHAOS_TOXIPROXY_PYTHON").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let root = repo_root();
    let out = std::process::Command::new("bash")
        .arg(root.join("scripts/toxiproxy-client.sh"))
        .arg("python")
        .current_dir(&root)
        .output()
        .unwrap_or_else(|e| panic!("cannot run bash scripts/toxiproxy-client.sh python: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    match stdout.lines().last() {
        Some(path) if out.status.success() && !path.is_empty() => PathBuf::from(path),
        _ => panic!(
            "the Toxiproxy Python client (toxiproxy-python) is not installed: run `bash \
             scripts/toxiproxy-client.sh install` in {} (scripts/test.sh does), or set \
             CHAOS_TOXIPROXY_PYTHON to a python that can `import toxiproxy`.\n{}",
            root.display(),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// An echo upstream on loopback.
async fn echo() -> String {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            tokio::spawn(async move {
                let (mut r, mut w) = s.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    addr.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn toxiproxy_python_client_drives_the_server() {
    let python = python();
    let upstream = echo().await;
    let server = Server::bind("127.0.0.1:0", Registry::with_seed(7))
        .await
        .unwrap();
    let api = server.local_addr().to_string();
    let handle = server.spawn();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/toxiproxy_client.py");
    let run = tokio::process::Command::new(&python)
        .arg(&script)
        .arg(&api)
        .arg(&upstream)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("the Python client's script did not finish within 120 s")
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{} {} failed ({}):\n{stdout}\n{stderr}",
        python.display(),
        script.display(),
        out.status
    );
    assert!(
        stdout
            .lines()
            .last()
            .is_some_and(|l| l.ends_with("checks passed")),
        "{stdout}\n{stderr}"
    );
    println!("{stdout}");
    assert!(handle.registry().proxies().await.is_empty());
    handle.shutdown().await;
}
