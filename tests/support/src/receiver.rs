//! A real HTTP/1.1 receiver on loopback (hyper) that records every request it gets and answers
//! as its [`Answer`] says: at once, with an error status, late, never, or with whatever a
//! closure makes of the request (status, headers, body).
//!
//! Each receiver serves on its own thread and runtime, so it works from plain and async tests
//! alike; dropping the [`Receiver`] stops it and closes its connections. Every connection
//! carries one request (the answers say `connection: close`).
//!
//! ```
//! use chaos_test_support::receiver::{Answer, Receiver, Response};
//!
//! let ok = Receiver::start(Answer::Ok);
//! assert!(ok.url().starts_with("http://127.0.0.1:"));
//! assert!(ok.requests().is_empty());
//!
//! // An endpoint echoing the path of each request, with a status and a header of its own.
//! let echo = Receiver::start(Answer::with(|req| {
//!     Response::new(404)
//!         .header("x-served-by", "echo")
//!         .body(format!("no {}", req.path))
//! }));
//! # drop(echo);
//! ```

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue, CONNECTION};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::StatusCode;
use hyper_util::rt::TokioIo;
use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// How the receiver answers each request (after recording it).
#[derive(Clone)]
pub enum Answer {
    /// `200 OK` with the body `ok`, at once.
    Ok,
    /// This status with the body `ok`, at once.
    Status(u16),
    /// `200 OK` with the body `ok`, after this delay.
    After(Duration),
    /// This status with the body `ok`, after this delay.
    StatusAfter(u16, Duration),
    /// Reads the request and never answers: the connection stays open until the client closes
    /// it or the receiver is dropped.
    Never,
    /// What this function makes of the request (see [`Answer::with`]).
    With(Arc<dyn Fn(&Request) -> Response + Send + Sync>),
}

impl Answer {
    /// Answers each request with what `respond` makes of it: any status, headers, body and
    /// delay (see [`Response`]).
    pub fn with(respond: impl Fn(&Request) -> Response + Send + Sync + 'static) -> Answer {
        Answer::With(Arc::new(respond))
    }

    /// The response to `req`; `None` for [`Answer::Never`].
    fn respond(&self, req: &Request) -> Option<Response> {
        let ok = |status| Response::new(status).body("ok");
        Some(match self {
            Answer::Ok => ok(200),
            Answer::Status(status) => ok(*status),
            Answer::After(delay) => ok(200).after(*delay),
            Answer::StatusAfter(status, delay) => ok(*status).after(*delay),
            Answer::Never => return None,
            Answer::With(respond) => respond(req),
        })
    }
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Answer::Ok => f.write_str("Ok"),
            Answer::Status(s) => f.debug_tuple("Status").field(s).finish(),
            Answer::After(d) => f.debug_tuple("After").field(d).finish(),
            Answer::StatusAfter(s, d) => f.debug_tuple("StatusAfter").field(s).field(d).finish(),
            Answer::Never => f.write_str("Never"),
            Answer::With(_) => f.write_str("With(..)"),
        }
    }
}

/// One answer of an [`Answer::with`] function: a status, headers, a body, and how long to wait
/// before sending it.
#[derive(Clone, Debug)]
pub struct Response {
    status: StatusCode,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
    delay: Duration,
}

impl Response {
    /// A response with this status (`500` when `status` is not a valid code), no header of its
    /// own and an empty body, sent at once.
    pub fn new(status: u16) -> Response {
        Response {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            headers: Vec::new(),
            body: Bytes::new(),
            delay: Duration::ZERO,
        }
    }

    /// Adds a header (`content-length`, `date` and `connection` are set by the receiver).
    ///
    /// # Panics
    ///
    /// When `name` or `value` is not a valid header name or value.
    pub fn header(mut self, name: &str, value: &str) -> Response {
        let name = HeaderName::from_bytes(name.as_bytes())
            .unwrap_or_else(|e| panic!("header name {name:?}: {e}"));
        let value = HeaderValue::from_str(value)
            .unwrap_or_else(|e| panic!("header {name}: value {value:?}: {e}"));
        self.headers.push((name, value));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Bytes>) -> Response {
        self.body = body.into();
        self
    }

    /// Sends the response only after `delay`.
    pub fn after(mut self, delay: Duration) -> Response {
        self.delay = delay;
        self
    }
}

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path and query.
    pub path: String,
    /// The protocol version, `HTTP/1.1` or `HTTP/1.0`.
    pub version: String,
    /// Headers, lower-case names (the last value of a repeated header).
    pub headers: BTreeMap<String, String>,
    /// The body (UTF-8, lossily).
    pub body: String,
    /// When the request was complete (its body read).
    pub at: Instant,
}

impl Request {
    /// The body parsed as JSON (`null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// A running receiver; dropping it stops it.
pub struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Request>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Receiver {
    /// Starts a plain HTTP receiver on a free loopback port, serving on its own thread.
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound or no thread started.
    pub fn start(answer: Answer) -> Receiver {
        Receiver::serve(answer, "http", |tcp| async move { Ok(tcp) })
    }

    /// Starts an HTTPS receiver on a free loopback port, serving on its own thread: every
    /// connection goes through `acceptor` (whose configuration holds the certificate) first. A
    /// connection whose handshake fails records nothing.
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound or no thread started.
    #[cfg(feature = "tls")]
    pub fn start_tls(answer: Answer, acceptor: tokio_rustls::TlsAcceptor) -> Receiver {
        Receiver::serve(answer, "https", move |tcp| acceptor.accept(tcp))
    }

    /// Serves HTTP/1.1 over what `wrap` makes of each accepted TCP connection.
    fn serve<W, F, Io>(answer: Answer, scheme: &str, wrap: W) -> Receiver
    where
        W: Fn(TcpStream) -> F + Send + 'static,
        F: Future<Output = std::io::Result<Io>> + Send + 'static,
        Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("{scheme}://{}", listener.local_addr().expect("addr"));
        let got = Arc::new(Mutex::new(Vec::new()));
        let shared = Arc::new(Shared {
            answer,
            got: got.clone(),
        });
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let thread = std::thread::Builder::new()
            .name("test-receiver".into())
            .spawn(move || {
                rt.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                    let accept = async {
                        loop {
                            let Ok((tcp, _)) = listener.accept().await else {
                                tokio::time::sleep(Duration::from_millis(10)).await;
                                continue;
                            };
                            let io = wrap(tcp);
                            let shared = shared.clone();
                            tokio::spawn(async move {
                                let Ok(io) = io.await else { return };
                                let service = service_fn(move |req| handle(req, shared.clone()));
                                let _ = http1::Builder::new()
                                    .keep_alive(false)
                                    .serve_connection(TokioIo::new(io), service)
                                    .await;
                            });
                        }
                    };
                    tokio::select! {
                        () = accept => {}
                        _ = stopped => {}
                    }
                });
                // Dropping the runtime here cancels the connections still open.
            })
            .expect("receiver thread");
        Receiver {
            url,
            got,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// The receiver's base URL, `http://127.0.0.1:PORT` (`https://` for [`Receiver::start_tls`]).
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The requests so far, in the order they were complete.
    pub fn requests(&self) -> Vec<Request> {
        self.got.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Waits up to `timeout` for at least `n` requests, and returns them (fewer when `timeout`
    /// passed first).
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Request> {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.requests();
            if got.len() >= n || Instant::now() > deadline {
                return got;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("url", &self.url)
            .field("requests", &self.requests().len())
            .finish()
    }
}

/// A loopback URL where nothing listens: connections are refused.
pub fn refusing_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    format!("http://127.0.0.1:{port}/refused")
}

/// What the connections of one receiver share.
struct Shared {
    answer: Answer,
    got: Arc<Mutex<Vec<Request>>>,
}

/// Reads the whole request, records it, and answers it (or never does).
async fn handle(
    req: hyper::Request<Incoming>,
    shared: Arc<Shared>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let mut headers = BTreeMap::new();
    for (name, value) in &parts.headers {
        headers.insert(
            name.as_str().to_owned(),
            String::from_utf8_lossy(value.as_bytes()).into_owned(),
        );
    }
    let request = Request {
        method: parts.method.as_str().to_owned(),
        path: parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.to_string(), |p| p.as_str().to_owned()),
        version: format!("{:?}", parts.version),
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        at: Instant::now(),
    };
    shared
        .got
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(request.clone());
    let Some(answer) = shared.answer.respond(&request) else {
        return std::future::pending().await;
    };
    if !answer.delay.is_zero() {
        tokio::time::sleep(answer.delay).await;
    }
    let mut resp = hyper::Response::new(Full::new(answer.body));
    *resp.status_mut() = answer.status;
    for (name, value) in answer.headers {
        resp.headers_mut().append(name, value);
    }
    resp.headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// Sends `raw` to the receiver at `url` and reads until the server closes the connection
    /// or `within` passes; the answer, and whether the server closed.
    fn exchange(url: &str, raw: &str, within: Duration) -> (String, bool) {
        let addr = url.trim_start_matches("http://");
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(within)).unwrap();
        s.write_all(raw.as_bytes()).unwrap();
        let mut out = Vec::new();
        let mut chunk = [0u8; 4096];
        let closed = loop {
            match s.read(&mut chunk) {
                Ok(0) => break true,
                Ok(n) => out.extend_from_slice(&chunk[..n]),
                Err(_) => break false,
            }
        };
        (String::from_utf8_lossy(&out).into_owned(), closed)
    }

    const POST: &str = "POST /hook?x=1 HTTP/1.1\r\nHost: a\r\nX-Team: Chaos\r\nContent-Type: application/json\r\nContent-Length: 9\r\n\r\n{\"a\": 1}\n";

    #[test]
    fn records_method_path_headers_and_body_and_answers_ok() {
        let r = Receiver::start(Answer::Ok);
        let (answer, closed) = exchange(&r.url(), POST, Duration::from_secs(5));
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
        assert!(answer.contains("connection: close\r\n"), "{answer}");
        assert!(answer.ends_with("\r\n\r\nok"), "{answer}");
        assert!(closed, "one request per connection");
        let got = r.requests();
        assert_eq!(got.len(), 1);
        let req = &got[0];
        assert_eq!(req.method, "POST");
        assert_eq!(req.path, "/hook?x=1");
        assert_eq!(req.version, "HTTP/1.1");
        assert_eq!(req.headers["x-team"], "Chaos");
        assert_eq!(req.headers["content-type"], "application/json");
        assert_eq!(req.body, "{\"a\": 1}\n");
        assert_eq!(req.json(), serde_json::json!({"a": 1}));
    }

    #[test]
    fn chunked_bodies_are_read_whole() {
        let r = Receiver::start(Answer::Status(500));
        let raw = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        let (answer, _) = exchange(&r.url(), raw, Duration::from_secs(5));
        assert!(
            answer.starts_with("HTTP/1.1 500 Internal Server Error\r\n"),
            "{answer}"
        );
        assert_eq!(r.wait_for(1, Duration::from_secs(5))[0].body, "abcde");
    }

    #[test]
    fn late_answers_come_after_their_delay_and_the_request_is_recorded_before() {
        for answer in [
            Answer::After(Duration::from_millis(300)),
            Answer::StatusAfter(503, Duration::from_millis(300)),
        ] {
            let r = Receiver::start(answer.clone());
            let started = Instant::now();
            let (text, _) = exchange(&r.url(), POST, Duration::from_secs(5));
            let took = started.elapsed();
            assert!(took >= Duration::from_millis(300), "{answer:?}: {took:?}");
            let status = if matches!(answer, Answer::After(_)) {
                "200"
            } else {
                "503"
            };
            assert!(text.starts_with(&format!("HTTP/1.1 {status} ")), "{text}");
            let at = r.requests()[0].at;
            assert!(at < started + Duration::from_millis(250), "{answer:?}");
        }
    }

    #[test]
    fn never_answers_but_records_and_holds_the_connection() {
        let r = Receiver::start(Answer::Never);
        let (text, closed) = exchange(&r.url(), POST, Duration::from_millis(500));
        assert_eq!(text, "");
        assert!(!closed, "the connection stays open");
        assert_eq!(r.requests().len(), 1);
    }

    #[test]
    fn a_function_answers_with_status_headers_and_body() {
        let r = Receiver::start(Answer::with(|req| {
            Response::new(if req.path == "/missing" { 404 } else { 201 })
                .header("x-served-by", "echo")
                .header("content-type", "text/xml")
                .body(format!(
                    "{} {} {}|{}",
                    req.method, req.path, req.version, req.body
                ))
        }));
        let (text, _) = exchange(&r.url(), POST, Duration::from_secs(5));
        assert!(text.starts_with("HTTP/1.1 201 Created\r\n"), "{text}");
        assert!(text.contains("x-served-by: echo\r\n"), "{text}");
        assert!(text.contains("content-type: text/xml\r\n"), "{text}");
        assert!(text.contains("content-length: 33\r\n"), "{text}");
        assert!(
            text.ends_with("\r\n\r\nPOST /hook?x=1 HTTP/1.1|{\"a\": 1}\n"),
            "{text}"
        );
        let (text, _) = exchange(
            &r.url(),
            "GET /missing HTTP/1.1\r\nHost: a\r\n\r\n",
            Duration::from_secs(5),
        );
        assert!(text.starts_with("HTTP/1.1 404 Not Found\r\n"), "{text}");
        assert_eq!(r.requests().len(), 2);
    }

    #[test]
    fn dropping_the_receiver_stops_it() {
        let r = Receiver::start(Answer::Never);
        let url = r.url();
        let addr = url.trim_start_matches("http://").to_owned();
        let mut held = std::net::TcpStream::connect(&addr).unwrap();
        held.write_all(POST.as_bytes()).unwrap();
        r.wait_for(1, Duration::from_secs(5));
        drop(r);
        held.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 16];
        assert!(
            matches!(held.read(&mut buf), Ok(0) | Err(_)),
            "the held connection is closed"
        );
        assert!(
            std::net::TcpStream::connect(&addr).is_err(),
            "nothing listens"
        );
    }

    #[test]
    fn refusing_urls_refuse() {
        let url = refusing_url();
        let addr = url
            .trim_start_matches("http://")
            .trim_end_matches("/refused");
        assert!(std::net::TcpStream::connect(addr).is_err());
    }
}
