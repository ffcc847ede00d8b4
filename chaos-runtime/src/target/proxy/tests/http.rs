//! HTTP faults on a proxy in HTTP mode: a status instead of the answer, a delay, an abort, for
//! the requests that match; the others pass untouched, on the same keep-alive connection.

use crate::target::proxy::{HttpFault, Proxy, Toxic};
use bytes::Bytes;
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// An HTTP/1.1 upstream (keep-alive) answering `200 up:<method> <path>`.
async fn upstream() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(
                    |req: hyper::Request<hyper::body::Incoming>| async move {
                        let body = format!("up:{} {}", req.method(), req.uri().path());
                        Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(
                            Bytes::from(body),
                        )))
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(s), svc)
                    .await;
            });
        }
    });
    addr
}

/// Sends one request on `s` and reads its answer: status and body; `None` if the connection
/// closed first.
async fn exchange(s: &mut TcpStream, method: &str, path: &str) -> Option<(u16, String)> {
    let body = if method == "POST" { "payload" } else { "" };
    let req = format!(
        "{method} {path} HTTP/1.1\r\nhost: test\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.ok()?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).ok()?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0; len];
    s.read_exact(&mut body).await.ok()?;
    Some((status, String::from_utf8(body).ok()?))
}

async fn http_proxy() -> Proxy {
    Proxy::builder("api", upstream().await.to_string())
        .http()
        .seed(3)
        .start()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matching_requests_get_the_status_and_the_others_pass_on_one_connection() {
    let proxy = http_proxy().await;
    let _g = proxy
        .apply(HttpFault::status(503).method("GET").path("/api/"))
        .unwrap();
    let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
    assert_eq!(
        exchange(&mut s, "GET", "/api/orders").await,
        Some((503, String::new()))
    );
    assert_eq!(
        exchange(&mut s, "POST", "/api/orders").await,
        Some((200, "up:POST /api/orders".into()))
    );
    assert_eq!(
        exchange(&mut s, "GET", "/health").await,
        Some((200, "up:GET /health".into()))
    );
    assert_eq!(
        exchange(&mut s, "GET", "/api/x").await,
        Some((503, String::new()))
    );
    let stats = proxy.stats();
    assert_eq!(stats.requests, 4);
    assert_eq!(
        (stats.toxics[0].connections, stats.toxics[0].affected),
        (2, 2)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delay_delays_and_an_abort_closes() {
    let proxy = http_proxy().await;
    let g = proxy
        .apply(HttpFault::delay(Duration::from_millis(200)).path("/slow"))
        .unwrap();
    let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
    let t = Instant::now();
    assert_eq!(exchange(&mut s, "GET", "/slow").await.unwrap().0, 200);
    assert!(t.elapsed() >= Duration::from_millis(200));
    drop(g);
    let _g = proxy.apply(HttpFault::abort().path("/boom")).unwrap();
    assert_eq!(exchange(&mut s, "GET", "/fine").await.unwrap().0, 200);
    assert_eq!(
        exchange(&mut s, "GET", "/boom").await,
        None,
        "closed without an answer"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn toxicity_hits_about_half_and_the_same_seed_the_same_requests() {
    let run = || async {
        let proxy = http_proxy().await;
        let _g = proxy.apply(HttpFault::status(503).toxicity(0.5)).unwrap();
        let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
        let mut out = Vec::new();
        for _ in 0..30 {
            out.push(exchange(&mut s, "GET", "/").await.unwrap().0);
        }
        out
    };
    let a = run().await;
    assert_eq!(a, run().await);
    let hit = a.iter().filter(|s| **s == 503).count();
    assert!((5..=25).contains(&hit), "{a:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_proxy_refuses_byte_toxics_and_a_tcp_proxy_http_faults() {
    let proxy = http_proxy().await;
    let err = proxy
        .apply(Toxic::latency(Duration::from_millis(5)))
        .unwrap_err();
    assert!(err.to_string().contains("HTTP mode"), "{err}");
    assert!(
        proxy.apply(Toxic::down()).is_ok(),
        "down acts in HTTP mode too"
    );
    let tcp = Proxy::listen("tcp", upstream().await.to_string())
        .await
        .unwrap();
    let err = tcp.apply(HttpFault::abort()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "proxy `tcp`, toxic `http_abort`: HTTP faults need a proxy in HTTP mode \
         (`Proxy::builder(..).http()`)"
    );
}
