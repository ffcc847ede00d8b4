//! A small in-process HTTP backend the linked demo service calls ([`crate::demo::linked`]).
//!
//! Routes:
//! - `GET /orders`: `200` with `{"orders": ["A-1", "A-2", "A-3"]}`;
//! - anything else: `404`.
//!
//! It serves on a thread and runtime of its own, like the demo service, so that it outlives
//! each experiment's runtime; connections are kept alive between requests.
//!
//! ```
//! let backend = chaos_examples::backend::Backend::start().unwrap();
//! assert!(backend.addr().ip().is_loopback());
//! assert_eq!(backend.requests(), 0);
//! ```

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The body of `GET /orders`.
const ORDERS: &str = r#"{"orders": ["A-1", "A-2", "A-3"]}"#;

/// A running backend: it serves until the process ends.
#[derive(Debug)]
pub struct Backend {
    addr: SocketAddr,
    requests: Arc<AtomicU64>,
}

impl Backend {
    /// Starts a backend on a free loopback port, serving on its own thread.
    ///
    /// # Errors
    /// No loopback port can be bound, or the thread or its runtime cannot start.
    ///
    /// ```
    /// use chaos_examples::backend::Backend;
    /// let (a, b) = (Backend::start().unwrap(), Backend::start().unwrap());
    /// assert_ne!(a.addr(), b.addr());
    /// ```
    pub fn start() -> std::io::Result<Backend> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let requests = Arc::new(AtomicU64::new(0));
        let counted = requests.clone();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        std::thread::Builder::new()
            .name("demo-backend".into())
            .spawn(move || {
                rt.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                        return;
                    };
                    loop {
                        let Ok((stream, _)) = listener.accept().await else {
                            continue;
                        };
                        let _ = stream.set_nodelay(true);
                        let counted = counted.clone();
                        tokio::spawn(async move {
                            let service = service_fn(move |req| handle(req, counted.clone()));
                            let _ = http1::Builder::new()
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        });
                    }
                })
            })?;
        Ok(Backend { addr, requests })
    }

    /// The address it listens on, `127.0.0.1:PORT`: put a proxy in front of it.
    ///
    /// ```
    /// let backend = chaos_examples::backend::Backend::start().unwrap();
    /// assert_ne!(backend.addr().port(), 0);
    /// ```
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The number of requests it has served (each route, each answer).
    ///
    /// ```
    /// let backend = chaos_examples::backend::Backend::start().unwrap();
    /// assert_eq!(backend.requests(), 0);
    /// ```
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
}

/// Counts the request and answers it.
async fn handle(
    req: Request<Incoming>,
    requests: Arc<AtomicU64>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    requests.fetch_add(1, Ordering::Relaxed);
    let (status, body, kind) = match (req.method().as_str(), req.uri().path()) {
        ("GET", "/orders") => (StatusCode::OK, ORDERS, "application/json"),
        _ => (StatusCode::NOT_FOUND, "not found", "text/plain"),
    };
    let mut resp = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(kind));
    Ok(resp)
}
