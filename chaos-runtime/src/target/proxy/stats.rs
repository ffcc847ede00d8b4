//! The proxy's counters, per proxy and per toxic, read as probe values.

use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};

/// A counter shared by the tasks of a proxy.
#[derive(Debug, Default)]
pub(super) struct Counter(AtomicU64);

impl Counter {
    pub(super) fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    pub(super) fn sub(&self, n: u64) {
        self.0.fetch_sub(n, Ordering::Relaxed);
    }
    pub(super) fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The live counters of a proxy.
#[derive(Debug, Default)]
pub(super) struct ProxyCounters {
    pub(super) connections: Counter,
    pub(super) open: Counter,
    pub(super) refused: Counter,
    pub(super) upstream_failures: Counter,
    pub(super) bytes_upstream: Counter,
    pub(super) bytes_downstream: Counter,
    pub(super) resets: Counter,
    pub(super) requests: Counter,
}

/// The live counters of a toxic (or HTTP fault).
#[derive(Debug, Default)]
pub(super) struct ToxicCounters {
    pub(super) connections: Counter,
    pub(super) affected: Counter,
    pub(super) bytes: Counter,
    pub(super) resets: Counter,
    pub(super) closes: Counter,
}

impl ToxicCounters {
    pub(super) fn snapshot(&self, name: String, kind: &'static str) -> ToxicStats {
        ToxicStats {
            name,
            kind,
            connections: self.connections.get(),
            affected: self.affected.get(),
            bytes: self.bytes.get(),
            resets: self.resets.get(),
            closes: self.closes.get(),
        }
    }
}

/// What a proxy has seen since it started: a probe's value
/// ([`Proxy::stats`](super::Proxy::stats)), serialised as JSON in the journal.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use chaos_runtime::target::proxy::Proxy;
/// let proxy = Proxy::listen("doc", "127.0.0.1:9").await.unwrap();
/// let stats = proxy.stats();
/// assert_eq!((stats.connections, stats.bytes_upstream), (0, 0));
/// assert!(stats.toxics.is_empty());
/// # });
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ProxyStats {
    /// Connections accepted.
    pub connections: u64,
    /// Connections open now.
    pub open: u64,
    /// Connections refused or dropped because the proxy was down.
    pub refused: u64,
    /// Connections closed because the upstream could not be reached.
    pub upstream_failures: u64,
    /// Bytes passed from clients to the upstream.
    pub bytes_upstream: u64,
    /// Bytes passed from the upstream to clients.
    pub bytes_downstream: u64,
    /// Connections reset by a toxic (`reset_peer`).
    pub resets: u64,
    /// HTTP requests seen (HTTP mode).
    pub requests: u64,
    /// Per toxic or HTTP fault now in place.
    pub toxics: Vec<ToxicStats>,
}

/// What a toxic (or HTTP fault) has done since it was added.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ToxicStats {
    /// Its name.
    pub name: String,
    /// Its type (`latency`, `http`...).
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Connections (requests, for an HTTP fault) it was drawn for.
    pub connections: u64,
    /// Of those, the ones its toxicity hit.
    pub affected: u64,
    /// Bytes that passed through it on the connections it hit.
    pub bytes: u64,
    /// Connections it reset.
    pub resets: u64,
    /// Connections it closed (`timeout`, `limit_data`, `down`, an HTTP abort).
    pub closes: u64,
}

impl ProxyCounters {
    pub(super) fn snapshot(&self, toxics: Vec<ToxicStats>) -> ProxyStats {
        ProxyStats {
            connections: self.connections.get(),
            open: self.open.get(),
            refused: self.refused.get(),
            upstream_failures: self.upstream_failures.get(),
            bytes_upstream: self.bytes_upstream.get(),
            bytes_downstream: self.bytes_downstream.get(),
            resets: self.resets.get(),
            requests: self.requests.get(),
            toxics,
        }
    }
}
