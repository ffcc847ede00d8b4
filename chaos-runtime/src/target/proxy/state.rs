//! What a proxy's tasks share: its toxics (published as snapshots that every connection
//! follows), its open connections, its counters, and the seeded draws of its toxics.

use super::error::{ProxyError, ProxyErrorKind};
use super::fault::HttpFault;
use super::stats::{ProxyCounters, ToxicCounters};
use super::toxic::Toxic;
use crate::rng::SeededRng;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};
use tokio::sync::watch;

/// How an open connection is ended from outside its tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kill {
    /// Not ended.
    No,
    /// Closed (FIN to both ends).
    Close,
    /// Reset (RST to both ends).
    Reset,
}

/// A toxic in place on a proxy, with what its draws derive from.
#[derive(Debug)]
pub(super) struct Installed {
    pub(super) toxic: Toxic,
    pub(super) name: String,
    /// The toxic's seed: the run's (or the proxy's) seed mixed with the proxy's and the
    /// toxic's names.
    pub(super) seed: u64,
    /// The connections open when it was added, in the order they were accepted.
    live_at_add: Vec<u64>,
    /// The id the next connection accepted after it was added gets.
    first_new: u64,
    pub(super) counters: Arc<ToxicCounters>,
    pub(super) added: SystemTime,
    /// When a shared `bandwidth` next lets data through (all connections).
    pub(super) shared_free_at: Arc<Mutex<Instant>>,
}

impl Installed {
    /// A toxic installed on no proxy, with no open connections, for the effect tests.
    #[cfg(test)]
    pub(super) fn detached(toxic: Toxic, seed: u64) -> Installed {
        Installed {
            name: toxic.name(),
            seed: toxic_seed(seed, "test", &toxic.name()),
            toxic,
            live_at_add: Vec::new(),
            first_new: 0,
            counters: Arc::default(),
            added: SystemTime::now(),
            shared_free_at: Arc::new(Mutex::new(Instant::now())),
        }
    }

    /// The connection's place in the toxic's order: the open connections in the order they
    /// were accepted, and apart from them the new ones, in the order they come. Draws are made per place, so the same seed and
    /// the same connection order give the same decisions.
    pub(super) fn ordinal(&self, conn: u64) -> u64 {
        if conn >= self.first_new {
            // New connections count from the toxic, whatever was open then.
            (1 << 62) | (conn - self.first_new)
        } else {
            match self.live_at_add.binary_search(&conn) {
                Ok(i) => i as u64,
                // A connection accepted while the toxic was being added: after the others.
                Err(_) => u64::MAX - conn,
            }
        }
    }

    /// The generator of the connection with this ordinal: its first draw decides whether the
    /// toxicity hits it, the next ones are its jitter and slice sizes.
    pub(super) fn rng(&self, ordinal: u64) -> SeededRng {
        SeededRng::new(mix(self.seed, ordinal))
    }
}

impl Installed {
    /// The same toxic, changed, with the same draws (seed and connection order) and counters.
    pub(super) fn updated(&self, toxic: Toxic) -> Installed {
        Installed {
            toxic,
            name: self.name.clone(),
            seed: self.seed,
            live_at_add: self.live_at_add.clone(),
            first_new: self.first_new,
            counters: self.counters.clone(),
            added: self.added,
            shared_free_at: self.shared_free_at.clone(),
        }
    }
}

/// An HTTP fault in place on a proxy.
#[derive(Debug)]
pub(super) struct InstalledFault {
    pub(super) fault: HttpFault,
    pub(super) seed: u64,
    /// The next request's place in the fault's order.
    pub(super) next: std::sync::atomic::AtomicU64,
    pub(super) counters: Arc<ToxicCounters>,
    pub(super) added: SystemTime,
}

/// The toxics and faults in place, as every connection sees them.
#[derive(Debug, Default)]
pub(super) struct Snapshot {
    pub(super) toxics: Vec<Arc<Installed>>,
    pub(super) faults: Vec<Arc<InstalledFault>>,
    /// The proxy disabled (Toxiproxy's `enabled: false`): no listener, no connections.
    pub(super) disabled: bool,
    /// Counts the snapshots published: a connection's direct path is open only while its
    /// writer has followed the latest one (see `Shared::version`).
    pub(super) version: u64,
}

impl Snapshot {
    /// Whether the proxy listens for nothing: disabled, or a `down` toxic of toxicity 1.
    pub(super) fn is_down(&self) -> bool {
        self.disabled || self.down().is_some_and(|d| d.toxic.probability() >= 1.0)
    }

    /// The `down` toxic in place, if any.
    pub(super) fn down(&self) -> Option<&Arc<Installed>> {
        self.toxics
            .iter()
            .find(|t| matches!(t.toxic.kind(), super::ToxicKind::Down))
    }
}

/// One open connection, as the proxy keeps it.
#[derive(Debug)]
pub(super) struct Conn {
    pub(super) kill: watch::Sender<Kill>,
}

/// What every task of a proxy shares.
#[derive(Debug)]
pub(super) struct Shared {
    pub(super) name: String,
    pub(super) upstream: String,
    pub(super) upstream_addrs: Vec<SocketAddr>,
    pub(super) listen: SocketAddr,
    pub(super) http: bool,
    pub(super) seed: u64,
    pub(super) snapshot: watch::Sender<Arc<Snapshot>>,
    /// The version of the latest snapshot, raised before it is published: a reader that sees
    /// a version its writer has not followed yet hands its data to the writer, so a toxic acts
    /// on every byte that arrives once the change returned.
    pub(super) version: std::sync::atomic::AtomicU64,
    /// Changes to the toxics are made under this lock, one at a time.
    pub(super) edit: Mutex<()>,
    pub(super) conns: Mutex<BTreeMap<u64, Arc<Conn>>>,
    pub(super) next_conn: Mutex<u64>,
    pub(super) counters: ProxyCounters,
    /// The listener bound again when the proxy came back up, for its task to take.
    pub(super) rebound: Mutex<Option<std::net::TcpListener>>,
    /// `true` once the proxy is shut down (every handle dropped or `shutdown` called).
    pub(super) closed: watch::Sender<bool>,
    /// Pipes for the direct path's `splice(2)`.
    #[cfg(target_os = "linux")]
    pub(super) pipes: super::splice::Pipes,
}

impl Shared {
    /// The toxics and faults in place now.
    pub(super) fn current(&self) -> Arc<Snapshot> {
        self.snapshot.borrow().clone()
    }

    /// Registers a newly accepted connection; returns its id and control.
    pub(super) fn accept(&self) -> (u64, Arc<Conn>) {
        let mut next = self.next_conn.lock().unwrap_or_else(|p| p.into_inner());
        let id = *next;
        *next += 1;
        let conn = Arc::new(Conn {
            kill: watch::Sender::new(Kill::No),
        });
        self.conns
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, conn.clone());
        self.counters.connections.add(1);
        self.counters.open.add(1);
        (id, conn)
    }

    /// Forgets a connection whose tasks have all ended.
    pub(super) fn forget(&self, id: u64) {
        if self
            .conns
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id)
            .is_some()
        {
            self.counters.open.sub(1);
        }
    }

    /// Ends every open connection.
    pub(super) fn kill_all(&self, how: Kill) {
        for c in self
            .conns
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
        {
            c.kill.send_replace(how);
        }
    }

    /// Makes an installed toxic for `toxic`, with `seed_base` (the run's seed or the proxy's),
    /// and the draw order of the connections open now.
    pub(super) fn install(&self, toxic: Toxic, seed_base: u64) -> Installed {
        let next = self.next_conn.lock().unwrap_or_else(|p| p.into_inner());
        let live: Vec<u64> = self
            .conns
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .copied()
            .collect();
        let name = toxic.name();
        Installed {
            seed: toxic_seed(seed_base, &self.name, &name),
            name,
            toxic,
            live_at_add: live,
            first_new: *next,
            counters: Arc::default(),
            added: SystemTime::now(),
            shared_free_at: Arc::new(Mutex::new(Instant::now())),
        }
    }

    /// Publishes a new set of toxics and faults, made by `edit` from the current ones under
    /// the edit lock. Never waits on traffic: connections pick the change up on their own.
    pub(super) fn change<R>(
        &self,
        edit: impl FnOnce(
            &mut Vec<Arc<Installed>>,
            &mut Vec<Arc<InstalledFault>>,
        ) -> Result<R, ProxyErrorKind>,
        toxic: Option<&str>,
    ) -> Result<R, ProxyError> {
        let _one_at_a_time = self.edit.lock().unwrap_or_else(|p| p.into_inner());
        let now = self.current();
        let mut toxics = now.toxics.clone();
        let mut faults = now.faults.clone();
        let r = edit(&mut toxics, &mut faults)
            .map_err(|k| ProxyError::new(&self.name, toxic.map(str::to_owned), k))?;
        self.publish(
            &now,
            Snapshot {
                toxics,
                faults,
                disabled: now.disabled,
                version: 0,
            },
        );
        Ok(r)
    }

    /// Publishes `next` after `now`. When that brings the proxy back up, its listener is bound
    /// again first, so that a connection made once the change returned is accepted.
    fn publish(&self, now: &Snapshot, mut next: Snapshot) {
        if !now.is_down() && next.is_down() {
            // Down again before the proxy's task took the listener bound for coming up.
            self.rebound
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take();
        }
        if now.is_down() && !next.is_down() {
            match rebind(self.listen) {
                Ok(l) => *self.rebound.lock().unwrap_or_else(|p| p.into_inner()) = Some(l),
                Err(e) => {
                    tracing::warn!(proxy = %self.name, error = %e, "cannot listen again yet; retrying")
                }
            }
        }
        next.version = now.version + 1;
        self.version
            .store(next.version, std::sync::atomic::Ordering::Release);
        self.snapshot.send_replace(Arc::new(next));
    }
}

/// A listener on `addr` as the proxy's task takes it (non-blocking, `SO_REUSEADDR`).
fn rebind(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        None,
    )?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

impl Shared {
    /// Enables or disables the proxy; `true` if that changed it.
    pub(super) fn set_enabled(&self, enabled: bool) -> bool {
        let _one_at_a_time = self.edit.lock().unwrap_or_else(|p| p.into_inner());
        let now = self.current();
        if now.disabled != enabled {
            return false;
        }
        self.publish(
            &now,
            Snapshot {
                toxics: now.toxics.clone(),
                faults: now.faults.clone(),
                disabled: !enabled,
                version: 0,
            },
        );
        if !enabled {
            self.kill_all(Kill::Close);
        }
        true
    }
}

/// A toxic's seed: `base` mixed with the proxy's and the toxic's names, so that two toxics
/// (or two proxies) of a run draw independently, and the same names under the same seed draw
/// the same.
pub(super) fn toxic_seed(base: u64, proxy: &str, toxic: &str) -> u64 {
    // FNV-1a over the names, with a separator no name holds.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in proxy.bytes().chain([0xff]).chain(toxic.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    mix(base, h)
}

/// Two values mixed into one seed.
pub(super) fn mix(a: u64, b: u64) -> u64 {
    let mut r = SeededRng::new(a ^ b.rotate_left(29) ^ 0x6a09_e667_f3bc_c908);
    r.next_u64()
}

/// A uniform draw in `0.0..1.0`.
pub(super) fn unit(rng: &mut SeededRng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_depend_on_the_base_and_both_names() {
        let s = toxic_seed(7, "db", "latency_downstream");
        assert_eq!(s, toxic_seed(7, "db", "latency_downstream"));
        assert_ne!(s, toxic_seed(8, "db", "latency_downstream"));
        assert_ne!(s, toxic_seed(7, "cache", "latency_downstream"));
        assert_ne!(s, toxic_seed(7, "db", "latency_upstream"));
        assert_ne!(toxic_seed(7, "ab", "c"), toxic_seed(7, "a", "bc"));
    }
}
