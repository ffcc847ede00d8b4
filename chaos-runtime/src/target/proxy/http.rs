//! A proxy in HTTP mode: each client connection is served as HTTP/1.1 (keep-alive included)
//! by hyper, its requests matched against the proxy's HTTP faults, and the others forwarded
//! on one upstream connection of its own.

use super::effect::Active;
use super::fault::HttpAction;
use super::state::{mix, unit, Conn, Kill, Shared};
use crate::rng::SeededRng;
use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Empty};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

type Body = BoxBody<Bytes, hyper::Error>;

/// Why a request was not answered.
#[derive(Debug, thiserror::Error)]
enum Unanswered {
    #[error("aborted by HTTP fault `{0}`")]
    Aborted(String),
    #[error("upstream: {0}")]
    Upstream(String),
}

/// One client connection's way to the upstream: connected on its first forwarded request,
/// again if the upstream closed it.
struct Upstream {
    sender: Option<SendRequest<Incoming>>,
    driver: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Upstream {
    fn drop(&mut self) {
        if let Some(d) = self.driver.take() {
            d.abort();
        }
    }
}

/// Serves one client connection until it closes or the connection is killed.
pub(super) async fn serve(shared: Arc<Shared>, id: u64, conn: Arc<Conn>, client: TcpStream) {
    let _ = client.set_nodelay(true);
    let mut toxics = shared.snapshot.subscribe();
    let mut kill = conn.kill.subscribe();
    let down = |shared: &Shared| {
        let now = shared.current();
        now.disabled
            || now.down().is_some_and(|d| {
                let hit = Active::new(d.clone(), id, Instant::now()).hit;
                if hit {
                    d.counters.closes.add(1);
                    shared.counters.refused.add(1);
                }
                hit
            })
    };
    if down(&shared) {
        shared.forget(id);
        return;
    }
    let upstream = Arc::new(tokio::sync::Mutex::new(Upstream {
        sender: None,
        driver: None,
    }));
    let io = TokioIo::new(Counted {
        inner: client,
        shared: shared.clone(),
    });
    let served = shared.clone();
    let service =
        hyper::service::service_fn(move |req| handle(req, served.clone(), upstream.clone()));
    let connection = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(io, service);
    tokio::pin!(connection);
    loop {
        tokio::select! {
            _ = &mut connection => break,
            _ = kill.wait_for(|k| *k != Kill::No) => break,
            changed = toxics.changed() => {
                if changed.is_err() || down(&shared) {
                    break;
                }
            }
        }
    }
    shared.forget(id);
}

/// Answers one request: from the first fault that hits it, else from the upstream.
async fn handle(
    req: Request<Incoming>,
    shared: Arc<Shared>,
    upstream: Arc<tokio::sync::Mutex<Upstream>>,
) -> Result<Response<Body>, Unanswered> {
    shared.counters.requests.add(1);
    let snapshot = shared.current();
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    for f in &snapshot.faults {
        if !f.fault.matches(&method, &path) {
            continue;
        }
        let ordinal = f.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut rng = SeededRng::new(mix(f.seed, ordinal));
        let toxicity = f.fault.probability();
        let draw = unit(&mut rng);
        f.counters.connections.add(1);
        if !(toxicity >= 1.0 || draw < toxicity) {
            continue;
        }
        f.counters.affected.add(1);
        match f.fault.action() {
            HttpAction::Status(status) => {
                // Read the request through (frame by frame, keeping none), so that the
                // connection can carry the next one.
                let mut body = req.into_body();
                while let Some(Ok(_)) = body.frame().await {}
                let mut resp = Response::new(empty());
                *resp.status_mut() = hyper::StatusCode::from_u16(*status)
                    .unwrap_or(hyper::StatusCode::SERVICE_UNAVAILABLE);
                resp.headers_mut().insert(
                    "x-chaos-fault",
                    hyper::header::HeaderValue::from_str(&f.fault.name())
                        .unwrap_or(hyper::header::HeaderValue::from_static("fault")),
                );
                return Ok(resp);
            }
            HttpAction::Delay(d) => tokio::time::sleep(*d).await,
            HttpAction::Abort => {
                f.counters.closes.add(1);
                return Err(Unanswered::Aborted(f.fault.name()));
            }
        }
    }
    forward(req, &shared, &upstream).await
}

/// Sends `req` on the connection's upstream connection and streams the answer back.
async fn forward(
    req: Request<Incoming>,
    shared: &Shared,
    upstream: &tokio::sync::Mutex<Upstream>,
) -> Result<Response<Body>, Unanswered> {
    let mut up = upstream.lock().await;
    let usable = match up.sender.as_mut() {
        Some(s) => s.ready().await.is_ok(),
        None => false,
    };
    if !usable {
        let stream = super::connect(shared).await.map_err(|e| {
            shared.counters.upstream_failures.add(1);
            Unanswered::Upstream(e.to_string())
        })?;
        let _ = stream.set_nodelay(true);
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| Unanswered::Upstream(e.to_string()))?;
        if let Some(d) = up.driver.take() {
            d.abort();
        }
        up.driver = Some(tokio::spawn(async move {
            let _ = connection.await;
        }));
        up.sender = Some(sender);
    }
    let Some(sender) = up.sender.as_mut() else {
        return Err(Unanswered::Upstream("no connection".into()));
    };
    let resp = sender
        .send_request(req)
        .await
        .map_err(|e| Unanswered::Upstream(e.to_string()))?;
    Ok(resp.map(|b| b.boxed()))
}

fn empty() -> Body {
    Empty::<Bytes>::new()
        .map_err(|never| match never {})
        .boxed()
}

/// The client's stream, counting the bytes each way.
struct Counted {
    inner: TcpStream,
    shared: Arc<Shared>,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        let n = buf.filled().len() - before;
        self.shared.counters.bytes_upstream.add(n as u64);
        r
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = r {
            self.shared.counters.bytes_downstream.add(n as u64);
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
