//! Serving HTTP/1.1 on a free loopback port from a thread and runtime of its own, so that the
//! server outlives each experiment's runtime: what the demo service and its backend share.

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;

/// Serves `handle` on a thread named `thread`, one task per connection; with `keep_alive`
/// false, one request per connection. Returns the address it listens on.
pub(crate) fn on_own_thread<F, Fut>(
    thread: &str,
    keep_alive: bool,
    handle: F,
) -> std::io::Result<SocketAddr>
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send + 'static,
{
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name(thread.into())
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
                    let handle = handle.clone();
                    tokio::spawn(async move {
                        let _ = http1::Builder::new()
                            .keep_alive(keep_alive)
                            .serve_connection(TokioIo::new(stream), service_fn(handle))
                            .await;
                    });
                }
            })
        })?;
    Ok(addr)
}
