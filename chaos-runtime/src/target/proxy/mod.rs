//! The network fault proxy (cargo feature `proxy`): a TCP proxy in the test's own process
//! between a service and a dependency, with Toxiproxy's toxics, seeded and self-reverting, and
//! HTTP-aware faults.
//!
//! Start one with [`Proxy::listen`] (on `127.0.0.1:0`, or [`ProxyBuilder::listen_on`]), point
//! the service at [`Proxy::addr`], and add faults in an experiment's method with
//! [`Proxy::add`]: they are removed when the run's rollbacks run, whatever ended it, with no
//! rollback written. Outside experiments, [`Proxy::apply`] returns a guard that removes the
//! fault when dropped.
//!
//! - **Toxics** ([`Toxic`]): `latency`, `bandwidth`, `timeout`, `reset_peer`, `slow_close`,
//!   `slicer`, `limit_data` and `down`, with Toxiproxy's parameters, defaults and JSON; each
//!   on the upstream or downstream [`Stream`], hitting a connection with probability
//!   `toxicity`. They act on open connections as well as new ones, from a connection's first
//!   byte; removing one never waits for the data it holds.
//! - **Seeded**: which connections a toxicity hits, each jitter and each slice size are drawn
//!   from the run's seed (`CHAOS_SEED`), the proxy's and the toxic's names, and the
//!   connection's place in the order connections came: the same seed and order replay them.
//! - **HTTP faults** ([`HttpFault`]) on a proxy in HTTP mode ([`ProxyBuilder::http`]): a
//!   status instead of the answer, a delay, or an abort, for the requests that match a method
//!   and a path prefix.
//! - **Counters** ([`Proxy::stats`]): connections, bytes each way, and per toxic the
//!   connections it hit, bytes, resets and closes, as a probe's value.
//!
//! ```
//! use chaos_runtime::target::proxy::{Proxy, Toxic};
//! use std::time::Duration;
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let backend = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
//! let proxy = Proxy::listen("db", backend.local_addr().unwrap().to_string()).await.unwrap();
//! let guard = proxy.apply(Toxic::latency(Duration::from_millis(100))).unwrap();
//! assert_eq!(proxy.toxics().len(), 1);
//! drop(guard);
//! assert!(proxy.toxics().is_empty());
//! # });
//! ```

mod effect;
mod error;
mod fault;
mod guard;
mod http;
mod json;
mod link;
pub mod server;
#[cfg(target_os = "linux")]
mod splice;
mod state;
mod stats;
mod toxic;

pub use error::{ProxyError, ProxyErrorKind};
pub use fault::{Fault, HttpAction, HttpFault};
pub use guard::FaultGuard;
pub use stats::{ProxyStats, ToxicStats};
pub use toxic::{Stream, Toxic, ToxicKind};

use state::{InstalledFault, Kill, Shared, Snapshot};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::watch;

/// A running proxy. Cheap to clone; it stops (closing its listener and its connections) when
/// the last clone and the last [`FaultGuard`] are dropped.
#[derive(Clone, Debug)]
pub struct Proxy {
    shared: Arc<Shared>,
    _owner: Arc<Owner>,
}

/// Stops the proxy's tasks when the last handle goes.
#[derive(Debug)]
struct Owner(Arc<Shared>);

impl Drop for Owner {
    fn drop(&mut self) {
        self.0.closed.send_replace(true);
        self.0.kill_all(Kill::Close);
    }
}

/// Configures a proxy before it starts: [`Proxy::builder`].
#[derive(Clone, Debug)]
pub struct ProxyBuilder {
    name: String,
    upstream: String,
    listen: String,
    http: bool,
    seed: Option<u64>,
}

impl ProxyBuilder {
    /// Listens on `addr` (`host:port`) rather than `127.0.0.1:0`.
    pub fn listen_on(mut self, addr: impl Into<String>) -> Self {
        self.listen = addr.into();
        self
    }

    /// HTTP mode: the proxy reads HTTP/1.1 requests (keep-alive included) so that
    /// [`HttpFault`]s can act on them; toxics do not act on a proxy in HTTP mode, `down`
    /// excepted.
    pub fn http(mut self) -> Self {
        self.http = true;
        self
    }

    /// The seed of the faults added outside experiments ([`Proxy::apply`]); by default
    /// `CHAOS_SEED`, else a fresh one. Faults added in an experiment use the run's seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Starts the proxy on the current tokio runtime: its tasks run there, so it lives as long
    /// as that runtime (and a handle) does.
    ///
    /// # Errors
    /// The upstream does not resolve, or the listen address cannot be bound.
    pub async fn start(self) -> Result<Proxy, ProxyError> {
        let upstream_addrs: Vec<SocketAddr> = match tokio::net::lookup_host(&self.upstream).await {
            Ok(addrs) => addrs.collect(),
            Err(e) => return Err(self.error(upstream_error(&self.upstream, e.to_string()))),
        };
        if upstream_addrs.is_empty() {
            return Err(self.error(upstream_error(&self.upstream, "no address".into())));
        }
        let listen_addr = match tokio::net::lookup_host(&self.listen).await {
            Ok(mut a) => a.next(),
            Err(_) => None,
        };
        let Some(listen_addr) = listen_addr else {
            return Err(self.error(ProxyErrorKind::Listen {
                listen: self.listen.clone(),
                source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "not an address"),
            }));
        };
        let listener = bind(listen_addr).map_err(|source| {
            self.error(ProxyErrorKind::Listen {
                listen: self.listen.clone(),
                source,
            })
        })?;
        let listen = listener.local_addr().map_err(|source| {
            self.error(ProxyErrorKind::Listen {
                listen: self.listen.clone(),
                source,
            })
        })?;
        let seed = self
            .seed
            .or_else(|| crate::env::var(crate::env::SEED).and_then(|s| s.parse().ok()))
            .unwrap_or_else(crate::rng::fresh_seed);
        let shared = Arc::new(Shared {
            name: self.name,
            upstream: self.upstream,
            upstream_addrs,
            listen,
            http: self.http,
            seed,
            snapshot: watch::Sender::new(Arc::new(Snapshot::default())),
            version: Default::default(),
            edit: Mutex::new(()),
            conns: Mutex::default(),
            next_conn: Mutex::new(0),
            rebound: Mutex::new(None),
            counters: Default::default(),
            closed: watch::Sender::new(false),
            #[cfg(target_os = "linux")]
            pipes: Default::default(),
        });
        tokio::spawn(serve(shared.clone(), listener));
        tracing::debug!(proxy = %shared.name, %listen, upstream = %shared.upstream, "proxy listening");
        Ok(Proxy {
            _owner: Arc::new(Owner(shared.clone())),
            shared,
        })
    }

    /// Starts the proxy on a thread and runtime of its own, so that it outlives any one test's
    /// runtime (a proxy shared by the experiments of a harness, like a service they call).
    ///
    /// # Errors
    /// As [`ProxyBuilder::start`], or the thread cannot start.
    pub fn start_detached(self) -> Result<Proxy, ProxyError> {
        let name = self.name.clone();
        let io = |source: std::io::Error| {
            ProxyError::new(
                &name,
                None,
                ProxyErrorKind::Listen {
                    listen: self.listen.clone(),
                    source,
                },
            )
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(io)?;
        let (tx, rx) = std::sync::mpsc::channel();
        let builder = self.clone();
        std::thread::Builder::new()
            .name(format!("proxy-{}", self.name))
            .spawn(move || {
                rt.block_on(async move {
                    let started = builder.start().await;
                    let closed = started.as_ref().ok().map(|p| p.shared.closed.subscribe());
                    if tx.send(started).is_err() {
                        return;
                    }
                    if let Some(mut closed) = closed {
                        let _ = closed.wait_for(|c| *c).await;
                    }
                })
            })
            .map_err(io)?;
        rx.recv().map_err(|_| {
            io(std::io::Error::other(
                "the proxy's thread ended before it started",
            ))
        })?
    }

    fn error(&self, kind: ProxyErrorKind) -> ProxyError {
        ProxyError::new(&self.name, None, kind)
    }
}

fn upstream_error(upstream: &str, reason: String) -> ProxyErrorKind {
    ProxyErrorKind::Upstream {
        upstream: upstream.to_owned(),
        reason,
    }
}

/// A listener on `addr`, with `SO_REUSEADDR` so that a proxy brought back up after `down`
/// gets its port again.
fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

impl Proxy {
    /// Configures a proxy named `name` to `upstream` (`host:port`).
    pub fn builder(name: impl Into<String>, upstream: impl Into<String>) -> ProxyBuilder {
        ProxyBuilder {
            name: name.into(),
            upstream: upstream.into(),
            listen: "127.0.0.1:0".into(),
            http: false,
            seed: None,
        }
    }

    /// Starts a TCP proxy named `name` on `127.0.0.1:0` to `upstream` (`host:port`), on the
    /// current tokio runtime.
    ///
    /// # Errors
    /// The upstream does not resolve, or no port can be bound.
    pub async fn listen(
        name: impl Into<String>,
        upstream: impl Into<String>,
    ) -> Result<Proxy, ProxyError> {
        Proxy::builder(name, upstream).start().await
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// The address it listens on: point the service under test here.
    pub fn addr(&self) -> SocketAddr {
        self.shared.listen
    }

    /// The upstream it forwards to, as given.
    pub fn upstream(&self) -> &str {
        &self.shared.upstream
    }

    /// Whether it is in HTTP mode.
    pub fn is_http(&self) -> bool {
        self.shared.http
    }

    /// Adds `fault` (a [`Toxic`] or an [`HttpFault`]) for the run of `cx`: its random draws
    /// come from the run's seed, the journal records it under `targets`, and it is removed when
    /// the run's rollbacks run, whatever ended the run, as a rollback activity of its own.
    /// Returns the fault's name (for [`Proxy::toxic_stats`] or [`Proxy::remove`]).
    ///
    /// # Errors
    /// The fault is invalid, its name is taken, or it is an HTTP fault on a TCP proxy.
    pub fn add(&self, cx: &crate::Context, fault: impl Into<Fault>) -> Result<String, ProxyError> {
        guard::add_for_run(self, cx, fault.into())
    }

    /// Adds `fault` until the returned guard is dropped (or [`FaultGuard::remove`]d): for use
    /// outside experiments. Its draws come from the proxy's seed.
    ///
    /// # Errors
    /// As [`Proxy::add`].
    pub fn apply(&self, fault: impl Into<Fault>) -> Result<FaultGuard, ProxyError> {
        let fault = fault.into();
        let name = fault.name();
        self.insert(fault, self.shared.seed)?;
        Ok(FaultGuard::new(self.clone(), name))
    }

    /// Adds `fault` with draws from `seed`, until it is removed by name. What `add`, `apply`
    /// and the Toxiproxy-compatible server build on.
    ///
    /// # Errors
    /// As [`Proxy::add`].
    pub fn insert(&self, fault: Fault, seed: u64) -> Result<(), ProxyError> {
        let name = fault.name();
        match &fault {
            Fault::Toxic(t) => {
                t.validate(&self.shared.name)?;
                if self.shared.http && !matches!(t.kind(), ToxicKind::Down) {
                    return Err(ProxyError::new(
                        &self.shared.name,
                        Some(name),
                        ProxyErrorKind::Http(format!(
                            "a `{}` toxic acts on a TCP proxy; this proxy is in HTTP mode, \
                             where HTTP faults and `down` act",
                            t.kind().type_name()
                        )),
                    ));
                }
            }
            Fault::Http(f) => {
                f.validate(&self.shared.name)?;
                if !self.shared.http {
                    return Err(ProxyError::new(
                        &self.shared.name,
                        Some(name),
                        ProxyErrorKind::Http(
                            "HTTP faults need a proxy in HTTP mode (`Proxy::builder(..).http()`)"
                                .into(),
                        ),
                    ));
                }
            }
        }
        let installed = match fault {
            Fault::Toxic(t) => Ok(Arc::new(self.shared.install(t, seed))),
            Fault::Http(f) => Err(Arc::new(InstalledFault {
                seed: state::toxic_seed(seed, &self.shared.name, &f.name()),
                fault: f,
                next: Default::default(),
                counters: Arc::default(),
                added: SystemTime::now(),
            })),
        };
        self.shared.change(
            |toxics, faults| {
                if toxics.iter().any(|t| t.name == name)
                    || faults.iter().any(|f| f.fault.name() == name)
                {
                    return Err(ProxyErrorKind::ToxicExists);
                }
                match installed {
                    Ok(t) => toxics.push(t),
                    Err(f) => faults.push(f),
                }
                Ok(())
            },
            Some(&name),
        )
    }

    /// Changes the toxic `name` with Toxiproxy's update: `attributes` merged over its own,
    /// `toxicity` replaced. Its draws stay the same.
    ///
    /// # Errors
    /// No such toxic, or the result is invalid.
    pub fn update(&self, name: &str, patch: &serde_json::Value) -> Result<Toxic, ProxyError> {
        self.shared.change(
            |toxics, _| {
                let Some(i) = toxics.iter().position(|t| t.name == name) else {
                    return Err(ProxyErrorKind::NoSuchToxic);
                };
                let old = &toxics[i];
                let new = old
                    .toxic
                    .updated(&self.shared.name, patch)
                    .map_err(ProxyError::into_kind)?;
                toxics[i] = Arc::new(old.updated(new.clone()));
                Ok(new)
            },
            Some(name),
        )
    }

    /// Removes the toxic or HTTP fault `name` at once: the data it was holding goes on
    /// through the toxics that remain.
    ///
    /// # Errors
    /// No toxic or fault of that name.
    pub fn remove(&self, name: &str) -> Result<Fault, ProxyError> {
        self.shared.change(
            |toxics, faults| {
                if let Some(i) = toxics.iter().position(|t| t.name == name) {
                    return Ok(Fault::Toxic(toxics.remove(i).toxic.clone()));
                }
                if let Some(i) = faults.iter().position(|f| f.fault.name() == name) {
                    return Ok(Fault::Http(faults.remove(i).fault.clone()));
                }
                Err(ProxyErrorKind::NoSuchToxic)
            },
            Some(name),
        )
    }

    /// Enables or disables the proxy (Toxiproxy's `enabled`): disabled, it closes its listener
    /// (connections are refused) and its open connections; enabled again, it listens on the
    /// same address. Returns whether that changed anything. The toxics stay in place.
    pub fn set_enabled(&self, enabled: bool) -> bool {
        self.shared.set_enabled(enabled)
    }

    /// Whether the proxy is enabled.
    pub fn is_enabled(&self) -> bool {
        !self.shared.current().disabled
    }

    /// Removes every toxic and fault.
    pub fn clear(&self) {
        let _ = self.shared.change(
            |toxics, faults| {
                toxics.clear();
                faults.clear();
                Ok(())
            },
            None,
        );
    }

    /// The toxics in place, in the order they were added.
    pub fn toxics(&self) -> Vec<Toxic> {
        self.shared
            .current()
            .toxics
            .iter()
            .map(|t| t.toxic.clone())
            .collect()
    }

    /// The toxics and HTTP faults in place.
    pub fn faults(&self) -> Vec<Fault> {
        let now = self.shared.current();
        let toxics = now.toxics.iter().map(|t| Fault::Toxic(t.toxic.clone()));
        toxics
            .chain(now.faults.iter().map(|f| Fault::Http(f.fault.clone())))
            .collect()
    }

    /// Its counters now, with those of each toxic and fault in place: a probe's value.
    pub fn stats(&self) -> ProxyStats {
        let now = self.shared.current();
        let toxics = now.toxics.iter().map(|t| {
            t.counters
                .snapshot(t.name.clone(), t.toxic.kind().type_name())
        });
        let faults = now
            .faults
            .iter()
            .map(|f| f.counters.snapshot(f.fault.name(), "http"));
        self.shared
            .counters
            .snapshot(toxics.chain(faults).collect())
    }

    /// The counters of the toxic or fault `name`, if it is in place.
    pub fn toxic_stats(&self, name: &str) -> Option<ToxicStats> {
        self.stats().toxics.into_iter().find(|t| t.name == name)
    }

    /// When the toxic or fault `name` was added, if it is in place.
    pub fn added_at(&self, name: &str) -> Option<SystemTime> {
        let now = self.shared.current();
        now.toxics
            .iter()
            .find(|t| t.name == name)
            .map(|t| t.added)
            .or_else(|| {
                now.faults
                    .iter()
                    .find(|f| f.fault.name() == name)
                    .map(|f| f.added)
            })
    }
}

/// Accepts connections until the proxy is shut down; closes the listener while a `down` toxic
/// of toxicity 1 is in place.
async fn serve(shared: Arc<Shared>, listener: TcpListener) {
    let mut listener = Some(listener);
    let mut backoff = false;
    let mut toxics = shared.snapshot.subscribe();
    let mut closed = shared.closed.subscribe();
    loop {
        let all_down = toxics.borrow_and_update().is_down();
        if all_down {
            if listener.take().is_some() {
                tracing::debug!(proxy = %shared.name, "proxy down: listener closed");
            }
            tokio::select! {
                _ = closed.wait_for(|c| *c) => return,
                _ = toxics.changed() => continue,
            }
        }
        let Some(l) = &listener else {
            let rebound = shared
                .rebound
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take();
            let again = match rebound {
                Some(l) => TcpListener::from_std(l),
                None => bind(shared.listen),
            };
            match again {
                Ok(l) => listener = Some(l),
                Err(e) => {
                    tracing::warn!(proxy = %shared.name, error = %e, "proxy cannot listen again; retrying");
                    tokio::select! {
                        _ = closed.wait_for(|c| *c) => return,
                        _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                    }
                }
            }
            continue;
        };
        tokio::select! {
            _ = closed.wait_for(|c| *c) => return,
            _ = toxics.changed() => {}
            accepted = l.accept() => match accepted {
                Ok((client, _)) => {
                    let (id, conn) = shared.accept();
                    tokio::spawn(handle(shared.clone(), id, conn, client));
                }
                // Out of descriptors, most likely: wait rather than spin.
                Err(e) => {
                    tracing::warn!(proxy = %shared.name, error = %e, "accept failed");
                    backoff = true;
                }
            },
        }
        if std::mem::take(&mut backoff) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Connects an accepted client to the upstream and proxies it.
async fn handle(shared: Arc<Shared>, id: u64, conn: Arc<state::Conn>, client: TcpStream) {
    if shared.http {
        return http::serve(shared, id, conn, client).await;
    }
    match connect(&shared).await {
        Ok(upstream) => link::spawn(shared, id, conn, client, upstream),
        Err(e) => {
            tracing::debug!(proxy = %shared.name, error = %e, "upstream unreachable");
            shared.counters.upstream_failures.add(1);
            shared.forget(id);
        }
    }
}

/// A connection to the upstream, trying each of its addresses.
async fn connect(shared: &Shared) -> std::io::Result<TcpStream> {
    let mut last = None;
    for addr in &shared.upstream_addrs {
        match TcpStream::connect(addr).await {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no upstream address")))
}

#[cfg(test)]
mod tests;
