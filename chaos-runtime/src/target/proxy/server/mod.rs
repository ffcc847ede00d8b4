//! A Toxiproxy-compatible HTTP API over the network fault proxy, so that Toxiproxy's clients
//! (the Go, Ruby, Python and Node clients, Chaos Toolkit's `chaostoolkit-toxiproxy`) drive
//! [`Proxy`](super::Proxy)s unchanged: in-process ([`Server`]) or as the `chaos-toxiproxy`
//! binary, a stand-in for `toxiproxy-server`.
//!
//! # The binary
//!
//! ```text
//! cargo install --path chaos-runtime --features proxy --bin chaos-toxiproxy
//! chaos-toxiproxy -host 127.0.0.1 -port 8474 -config proxies.json -seed 42
//! ```
//!
//! Its flags are `toxiproxy-server`'s (`-host`, `-port`, `-config`, `-seed`, `-version`;
//! `--flag` works too, and `-flag=value`); `--help` lists them. The API listens on
//! `127.0.0.1:8474` by default. `-config` is a JSON array of proxies, as `POST /populate`
//! takes; a file that is wrong stops the server with an error naming the file and the proxy.
//! Ctrl-C (or SIGTERM) stops it.
//!
//! # The API
//!
//! Toxiproxy's endpoints, bodies and statuses:
//!
//! | endpoint | does | answers |
//! | --- | --- | --- |
//! | `GET /proxies` | every proxy, by name | 200 |
//! | `POST /proxies` | creates a proxy `{"name", "listen", "upstream", "enabled"}` | 201; 409 name taken; 400 |
//! | `POST /populate` | creates or replaces each proxy of a JSON array | 201 `{"proxies": [...]}`; on error the error's status, with the proxies done |
//! | `GET /proxies/{proxy}` | the proxy, with its toxics | 200; 404 |
//! | `POST`/`PATCH /proxies/{proxy}` | changes `enabled`, `listen`, `upstream` | 200; 404; 400 |
//! | `DELETE /proxies/{proxy}` | deletes it | 204; 404 |
//! | `GET /proxies/{proxy}/toxics` | its toxics (upstream ones first) | 200; 404 |
//! | `POST /proxies/{proxy}/toxics` | adds a toxic `{"name", "type", "stream", "toxicity", "attributes"}` | 200; 404; 409 name taken; 400 |
//! | `GET /proxies/{proxy}/toxics/{toxic}` | the toxic | 200; 404 |
//! | `POST`/`PATCH /proxies/{proxy}/toxics/{toxic}` | merges `attributes`, replaces `toxicity` | 200; 404; 400 |
//! | `DELETE /proxies/{proxy}/toxics/{toxic}` | removes it | 204; 404 |
//! | `POST /reset` | enables every proxy, removes every toxic | 204 |
//! | `GET /version` | `{"version": "..."}` | 200 |
//!
//! Errors are Toxiproxy's body `{"error": "...", "status": N}`; the message starts with
//! Toxiproxy's words (`proxy not found`, `toxic already exists`...) and goes on to name the
//! proxy, the toxic and the field, and what there is instead:
//! `toxic not found: proxy `db` has no toxic `latncy`; the toxics are `latency_downstream``.
//! A proxy's `listen` is the address it bound (`127.0.0.1:0` shows the port picked).
//!
//! Where it differs from Toxiproxy:
//! - **Seeded**: every toxic's draws (toxicity, jitter, slice sizes) come from the server's
//!   seed (`-seed`, else `CHAOS_SEED`, else a fresh one): the same seed and the same order of
//!   connections replay them. Toxiproxy ignores its `-seed` (its issue #274).
//! - A proxy whose `listen` or `upstream` changes is brought up anew in its place, with its
//!   toxics (Toxiproxy restarts its listener likewise); if the new address cannot be bound,
//!   the proxy stays as it was.
//! - The upstream must resolve when the proxy is created (400 otherwise); Toxiproxy resolves
//!   it at each connection.
//! - A proxy created without `listen` listens on `127.0.0.1:0` (Toxiproxy: every interface).
//! - Unknown toxic fields are refused (400 naming them) rather than ignored.
//! - `POST /populate` answers `"proxies": []` where Toxiproxy answers `null`.
//! - There are no Prometheus metrics (`-proxy-metrics` and `-runtime-metrics` are accepted
//!   and ignored); the counters are [`Proxy::stats`](super::Proxy::stats) in-process.
//!
//! # In-process
//!
//! ```
//! use chaos_runtime::target::proxy::server::{Registry, Server};
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let server = Server::bind("127.0.0.1:0", Registry::with_seed(42)).await.unwrap();
//! let url = server.url(); // http://127.0.0.1:<port>: give it to a Toxiproxy client
//! let handle = server.spawn();
//! assert!(handle.registry().proxies().await.is_empty());
//! handle.shutdown().await;
//! # let _ = url;
//! # });
//! ```

mod cli;
mod error;
mod json;
mod registry;
mod routes;

pub use cli::{load_config, parse_args, run, Command, Options, USAGE};
pub use error::{ApiError, ServerError};
pub use json::{ProxyConfig, ProxyPatch, DEFAULT_LISTEN};
pub use registry::Registry;

use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};

/// The version the API reports at `GET /version` (this crate's).
pub const VERSION: &str = routes::VERSION;

/// How long a request's headers may take to arrive (Toxiproxy's read timeout).
const HEADER_TIMEOUT: Duration = Duration::from_secs(15);

/// How long the requests in flight get to finish when the server stops.
const DRAIN: Duration = Duration::from_secs(5);

/// The API server, bound and not yet serving: [`Server::spawn`] it, or
/// [`Server::run_until`] a shutdown signal.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    addr: SocketAddr,
    registry: Registry,
}

impl Server {
    /// Binds the API on `addr` (`host:port`; port 0 picks a free one) over `registry`.
    ///
    /// # Errors
    /// The address does not resolve or cannot be bound.
    pub async fn bind(addr: &str, registry: Registry) -> Result<Server, ServerError> {
        let bind_err = |source| ServerError::Bind {
            addr: addr.to_owned(),
            source,
        };
        let listener = TcpListener::bind(addr).await.map_err(bind_err)?;
        let local = listener.local_addr().map_err(bind_err)?;
        Ok(Server {
            listener,
            addr: local,
            registry,
        })
    }

    /// The address the API listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The API's base URL, `http://<address>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The proxies it serves.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Serves until `shutdown` completes, then lets the requests in flight finish (for up to
    /// 5 s). The proxies stay with the registry.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) {
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut conns = JoinSet::new();
        tokio::pin!(shutdown);
        tracing::info!(addr = %self.addr, seed = self.registry.seed(), "Toxiproxy API listening");
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                Some(_) = conns.join_next(), if !conns.is_empty() => {}
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        conns.spawn(serve_connection(stream, self.registry.clone(), stop_rx.clone()));
                    }
                    Err(e) => {
                        // Out of file descriptors and the like: wait rather than spin.
                        tracing::warn!(error = %e, "API accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                },
            }
        }
        drop(self.listener);
        let _ = stop_tx.send(true);
        let drained =
            tokio::time::timeout(DRAIN, async { while conns.join_next().await.is_some() {} }).await;
        if drained.is_err() {
            conns.abort_all();
        }
        tracing::info!(addr = %self.addr, "Toxiproxy API stopped");
    }

    /// Serves on a task of the current runtime until the handle is shut down or dropped.
    pub fn spawn(self) -> ServerHandle {
        let (tx, rx) = oneshot::channel::<()>();
        let addr = self.addr;
        let registry = self.registry.clone();
        let task = tokio::spawn(self.run_until(async {
            let _ = rx.await;
        }));
        ServerHandle {
            addr,
            registry,
            stop: Some(tx),
            task: Some(task),
        }
    }
}

/// Serves one connection's requests until it closes, or the server stops (the request in
/// flight is answered first).
async fn serve_connection(
    stream: tokio::net::TcpStream,
    registry: Registry,
    mut stop: watch::Receiver<bool>,
) {
    let service = hyper::service::service_fn(move |req| routes::handle(registry.clone(), req));
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        res = conn.as_mut() => {
            if let Err(e) = res {
                tracing::debug!(error = %e, "API connection ended");
            }
        }
        _ = async { let _ = stop.wait_for(|s| *s).await; } => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// A running [`Server`] ([`Server::spawn`]): it stops when shut down or dropped.
#[derive(Debug)]
pub struct ServerHandle {
    addr: SocketAddr,
    registry: Registry,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl ServerHandle {
    /// The address the API listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The API's base URL, `http://<address>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The proxies it serves.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Stops the server and waits until it has (the requests in flight answered).
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

#[cfg(test)]
mod tests;
