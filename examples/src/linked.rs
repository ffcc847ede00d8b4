//! A demo service linked to a backend through two network fault proxies, and the client its
//! `GET /orders` calls the backend with.
//!
//! ```text
//! service ──> tcp proxy `<name>-tcp` ──> http proxy `<name>-http` ──> backend
//!             (toxics: latency, down...)  (HTTP faults: 503s...)
//! ```

use crate::backend::Backend;
use crate::demo::DemoService;
use bytes::Bytes;
use chaos_harness::proxy::Proxy;
use http_body_util::{BodyExt, Empty};
use hyper::header::HOST;
use hyper::Request;
use hyper_util::rt::TokioIo;
use std::collections::HashMap;
use std::error::Error;
use std::net::SocketAddr;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// How many times the linked service calls its backend for one `GET /orders`: a first try and
/// up to three retries, on a 5xx, a connection error or a timeout.
///
/// ```
/// assert_eq!(chaos_examples::demo::ATTEMPTS, 4);
/// ```
pub const ATTEMPTS: u32 = 4;

/// How long the linked service waits for one call to its backend, connection and body
/// included, before it gives that attempt up.
///
/// ```
/// assert_eq!(chaos_examples::demo::ATTEMPT_TIMEOUT.as_secs(), 1);
/// ```
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(1);

/// A demo service whose `GET /orders` calls a backend through two proxies: a TCP one
/// ([`Linked::tcp_proxy`], for toxics such as latency and `down`) and, behind it, one in HTTP
/// mode ([`Linked::http_proxy`], for HTTP faults such as a 503). Each part serves on a thread
/// of its own, so the experiments of a harness, each on its own runtime, can share it.
///
/// ```
/// use chaos_harness::proxy::Toxic;
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let linked = chaos_examples::demo::linked("doc-linked-struct");
/// let ok = chaos_harness::http::get(linked.orders_url()).await.unwrap();
/// assert_eq!((ok.status(), linked.backend().requests()), (200, 1));
/// // Outside an experiment, a fault lasts as long as its guard.
/// let down = linked.tcp_proxy().apply(Toxic::down()).unwrap();
/// let refused = chaos_harness::http::get(linked.orders_url()).await.unwrap();
/// assert_eq!((refused.status(), linked.backend().requests()), (503, 1));
/// drop(down);
/// # });
/// ```
#[derive(Debug)]
pub struct Linked {
    backend: Backend,
    http_proxy: Proxy,
    tcp_proxy: Proxy,
    service: DemoService,
}

/// The linked instance named `name` (its proxies are `<name>-tcp` and `<name>-http`), started
/// on first use on free loopback ports. Give each experiment an instance of its own: the
/// faults added to one instance's proxies do not reach another's.
///
/// # Panics
/// If it cannot start (no port, no thread): the examples cannot run then.
///
/// ```
/// let linked = chaos_examples::demo::linked("doc-linked");
/// assert!(std::ptr::eq(linked, chaos_examples::demo::linked("doc-linked")));
/// assert_eq!(linked.tcp_proxy().name(), "doc-linked-tcp");
/// ```
pub fn linked(name: &str) -> &'static Linked {
    static ALL: OnceLock<Mutex<HashMap<String, &'static Linked>>> = OnceLock::new();
    let mut all = ALL
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if let Some(l) = all.get(name) {
        return l;
    }
    let started = Linked::start(name).unwrap_or_else(|e| panic!("linked `{name}` starts: {e}"));
    let linked: &'static Linked = Box::leak(Box::new(started));
    all.insert(name.to_owned(), linked);
    linked
}

impl Linked {
    /// Starts a backend, its two proxies (`<name>-http` then `<name>-tcp`) and a service
    /// calling it through them. [`linked`] keeps one per name.
    ///
    /// # Errors
    /// A part cannot start.
    ///
    /// ```
    /// let linked = chaos_examples::demo::Linked::start("doc-start").unwrap();
    /// assert!(linked.http_proxy().is_http());
    /// assert_eq!(linked.http_proxy().upstream(), linked.backend().addr().to_string());
    /// ```
    pub fn start(name: &str) -> Result<Linked, Box<dyn Error + Send + Sync>> {
        let backend = Backend::start()?;
        let http_proxy = Proxy::builder(format!("{name}-http"), backend.addr().to_string())
            .http()
            .start_detached()?;
        let tcp_proxy = Proxy::builder(format!("{name}-tcp"), http_proxy.addr().to_string())
            .start_detached()?;
        let service = DemoService::start_linked(tcp_proxy.addr())?;
        Ok(Linked {
            backend,
            http_proxy,
            tcp_proxy,
            service,
        })
    }

    /// The service's base URL, `http://127.0.0.1:PORT`.
    ///
    /// ```
    /// let linked = chaos_examples::demo::linked("doc-url");
    /// assert_eq!(linked.url(), linked.service().url());
    /// ```
    pub fn url(&self) -> String {
        self.service.url()
    }

    /// The URL of the service's route that calls the backend, `<url>/orders`.
    ///
    /// ```
    /// let linked = chaos_examples::demo::linked("doc-orders");
    /// assert!(linked.orders_url().ends_with("/orders"));
    /// ```
    pub fn orders_url(&self) -> String {
        format!("{}/orders", self.service.url())
    }

    /// The service.
    ///
    /// ```
    /// let linked = chaos_examples::demo::linked("doc-service");
    /// assert_eq!(linked.service().requests(), 0);
    /// ```
    pub fn service(&self) -> &DemoService {
        &self.service
    }

    /// The backend.
    ///
    /// ```
    /// let linked = chaos_examples::demo::linked("doc-backend");
    /// assert_eq!(linked.backend().requests(), 0);
    /// ```
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// The TCP proxy the service connects to: add toxics here (`latency`, `down`...).
    ///
    /// ```
    /// let linked = chaos_examples::demo::linked("doc-tcp");
    /// assert!(!linked.tcp_proxy().is_http());
    /// assert_eq!(linked.tcp_proxy().upstream(), linked.http_proxy().addr().to_string());
    /// ```
    pub fn tcp_proxy(&self) -> &Proxy {
        &self.tcp_proxy
    }

    /// The proxy in HTTP mode in front of the backend: add HTTP faults here (a 503, a delay,
    /// an abort, for the requests of a path).
    ///
    /// ```
    /// let linked = chaos_examples::demo::linked("doc-http");
    /// assert_eq!(linked.http_proxy().name(), "doc-http-http");
    /// ```
    pub fn http_proxy(&self) -> &Proxy {
        &self.http_proxy
    }
}

/// The linked service's `GET /orders`: the backend's `/orders` at `backend`, tried up to
/// [`ATTEMPTS`] times; `(200, body)` when it answered, else `(503, why)`; a 4xx from the
/// backend is not retried and answers `502`.
pub(crate) async fn orders(backend: SocketAddr) -> (u16, String) {
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        if attempt > 1 {
            tokio::time::sleep(Duration::from_millis(10 * u64::from(attempt - 1))).await;
        }
        match tokio::time::timeout(ATTEMPT_TIMEOUT, get(backend, "/orders")).await {
            Ok(Ok((200..=299, body))) => return (200, body),
            Ok(Ok((status @ 400..=499, _))) => return (502, format!("backend answered {status}")),
            Ok(Ok((status, _))) => last = format!("backend answered {status}"),
            Ok(Err(e)) => last = format!("backend unreachable: {e}"),
            Err(_) => last = format!("backend timed out after {ATTEMPT_TIMEOUT:?}"),
        }
        tracing::debug!(attempt, %last, "orders: backend call failed");
    }
    (503, format!("after {ATTEMPTS} attempts, {last}"))
}

/// One `GET path` to `addr` on a connection of its own.
async fn get(addr: SocketAddr, path: &str) -> Result<(u16, String), Box<dyn Error + Send + Sync>> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    let _ = stream.set_nodelay(true);
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    // Drives the connection; aborted when this call ends, also when it is timed out.
    let _driver = AbortOnDrop(tokio::spawn(async move {
        let _ = connection.await;
    }));
    let req = Request::get(path)
        .header(HOST, addr.to_string())
        .body(Empty::<Bytes>::new())?;
    let resp = sender.send_request(req).await?;
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await?.to_bytes();
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
