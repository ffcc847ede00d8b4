//! What the toxics of one direction of one connection do to its data: each chunk read becomes
//! pieces to write at given instants, and a toxic may end the connection at an instant.

use super::state::{unit, Installed};
use super::toxic::{Stream, ToxicKind};
use crate::rng::SeededRng;
use bytes::Bytes;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Bytes to write no earlier than `at`; `arrived` is when they were read.
#[derive(Debug)]
pub(super) struct Piece {
    pub(super) at: Instant,
    pub(super) arrived: Instant,
    pub(super) data: Bytes,
}

/// How a toxic ends a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum End {
    Close,
    Reset,
}

/// One toxic on one direction of one connection.
#[derive(Debug)]
pub(super) struct Active {
    pub(super) installed: Arc<Installed>,
    /// Whether its toxicity hit this connection.
    pub(super) hit: bool,
    rng: SeededRng,
    /// When it started acting on this connection.
    since: Instant,
    /// `limit_data`: bytes passed so far.
    passed: u64,
    /// Per-connection `bandwidth`: when the link is next free.
    free_at: Instant,
    /// `reset_peer`: when the reset is due, once data was seen.
    reset_at: Option<Instant>,
}

impl Active {
    /// The toxic's state on connection `conn`: its toxicity decision is the first draw of the
    /// connection's generator.
    pub(super) fn new(installed: Arc<Installed>, conn: u64, now: Instant) -> Active {
        let mut rng = installed.rng(installed.ordinal(conn));
        let toxicity = installed.toxic.probability();
        let draw = unit(&mut rng);
        let hit = toxicity >= 1.0 || draw < toxicity;
        installed.counters.connections.add(1);
        if hit {
            installed.counters.affected.add(1);
        }
        Active {
            installed,
            hit,
            rng,
            since: now,
            passed: 0,
            free_at: now,
            reset_at: None,
        }
    }

    /// When this toxic ends the connection on its own, with no more data (`timeout`,
    /// `reset_peer` once triggered).
    pub(super) fn deadline(&self) -> Option<(Instant, End)> {
        if !self.hit {
            return None;
        }
        match *self.installed.toxic.kind() {
            ToxicKind::Timeout { timeout } if timeout > 0 => {
                Some((self.since + Duration::from_millis(timeout), End::Close))
            }
            ToxicKind::ResetPeer { .. } => self.reset_at.map(|at| (at, End::Reset)),
            _ => None,
        }
    }

    /// Whether it holds all data back (`timeout`, `reset_peer` waiting to reset).
    fn swallows(&self) -> bool {
        self.hit
            && matches!(
                self.installed.toxic.kind(),
                ToxicKind::Timeout { .. } | ToxicKind::ResetPeer { .. }
            )
    }

    /// The extra delay of the close once the sender closed (`slow_close`).
    pub(super) fn close_delay(&self) -> Duration {
        match *self.installed.toxic.kind() {
            ToxicKind::SlowClose { delay } if self.hit => Duration::from_millis(delay),
            _ => Duration::ZERO,
        }
    }

    /// Passes `pieces` through this toxic; returns the connection's end if it calls for one
    /// once they are written.
    fn apply(&mut self, pieces: &mut Vec<Piece>) -> Option<(Instant, End)> {
        if !self.hit || pieces.is_empty() {
            return None;
        }
        let bytes: usize = pieces.iter().map(|p| p.data.len()).sum();
        self.installed.counters.bytes.add(bytes as u64);
        match *self.installed.toxic.kind() {
            ToxicKind::Latency { latency, jitter } => {
                let mut delay = i128::from(latency);
                if jitter > 0 {
                    let j = i128::from(jitter);
                    delay += i128::from(self.rng.below(jitter.saturating_mul(2))) - j;
                }
                let delay = Duration::from_millis(u64::try_from(delay.max(0)).unwrap_or(u64::MAX));
                for p in pieces.iter_mut() {
                    p.at = p.at.max(p.arrived + delay);
                }
                None
            }
            ToxicKind::Bandwidth { rate, shared } if rate > 0 => {
                let per_byte = 1.0 / (rate as f64 * 1000.0);
                // Bytes per 100 ms, as Toxiproxy splits them.
                let slot = usize::try_from(rate.saturating_mul(100)).unwrap_or(usize::MAX);
                let mut out = Vec::with_capacity(pieces.len());
                for p in pieces.drain(..) {
                    let mut data = p.data;
                    while !data.is_empty() {
                        let part = data.split_to(data.len().min(slot.max(1)));
                        let cost = Duration::from_secs_f64(part.len() as f64 * per_byte);
                        let at = if shared {
                            let mut free = self
                                .installed
                                .shared_free_at
                                .lock()
                                .unwrap_or_else(|e| e.into_inner());
                            *free = (*free).max(p.at) + cost;
                            *free
                        } else {
                            self.free_at = self.free_at.max(p.at) + cost;
                            self.free_at
                        };
                        out.push(Piece {
                            at,
                            arrived: p.arrived,
                            data: part,
                        });
                    }
                }
                *pieces = out;
                None
            }
            ToxicKind::Slicer {
                average_size,
                size_variation,
                delay,
            } if average_size > 0 => {
                let delay = Duration::from_micros(delay);
                let mut out = Vec::new();
                for p in pieces.drain(..) {
                    let mut data = p.data;
                    let mut at = p.at;
                    while !data.is_empty() {
                        // `size_variation < average_size` (validated): no underflow.
                        let size = if size_variation > 0 {
                            let spread = size_variation.saturating_mul(2).saturating_add(1);
                            (average_size - size_variation).saturating_add(self.rng.below(spread))
                        } else {
                            average_size
                        };
                        let size = usize::try_from(size.max(1)).unwrap_or(usize::MAX);
                        let part = data.split_to(data.len().min(size));
                        at += delay;
                        out.push(Piece {
                            at,
                            arrived: p.arrived,
                            data: part,
                        });
                    }
                }
                *pieces = out;
                None
            }
            ToxicKind::LimitData { bytes: limit } => {
                let mut left = limit.saturating_sub(self.passed);
                let mut end_at = None;
                pieces.retain_mut(|p| {
                    if left == 0 {
                        end_at.get_or_insert(p.at);
                        return false;
                    }
                    if p.data.len() as u64 >= left {
                        p.data.truncate(left as usize);
                        left = 0;
                        end_at = Some(p.at);
                    } else {
                        left -= p.data.len() as u64;
                    }
                    true
                });
                self.passed = limit - left;
                end_at.map(|at| (at, End::Close))
            }
            ToxicKind::ResetPeer { timeout } => {
                if self.reset_at.is_none() {
                    self.reset_at = Some(pieces[0].at + Duration::from_millis(timeout));
                }
                pieces.clear();
                None
            }
            ToxicKind::Timeout { .. } => {
                pieces.clear();
                None
            }
            _ => None,
        }
    }
}

/// The toxics of one direction of one connection, kept in step with the proxy's snapshot.
#[derive(Debug, Default)]
pub(super) struct Chain {
    actives: Vec<Active>,
}

impl Chain {
    /// Follows the proxy's toxics on `stream`: keeps the state of the toxics still in place,
    /// draws for the new ones.
    /// Returns whether this direction's toxics changed.
    pub(super) fn refresh(&mut self, toxics: &[Arc<Installed>], stream: Stream, conn: u64) -> bool {
        let now = Instant::now();
        let mut old = std::mem::take(&mut self.actives);
        let mut changed = false;
        for t in toxics.iter().filter(|t| t.toxic.stream() == stream) {
            if matches!(t.toxic.kind(), ToxicKind::Down) {
                continue;
            }
            // A toxic keeps its state through an update (its counters are the same).
            match old
                .iter()
                .position(|a| Arc::ptr_eq(&a.installed.counters, &t.counters))
            {
                Some(i) => {
                    let mut a = old.remove(i);
                    if !Arc::ptr_eq(&a.installed, t) {
                        changed = true;
                        a.installed = t.clone();
                    }
                    self.actives.push(a);
                }
                None => {
                    changed = true;
                    self.actives.push(Active::new(t.clone(), conn, now));
                }
            }
        }
        changed || !old.is_empty()
    }

    /// Gives back what `held` bytes (planned, not written yet) took from the toxics, before
    /// they go through the changed toxics again.
    pub(super) fn unwind(&mut self, held: u64, now: Instant) {
        for a in &mut self.actives {
            a.passed = a.passed.saturating_sub(held);
            a.free_at = now;
        }
    }

    /// Whether no toxic acts on this direction: data passes as it comes.
    pub(super) fn is_clear(&self) -> bool {
        self.actives.iter().all(|a| !a.hit)
    }

    /// The data of one read, through every toxic in order: the pieces to write, and the
    /// connection's end if a toxic calls for one.
    pub(super) fn plan(
        &mut self,
        arrived: Instant,
        data: Bytes,
    ) -> (Vec<Piece>, Option<(Instant, End)>) {
        let mut pieces = vec![Piece {
            at: arrived,
            arrived,
            data,
        }];
        let mut end = None;
        for a in &mut self.actives {
            if let Some(e) = a.apply(&mut pieces) {
                end = Some(end.map_or(e, |p: (Instant, End)| if e.0 < p.0 { e } else { p }));
            }
        }
        (pieces, end)
    }

    /// The earliest end a toxic calls for on its own.
    pub(super) fn deadline(&self) -> Option<(Instant, End)> {
        self.actives
            .iter()
            .filter_map(Active::deadline)
            .min_by_key(|d| d.0)
    }

    /// Whether a toxic holds all data back.
    pub(super) fn swallows(&self) -> bool {
        self.actives.iter().any(Active::swallows)
    }

    /// The delay of the close once the sender closed.
    pub(super) fn close_delay(&self) -> Duration {
        self.actives.iter().map(Active::close_delay).sum()
    }

    /// Counts an end caused by a toxic of this chain.
    pub(super) fn count_end(&self, end: End) {
        let kind = |a: &&Active| {
            a.hit
                && match end {
                    End::Reset => matches!(a.installed.toxic.kind(), ToxicKind::ResetPeer { .. }),
                    End::Close => matches!(
                        a.installed.toxic.kind(),
                        ToxicKind::Timeout { .. } | ToxicKind::LimitData { .. }
                    ),
                }
        };
        if let Some(a) = self.actives.iter().find(kind) {
            match end {
                End::Reset => a.installed.counters.resets.add(1),
                End::Close => a.installed.counters.closes.add(1),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::proxy::Toxic;

    /// The delays (from arrival) and sizes of what `toxic` makes of 50 chunks of 1000 bytes on
    /// connection `conn`.
    fn plan(toxic: Toxic, seed: u64, conn: u64) -> Vec<(Duration, usize)> {
        let installed = Arc::new(Installed::detached(toxic, seed));
        let mut chain = Chain::default();
        chain.refresh(&[installed], Stream::Downstream, conn);
        let t0 = Instant::now();
        let mut out = Vec::new();
        for i in 0..50u32 {
            let arrived = t0 + Duration::from_millis(u64::from(i));
            let (pieces, _) = chain.plan(arrived, Bytes::from(vec![0u8; 1000]));
            out.extend(pieces.iter().map(|p| (p.at - arrived, p.data.len())));
        }
        out
    }

    #[test]
    fn the_same_seed_and_connection_replay_every_delay_and_size_exactly() {
        let jitter =
            || Toxic::latency(Duration::from_millis(100)).jitter(Duration::from_millis(30));
        let a = plan(jitter(), 11, 3);
        assert_eq!(a, plan(jitter(), 11, 3));
        assert_ne!(a, plan(jitter(), 12, 3));
        assert_ne!(a, plan(jitter(), 11, 4));
        assert!(
            a.iter().all(|(d, _)| (70..130).contains(&d.as_millis())),
            "{a:?}"
        );
        let slicer = || Toxic::slicer(64, 48, Duration::from_micros(10));
        let b = plan(slicer(), 11, 3);
        assert_eq!(b, plan(slicer(), 11, 3));
        assert!(b.iter().all(|(_, n)| (1..=112).contains(n)), "{b:?}");
        assert_ne!(b, plan(slicer(), 99, 3));
    }
}
