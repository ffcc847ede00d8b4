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
use hyper::{Request, Response, StatusCode};
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
        let requests = Arc::new(AtomicU64::new(0));
        let counted = requests.clone();
        // Connections are kept alive between requests.
        let addr = crate::serve::on_own_thread("demo-backend", true, move |req| {
            handle(req, counted.clone())
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
