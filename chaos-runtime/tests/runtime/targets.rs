//! The HTTP and process targets against real servers and processes on this machine.

use chaos_runtime::target::{http, process};
use chaos_test_support::receiver::{Answer, Receiver, Response};
use std::time::{Duration, Instant};

/// A loopback HTTP server that answers every request with a description of it, after `delay`:
/// `<request line>|<x-token or authorization header, or ->|<body>`, with the header
/// `x-served-by: echo`; `404` for paths holding `/missing`, `200` otherwise.
fn echo_server(delay: Duration) -> Receiver {
    Receiver::start(Answer::with(move |req| {
        let token = req
            .headers
            .get("x-token")
            .or_else(|| req.headers.get("authorization"))
            .map_or("-", String::as_str);
        let status = if req.path.contains("/missing") {
            404
        } else {
            200
        };
        Response::new(status)
            .header("x-served-by", "echo")
            .body(format!(
                "{} {} {}|{token}|{}",
                req.method, req.path, req.version, req.body
            ))
            .after(delay)
    }))
}

#[tokio::test]
async fn http_get_gives_status_headers_body_and_latency() {
    let echo = echo_server(Duration::from_millis(30));
    let url = echo.url();
    let resp = http::get(format!("{url}/health"))
        .header("x-token", "abc")
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.header("X-Served-By"), Some("echo"));
    assert_eq!(resp.body(), "GET /health HTTP/1.1|abc|");
    assert!(resp.latency() >= Duration::from_millis(30));
    let v = serde_json::to_value(&resp).unwrap();
    assert_eq!(v["status"], 200);
    assert!(v["latency_ms"].as_f64().unwrap() >= 30.0);
    assert_eq!(v["headers"]["x-served-by"], "echo");
}

#[tokio::test]
async fn http_uses_credentials_from_providers() {
    use chaos_runtime::credentials::Credentials;
    let echo = echo_server(Duration::ZERO);
    let url = echo.url();
    // The echo server answers `x-token`; check the authorization header through a probe of it.
    let creds = Credentials::from_token("target-token-1234");
    let resp = http::get(format!("{url}/auth"))
        .credentials(&creds)
        .await
        .unwrap();
    assert_eq!(resp.body(), "GET /auth HTTP/1.1|Bearer target-token-1234|");
    let basic = Credentials::from_user_password("ops", "target-password-99");
    let resp = http::get(format!("{url}/auth"))
        .credentials(&basic)
        .await
        .unwrap();
    assert_eq!(
        resp.body(),
        "GET /auth HTTP/1.1|Basic b3BzOnRhcmdldC1wYXNzd29yZC05OQ==|"
    );
    assert_eq!(
        chaos_runtime::redact::redact("Bearer target-token-1234"),
        "***",
        "the header value is secret"
    );
}

#[tokio::test]
async fn http_methods_and_bodies() {
    let echo = echo_server(Duration::ZERO);
    let url = echo.url();
    let resp = http::post(format!("{url}/orders"))
        .body("qty=2")
        .await
        .unwrap();
    assert_eq!(resp.body(), "POST /orders HTTP/1.1|-|qty=2");
    let resp = http::request("PUT", format!("{url}/x"))
        .json(&serde_json::json!({"a": 1}))
        .unwrap()
        .await
        .unwrap();
    assert_eq!(resp.body(), "PUT /x HTTP/1.1|-|{\"a\":1}");
    let resp = http::get(format!("{url}/missing")).await.unwrap();
    assert_eq!(resp.status(), 404, "a status is a value, not an error");
    let err = http::request("NOT A METHOD", &url).await.unwrap_err();
    assert_eq!(err.to_string(), "`NOT A METHOD` is not an HTTP method");
}

#[tokio::test]
async fn http_timeout_and_refused_connections_are_errors_naming_the_url() {
    let echo = echo_server(Duration::from_secs(5));
    let url = echo.url();
    let started = Instant::now();
    let err = http::get(&url)
        .timeout(Duration::from_millis(200))
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(
        err.to_string(),
        format!("GET {url}: no response within 200ms")
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dead = format!("http://127.0.0.1:{port}/");
    let err = http::get(&dead).await.unwrap_err().to_string();
    assert!(err.starts_with(&format!("GET {dead}: ")), "{err}");
}

#[tokio::test]
async fn process_gives_status_stdout_stderr() {
    let out = process::run("sh")
        .args([
            "-c",
            "echo \"$GREETING $1\"; echo oops >&2; exit 3",
            "sh",
            "world",
        ])
        .env("GREETING", "hello")
        .await
        .unwrap();
    assert_eq!(out.status, Some(3));
    assert_eq!(out.stdout, "hello world\n");
    assert_eq!(out.stderr, "oops\n");
    assert!(!out.success());
    assert_eq!(
        serde_json::to_value(&out).unwrap(),
        serde_json::json!({"status": 3, "stdout": "hello world\n", "stderr": "oops\n"})
    );
    let dir = tempfile::tempdir().unwrap();
    let out = process::run("pwd").current_dir(dir.path()).await.unwrap();
    assert_eq!(
        out.stdout.trim(),
        dir.path().canonicalize().unwrap().to_str().unwrap()
    );
}

#[tokio::test]
async fn process_check_timeout_and_spawn_errors() {
    let err = process::run("sh")
        .args(["-c", "echo bad >&2; exit 2"])
        .check()
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "`sh -c echo bad >&2; exit 2` exited with status 2: bad"
    );

    let started = Instant::now();
    let err = process::run("sleep")
        .arg("10")
        .timeout(Duration::from_millis(200))
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "killed at its timeout"
    );
    assert_eq!(
        err.to_string(),
        "`sleep 10` did not finish within 200ms; killed"
    );

    let err = process::run("/surely/not/a/program")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("could not run `/surely/not/a/program`: "),
        "{err}"
    );
}

#[tokio::test]
async fn a_dropped_process_future_kills_the_process() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("survived");
    let script = format!("sleep 0.5; touch {}", marker.display());
    let fut = process::run("sh").args(["-c", &script]).output();
    let _ = tokio::time::timeout(Duration::from_millis(100), fut).await;
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert!(
        !marker.exists(),
        "the process outlived its cancelled activity"
    );
}

#[test]
fn plain_http_needs_no_certificate_store() {
    // A process without any CA certificates (a minimal container) still probes http:// URLs.
    let exe = std::env::current_exe().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(exe)
        .args([
            "--exact",
            "targets::plain_http_child",
            "--include-ignored",
            "--nocapture",
        ])
        .env("SSL_CERT_FILE", empty.path().join("none.pem"))
        .env("SSL_CERT_DIR", empty.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("1 passed"), "{stdout}");
}

#[tokio::test]
#[ignore = "run by plain_http_needs_no_certificate_store in a process without certificates"]
async fn plain_http_child() {
    let echo = echo_server(Duration::ZERO);
    let url = echo.url();
    assert_eq!(http::get(&url).await.unwrap().status(), 200);
    // HTTPS without certificates is an error that says so, not a panic.
    let err = http::get("https://127.0.0.1:1/")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("https://127.0.0.1:1/") || err.contains("HTTP client"),
        "{err}"
    );
}
