//! The standalone `kube-sim` binary: it serves the seeded demo, writes a kubeconfig and a
//! `chaos.toml` that point at it, stops on SIGTERM, and rejects bad arguments.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_kube-sim");

/// `GET path` over plain HTTP/1.1; returns the body.
fn get(url: &str, path: &str) -> String {
    let addr = url.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    out
}

#[test]
fn serves_the_demo_and_writes_kubeconfig_and_settings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kc").join("kubeconfig");
    let mut child = Command::new(BIN)
        .args(["--port", "0", "--kubeconfig"])
        .arg(&kubeconfig)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kube-sim starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let first = lines.next().expect("a line").expect("utf-8");
    let url = first
        .strip_prefix("kube-sim listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {first}"))
        .to_owned();
    let pods = get(&url, "/api/v1/namespaces/demo/pods?labelSelector=app%3Dweb");
    assert!(pods.starts_with("HTTP/1.1 200"), "{pods}");
    assert_eq!(
        pods.matches("\"kind\":\"Pod\",\"metadata\"").count(),
        3,
        "{pods}"
    );
    let kc = std::fs::read_to_string(&kubeconfig).expect("kubeconfig written");
    assert!(
        kc.contains(&url) && kc.contains("namespace: \"demo\""),
        "{kc}"
    );
    let settings =
        std::fs::read_to_string(kubeconfig.with_file_name("chaos.toml")).expect("chaos.toml");
    let table: toml::Table = toml::from_str(&settings).expect("valid TOML");
    let named = table["targets"]["k8s"]["kubeconfig"]
        .as_str()
        .expect("kubeconfig key");
    assert_eq!(
        std::fs::canonicalize(named).expect("exists"),
        std::fs::canonicalize(&kubeconfig).expect("exists")
    );
    // SIGTERM stops it cleanly.
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().expect("wait");
    assert!(status.success(), "{status:?}");
}

#[test]
fn bad_arguments_exit_2_with_the_usage() {
    let out = Command::new(BIN)
        .arg("--bogus")
        .output()
        .expect("kube-sim runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--bogus") && err.contains("USAGE"), "{err}");
    let out = Command::new(BIN)
        .args(["--port", "not-a-port"])
        .output()
        .expect("kube-sim runs");
    assert_eq!(out.status.code(), Some(2));
}
