//! A small demo HTTP service the examples start in-process, with faults to inject.
//!
//! Routes:
//! - `GET /` and `GET /health`: `200 ok` (or `503` while the service is down), after the
//!   injected latency;
//! - `POST /fault/down`: the service answers `503` until reset;
//! - `POST /fault/latency?ms=N`: every answer is delayed by N ms;
//! - `POST /reset`: removes every fault;
//! - `GET /stats`: `{"requests": N, "down": bool, "latency_ms": N}`.
//!
//! Each named instance runs on its own thread and runtime, so experiments running in parallel
//! (each on its own runtime) can share it, and faults injected into one instance do not leak
//! into another.
//!
//! ```
//! let svc = chaos_examples::demo::service("doc");
//! assert!(svc.url().starts_with("http://127.0.0.1:"));
//! ```

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A running demo service.
#[derive(Debug)]
pub struct DemoService {
    url: String,
    state: Arc<State>,
}

#[derive(Debug, Default)]
struct State {
    down: AtomicBool,
    latency_ms: AtomicU64,
    requests: AtomicU64,
}

/// The demo service instance named `name`, started on first use on a free loopback port.
///
/// # Panics
/// If no loopback port can be bound or no thread started: the examples cannot run then.
pub fn service(name: &str) -> &'static DemoService {
    static ALL: OnceLock<Mutex<HashMap<String, &'static DemoService>>> = OnceLock::new();
    let mut all = ALL
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if let Some(s) = all.get(name) {
        return s;
    }
    let svc: &'static DemoService =
        Box::leak(Box::new(DemoService::start().expect("demo service starts")));
    all.insert(name.to_owned(), svc);
    svc
}

impl DemoService {
    /// Starts a new instance on a free loopback port, serving on its own thread.
    pub fn start() -> std::io::Result<DemoService> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let url = format!("http://{}", listener.local_addr()?);
        let state = Arc::new(State::default());
        let served = state.clone();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        std::thread::Builder::new()
            .name("demo-service".into())
            .spawn(move || {
                rt.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                        return;
                    };
                    loop {
                        let Ok((stream, _)) = listener.accept().await else {
                            continue;
                        };
                        tokio::spawn(handle(stream, served.clone()));
                    }
                })
            })?;
        Ok(DemoService { url, state })
    }

    /// The service's base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The number of requests served.
    pub fn requests(&self) -> u64 {
        self.state.requests.load(Ordering::Relaxed)
    }
}

async fn handle(mut stream: tokio::net::TcpStream, state: Arc<State>) {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    let head_end = loop {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > 64 * 1024 {
            return;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut parts = head.split_whitespace();
    let method = parts.next().unwrap_or("").to_owned();
    let target = parts.next().unwrap_or("/").to_owned();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    state.requests.fetch_add(1, Ordering::Relaxed);
    let (status, body) = route(&method, path, query, &state).await;
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        400 => "Bad Request",
        _ => "Service Unavailable",
    };
    let resp = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(resp.as_bytes()).await;
    let _ = stream.shutdown().await;
}

async fn route(method: &str, path: &str, query: &str, state: &State) -> (u16, String) {
    match (method, path) {
        ("GET", "/") | ("GET", "/health") => {
            let latency = state.latency_ms.load(Ordering::Relaxed);
            if latency > 0 {
                tokio::time::sleep(Duration::from_millis(latency)).await;
            }
            if state.down.load(Ordering::Relaxed) {
                (503, "down".into())
            } else {
                (200, "ok".into())
            }
        }
        ("POST", "/fault/down") => {
            state.down.store(true, Ordering::Relaxed);
            (200, "down".into())
        }
        ("POST", "/fault/latency") => {
            let ms = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("ms="))
                .and_then(|v| v.parse::<u64>().ok());
            match ms {
                Some(ms) => {
                    state.latency_ms.store(ms, Ordering::Relaxed);
                    (200, format!("latency {ms}ms"))
                }
                None => (400, "expected ?ms=N".into()),
            }
        }
        ("POST", "/reset") => {
            state.down.store(false, Ordering::Relaxed);
            state.latency_ms.store(0, Ordering::Relaxed);
            (200, "reset".into())
        }
        ("GET", "/stats") => (
            200,
            format!(
                "{{\"requests\": {}, \"down\": {}, \"latency_ms\": {}}}",
                state.requests.load(Ordering::Relaxed),
                state.down.load(Ordering::Relaxed),
                state.latency_ms.load(Ordering::Relaxed)
            ),
        ),
        _ => (404, "not found".into()),
    }
}
