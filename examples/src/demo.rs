//! A small demo HTTP service the examples start in-process, with faults to inject.
//!
//! Routes:
//! - `GET /` and `GET /health`: `200 ok` (or `503` while the service is down), after the
//!   injected latency;
//! - `POST /fault/down`: the service answers `503` until reset;
//! - `POST /fault/latency?ms=N`: every answer is delayed by N ms;
//! - `POST /reset`: removes every fault;
//! - `GET /stats`: `{"requests": N, "down": bool, "latency_ms": N}`;
//! - `GET /orders`, on an instance started with a backend ([`DemoService::start_linked`],
//!   [`linked`]): the backend's `GET /orders`, with a timeout of [`ATTEMPT_TIMEOUT`] per call
//!   and up to [`ATTEMPTS`] attempts (on a 5xx, a connection error or a timeout); `200` with
//!   the backend's answer, else `503`. Without a backend, `404`.
//!
//! Each named instance runs on its own thread and runtime, so experiments running in parallel
//! (each on its own runtime) can share it, and faults injected into one instance do not leak
//! into another.
//!
//! ```
//! let svc = chaos_examples::demo::service("doc");
//! assert!(svc.url().starts_with("http://127.0.0.1:"));
//! ```

pub use crate::linked::{linked, Linked, ATTEMPTS, ATTEMPT_TIMEOUT};
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONNECTION, CONTENT_TYPE};
use hyper::{Request, Response, StatusCode};
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

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
    /// Where `GET /orders` goes.
    backend: Option<SocketAddr>,
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
        DemoService::serve(State::default())
    }

    /// Starts a new instance whose `GET /orders` calls the backend at `backend` (a proxy in
    /// front of it, say), with a timeout per call and retries.
    ///
    /// # Errors
    /// No loopback port can be bound, or the thread or its runtime cannot start.
    ///
    /// ```
    /// use chaos_examples::{backend::Backend, demo::DemoService};
    /// let backend = Backend::start().unwrap();
    /// let svc = DemoService::start_linked(backend.addr()).unwrap();
    /// assert!(svc.url().starts_with("http://127.0.0.1:"));
    /// ```
    pub fn start_linked(backend: SocketAddr) -> std::io::Result<DemoService> {
        DemoService::serve(State {
            backend: Some(backend),
            ..State::default()
        })
    }

    fn serve(state: State) -> std::io::Result<DemoService> {
        let state = Arc::new(state);
        let served = state.clone();
        // One request per connection, as the answers say.
        let addr = crate::serve::on_own_thread("demo-service", false, move |req| {
            handle(req, served.clone())
        })?;
        let url = format!("http://{addr}");
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

/// Counts the request, routes it, and answers in plain text.
async fn handle(
    req: Request<Incoming>,
    state: Arc<State>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    state.requests.fetch_add(1, Ordering::Relaxed);
    let method = req.method().as_str().to_owned();
    let (path, query) = (req.uri().path(), req.uri().query().unwrap_or(""));
    let (path, query) = (path.to_owned(), query.to_owned());
    drop(req);
    let (status, body) = route(&method, &path, &query, &state).await;
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let headers = resp.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    headers.insert(CONNECTION, HeaderValue::from_static("close"));
    Ok(resp)
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
        ("GET", "/orders") => match state.backend {
            Some(backend) => crate::linked::orders(backend).await,
            None => (404, "no backend: see DemoService::start_linked".into()),
        },
        _ => (404, "not found".into()),
    }
}
