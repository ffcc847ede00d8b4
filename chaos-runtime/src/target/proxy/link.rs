//! One proxied TCP connection: for each direction, a reader that timestamps what it reads and
//! a writer that passes it through the direction's toxics. Writers follow the proxy's toxics
//! as they change, so a toxic acts on open connections too, and a removed one stops acting at
//! once, whatever data it was holding.

use super::effect::{Chain, End, Piece};
use super::state::{Conn, Kill, Shared};
use super::toxic::Stream;
use bytes::{Bytes, BytesMut};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};

/// How much one read takes at most.
const READ_SIZE: usize = 64 * 1024;
/// Chunks a reader may be ahead of its writer (so that `latency` delays each chunk from its
/// arrival, as in Toxiproxy, rather than one after the other).
const AHEAD: usize = 32;

/// What a reader hands its writer.
enum Msg {
    Data(Instant, Bytes),
    Eof,
}

/// Forgets the connection when its last task ends.
struct Forget {
    shared: Arc<Shared>,
    id: u64,
}

impl Drop for Forget {
    fn drop(&mut self) {
        self.shared.forget(self.id);
    }
}

/// Where a direction's data goes now: straight from its reader (no toxic acts on it, and the
/// writer has written everything the reader handed it), or through its writer.
#[derive(Debug, Default)]
struct Mode {
    /// Set by the writer: no toxic acts on this direction of this connection.
    clear: AtomicBool,
    /// Chunks the reader handed the writer.
    sent: AtomicU64,
    /// Chunks the writer has written (or dropped, as a toxic said).
    done: AtomicU64,
    /// The version of the toxics (`Shared::version`) that `clear` was set for.
    seen: AtomicU64,
}

/// Proxies `client` to `upstream` until both directions end or the connection is killed.
pub(super) fn spawn(
    shared: Arc<Shared>,
    id: u64,
    conn: Arc<Conn>,
    client: TcpStream,
    upstream: TcpStream,
) {
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let client = Arc::new(client);
    let upstream = Arc::new(upstream);
    let forget = Arc::new(Forget {
        shared: shared.clone(),
        id,
    });
    for (stream, src, dst) in [
        (Stream::Upstream, client.clone(), upstream.clone()),
        (Stream::Downstream, upstream, client),
    ] {
        let (tx, rx) = mpsc::channel(AHEAD);
        let mode = Arc::new(Mode::default());
        let reader = Reader {
            shared: shared.clone(),
            stream,
            src: src.clone(),
            dst: dst.clone(),
            tx,
            mode: mode.clone(),
            kill: conn.kill.subscribe(),
            conn: conn.clone(),
            _forget: forget.clone(),
        };
        let mut writer = Writer {
            shared: shared.clone(),
            stream,
            id,
            conn: conn.clone(),
            src,
            dst,
            chain: Chain::default(),
            mode,
            down_seen: None,
            _forget: forget.clone(),
        };
        // The toxics in place now, before the reader's first look at `mode`.
        let mut toxics = shared.snapshot.subscribe();
        let snapshot = toxics.borrow_and_update().clone();
        writer.follow(&snapshot);
        tokio::spawn(writer.run(rx, toxics));
        tokio::spawn(reader.run());
    }
}

/// Reads one direction: straight to the destination while no toxic acts on it, else in
/// timestamped chunks for the writer.
struct Reader {
    shared: Arc<Shared>,
    stream: Stream,
    src: Arc<TcpStream>,
    dst: Arc<TcpStream>,
    tx: mpsc::Sender<Msg>,
    mode: Arc<Mode>,
    kill: watch::Receiver<Kill>,
    conn: Arc<Conn>,
    _forget: Arc<Forget>,
}

impl Reader {
    /// Until the end of the stream, an error, or a kill.
    async fn run(self) {
        let mut sent = 0u64;
        loop {
            tokio::select! {
                biased;
                _ = killed(self.kill.clone()) => return,
                ready = self.src.readable() => {
                    if ready.is_err() {
                        let _ = self.tx.send(Msg::Eof).await;
                        return;
                    }
                }
            }
            let direct = self.direct() && self.mode.done.load(Ordering::Acquire) == sent;
            if direct {
                match self.pass().await {
                    Passed::More => continue,
                    Passed::Hand(arrived, chunk) => {
                        if self.hand(&mut sent, arrived, chunk).await {
                            continue;
                        }
                        return;
                    }
                    Passed::Eof => {
                        let _ = self.tx.send(Msg::Eof).await;
                        return;
                    }
                    Passed::Ended => return,
                }
            }
            // A buffer per read, handed on whole: an idle connection holds no buffer.
            let mut buf = BytesMut::with_capacity(READ_SIZE);
            match self.src.try_read_buf(&mut buf) {
                Ok(0) => {
                    let _ = self.tx.send(Msg::Eof).await;
                    return;
                }
                Ok(_) => {
                    let arrived = Instant::now();
                    // A small read is copied out, so that held chunks do not each keep a
                    // large buffer.
                    let chunk = if buf.len() < READ_SIZE / 8 {
                        Bytes::copy_from_slice(&buf)
                    } else {
                        buf.freeze()
                    };
                    if !self.hand(&mut sent, arrived, chunk).await {
                        return;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                Err(_) => {
                    let _ = self.tx.send(Msg::Eof).await;
                    return;
                }
            }
        }
    }

    /// Whether this direction's data may go straight to the destination: its writer has
    /// followed the latest toxics, and none of them acts on it.
    fn direct(&self) -> bool {
        let latest = self.shared.version.load(Ordering::Acquire);
        self.mode.seen.load(Ordering::Acquire) == latest && self.mode.clear.load(Ordering::Acquire)
    }

    /// Hands a chunk to the writer; `false` when the connection ended.
    async fn hand(&self, sent: &mut u64, arrived: Instant, chunk: Bytes) -> bool {
        *sent += 1;
        self.mode.sent.store(*sent, Ordering::Release);
        let handed = tokio::select! {
            biased;
            _ = killed(self.kill.clone()) => return false,
            handed = self.tx.send(Msg::Data(arrived, chunk)) => handed,
        };
        handed.is_ok()
    }

    /// Passes what the source has straight to the destination: on Linux with `splice(2)`,
    /// uncopied; elsewhere through one buffer, freed once the source has nothing more for now.
    async fn pass(&self) -> Passed {
        #[cfg(target_os = "linux")]
        if let Ok(pipe) = self.shared.pipes.take() {
            return self.splice(pipe).await;
        }
        // Out of descriptors, say: the copying path works all the same.
        self.copy().await
    }

    /// The direct path through a buffer.
    async fn copy(&self) -> Passed {
        let mut buf = vec![0u8; READ_SIZE];
        loop {
            if !self.direct() {
                return Passed::More;
            }
            let n = match self.src.try_read(&mut buf) {
                Ok(0) => return Passed::Eof,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Passed::More,
                Err(_) => return Passed::Eof,
            };
            if !self.direct() {
                // The toxics changed while it read: what it read goes through them.
                return Passed::Hand(Instant::now(), Bytes::copy_from_slice(&buf[..n]));
            }
            if let Err(how) = self.write(&buf[..n]).await {
                return how;
            }
        }
    }

    /// Writes `data` straight to the destination, counting it.
    async fn write(&self, data: &[u8]) -> Result<(), Passed> {
        let written = tokio::select! {
            biased;
            _ = killed(self.kill.clone()) => return Err(Passed::Ended),
            w = write_all(&self.dst, data) => w,
        };
        if written.is_err() {
            self.conn.kill.send_replace(Kill::Reset);
            return Err(Passed::Ended);
        }
        self.count(data.len());
        Ok(())
    }

    fn count(&self, n: usize) {
        match self.stream {
            Stream::Upstream => self.shared.counters.bytes_upstream.add(n as u64),
            Stream::Downstream => self.shared.counters.bytes_downstream.add(n as u64),
        }
    }

    /// Moves data with `splice(2)` through `pipe` until the source has nothing more for now,
    /// a toxic acts, or the stream ends; what the pipe holds is written before it returns,
    /// and the empty pipe goes back to the proxy's.
    #[cfg(target_os = "linux")]
    async fn splice(&self, mut pipe: super::splice::Pipe) -> Passed {
        loop {
            if !self.direct() {
                self.shared.pipes.give(pipe);
                return Passed::More;
            }
            let next = match pipe.fill(&self.src) {
                Ok(0) => Passed::Eof,
                Ok(n) if !self.direct() => {
                    // The toxics changed while it read: what it read goes through them.
                    let arrived = Instant::now();
                    let Ok(data) = pipe.take_out() else {
                        self.conn.kill.send_replace(Kill::Reset);
                        return Passed::Ended;
                    };
                    debug_assert_eq!(data.len(), n);
                    self.shared.pipes.give(pipe);
                    return Passed::Hand(arrived, data);
                }
                Ok(n) => {
                    self.count(n);
                    Passed::More
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    self.shared.pipes.give(pipe);
                    return Passed::More;
                }
                Err(_) => Passed::Eof,
            };
            let drained = tokio::select! {
                biased;
                _ = killed(self.kill.clone()) => return Passed::Ended,
                d = pipe.drain(&self.dst) => d,
            };
            if drained.is_err() {
                self.conn.kill.send_replace(Kill::Reset);
                return Passed::Ended;
            }
            if let Passed::Eof = next {
                self.shared.pipes.give(pipe);
                return Passed::Eof;
            }
        }
    }
}

/// How a direct pass ended.
enum Passed {
    /// The source has nothing more for now, or a toxic now acts: read again.
    More,
    /// A toxic acts now on what was read, which arrived then: the writer takes it.
    Hand(Instant, Bytes),
    /// The source closed its side.
    Eof,
    /// The connection ended.
    Ended,
}

/// Writes all of `data` to `s`.
async fn write_all(s: &TcpStream, mut data: &[u8]) -> std::io::Result<()> {
    while !data.is_empty() {
        s.writable().await?;
        match s.try_write(data) {
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Writes one direction's data through its toxics.
struct Writer {
    shared: Arc<Shared>,
    stream: Stream,
    id: u64,
    conn: Arc<Conn>,
    /// Where it reads from (for a reset, which both sockets get).
    src: Arc<TcpStream>,
    dst: Arc<TcpStream>,
    chain: Chain,
    mode: Arc<Mode>,
    /// The `down` toxic this connection was drawn for, if any.
    down_seen: Option<Arc<super::stats::ToxicCounters>>,
    _forget: Arc<Forget>,
}

impl Writer {
    /// Until the connection ends; `toxics` has been followed up to now.
    async fn run(
        mut self,
        mut rx: mpsc::Receiver<Msg>,
        mut toxics: watch::Receiver<Arc<super::state::Snapshot>>,
    ) {
        let kill = self.conn.kill.subscribe();
        let now = *kill.borrow();
        if now != Kill::No {
            return self.end(now);
        }
        let mut pending: VecDeque<Piece> = VecDeque::new();
        // Set when a toxic ends the connection once what is pending is written.
        let mut end_after: Option<(Instant, End)> = None;
        let mut eof = false;
        let mut received = 0u64;
        loop {
            if pending.is_empty() && end_after.is_none() {
                // Everything handed so far is written: the reader may write straight on.
                self.mode.done.store(received, Ordering::Release);
            }
            if eof && pending.is_empty() {
                return self.close_write().await;
            }
            let next_write = pending.front().map(|p| p.at);
            let deadline = [
                self.chain.deadline(),
                end_after.filter(|_| pending.is_empty()),
            ]
            .into_iter()
            .flatten()
            .min_by_key(|d| d.0);
            let wake = match (next_write, deadline) {
                (Some(w), Some((d, _))) => Some(w.min(d)),
                (w, d) => w.or(d.map(|d| d.0)),
            };
            tokio::select! {
                biased;
                how = killed(kill.clone()) => {
                    return self.end(how);
                }
                changed = toxics.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    let snapshot = toxics.borrow_and_update().clone();
                    let changed = self.follow(&snapshot);
                    if changed && !pending.is_empty() && matches!(*self.conn.kill.borrow(), Kill::No) {
                        // What was held back goes through the toxics in place now, as if it
                        // had not gone through them yet.
                        let held: Vec<Piece> = pending.drain(..).collect();
                        let bytes = held.iter().map(|p| p.data.len() as u64).sum();
                        self.chain.unwind(bytes, Instant::now());
                        end_after = None;
                        for p in held {
                            let (pieces, end) = self.chain.plan(p.arrived, p.data);
                            pending.extend(pieces);
                            end_after = end_after.or(end);
                        }
                    }
                }
                _ = sleep_until(wake), if wake.is_some() => {
                    let now = Instant::now();
                    if let Some((at, how)) = deadline {
                        if at <= now && next_write.is_none_or(|w| w > now) {
                            self.chain.count_end(how);
                            return self.kill(how);
                        }
                    }
                    while pending.front().is_some_and(|p| p.at <= now) {
                        let Some(p) = pending.pop_front() else { break };
                        if let Err(how) = self.write(&p.data, &kill).await {
                            return self.end(how);
                        }
                    }
                }
                msg = rx.recv(), if pending.is_empty() && !eof && end_after.is_none() => {
                    match msg {
                        Some(Msg::Data(arrived, data)) => {
                            received += 1;
                            if self.chain.is_clear() {
                                if let Err(how) = self.write(&data, &kill).await {
                                    return self.end(how);
                                }
                                continue;
                            }
                            let (pieces, end) = self.chain.plan(arrived, data);
                            end_after = end;
                            if pieces.first().is_some_and(|p| p.at <= Instant::now()) && pieces.len() == 1 {
                                if let Some(p) = pieces.into_iter().next() {
                                    if let Err(how) = self.write(&p.data, &kill).await {
                                        return self.end(how);
                                    }
                                }
                            } else {
                                pending.extend(pieces);
                            }
                        }
                        // The reader ended without an end of stream: the connection was
                        // killed (perhaps just after this select looked at the kill).
                        None if *kill.borrow() != Kill::No => {
                            let how = *kill.borrow();
                            return self.end(how);
                        }
                        Some(Msg::Eof) | None => {
                            eof = true;
                            let delay = self.chain.close_delay();
                            if !delay.is_zero() && !self.chain.swallows() {
                                tokio::select! {
                                    _ = tokio::time::sleep(delay) => {}
                                    how = killed(kill.clone()) => {
                                        return self.end(how);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Takes the toxics now in place; a `down` toxic that hits this connection drops it.
    /// Returns whether this direction's toxics changed.
    fn follow(&mut self, snapshot: &super::state::Snapshot) -> bool {
        let changed = self.chain.refresh(&snapshot.toxics, self.stream, self.id);
        self.mode
            .clear
            .store(self.chain.is_clear(), Ordering::Release);
        self.mode.seen.store(snapshot.version, Ordering::Release);
        if snapshot.disabled {
            self.conn.kill.send_replace(Kill::Close);
            return changed;
        }
        let down = snapshot.down().filter(|d| d.toxic.stream() == self.stream);
        // Drawn once per `down` toxic and connection.
        let new_down = match (down, &self.down_seen) {
            (Some(d), Some(seen)) => !Arc::ptr_eq(&d.counters, seen),
            (Some(_), None) => true,
            (None, _) => false,
        };
        self.down_seen = down.map(|d| d.counters.clone());
        if let (true, Some(down)) = (new_down, down) {
            {
                let active = super::effect::Active::new(down.clone(), self.id, Instant::now());
                if active.hit {
                    down.counters.closes.add(1);
                    self.shared.counters.refused.add(1);
                    self.conn.kill.send_replace(Kill::Close);
                }
            }
        }
        changed
    }

    /// Writes `data`, counting it; `Err` with how the connection ended if it did meanwhile
    /// (a failed write resets it).
    async fn write(&mut self, data: &[u8], kill: &watch::Receiver<Kill>) -> Result<(), Kill> {
        let written = tokio::select! {
            biased;
            how = killed(kill.clone()) => return Err(how),
            w = write_all(&self.dst, data) => w,
        };
        if written.is_err() {
            self.conn.kill.send_replace(Kill::Reset);
            return Err(Kill::Reset);
        }
        let n = data.len() as u64;
        match self.stream {
            Stream::Upstream => self.shared.counters.bytes_upstream.add(n),
            Stream::Downstream => self.shared.counters.bytes_downstream.add(n),
        }
        Ok(())
    }

    /// Ends the whole connection, both directions.
    fn kill(self, how: impl Into<Kill>) {
        let how = how.into();
        if how == Kill::Reset {
            self.shared.counters.resets.add(1);
        }
        self.conn.kill.send_replace(how);
        self.end(how);
    }

    /// Ends this direction as the connection is ended: a reset closes both sockets with no
    /// linger, so the kernel sends RST when the last task lets each go.
    fn end(self, how: Kill) {
        if how == Kill::Reset {
            // Both sockets: the other direction's writer may have ended already.
            for s in [&self.src, &self.dst] {
                let _ =
                    socket2::SockRef::from(s.as_ref()).set_linger(Some(std::time::Duration::ZERO));
            }
        }
    }

    /// The sender closed its side: close ours (FIN), keeping the other direction open.
    async fn close_write(self) {
        let _ = socket2::SockRef::from(&*self.dst).shutdown(std::net::Shutdown::Write);
    }
}

impl From<End> for Kill {
    fn from(e: End) -> Kill {
        match e {
            End::Close => Kill::Close,
            End::Reset => Kill::Reset,
        }
    }
}

/// Resolves with how the connection was ended, once it is.
async fn killed(mut kill: watch::Receiver<Kill>) -> Kill {
    match kill.wait_for(|k| *k != Kill::No).await {
        Ok(k) => *k,
        Err(_) => Kill::Close,
    }
}

async fn sleep_until(at: Option<Instant>) {
    if let Some(at) = at {
        tokio::time::sleep_until(at.into()).await;
    }
}
