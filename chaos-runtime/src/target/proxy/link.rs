//! One proxied TCP connection: for each direction, a reader that timestamps what it reads and
//! a writer that passes it through the direction's toxics. Writers follow the proxy's toxics
//! as they change, so a toxic acts on open connections too, and a removed one stops acting at
//! once, whatever data it was holding.

use super::effect::{Chain, End, Piece};
use super::state::{Conn, Kill, Shared};
use super::toxic::Stream;
use bytes::{Bytes, BytesMut};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
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
    let (client_r, client_w) = client.into_split();
    let (upstream_r, upstream_w) = upstream.into_split();
    let forget = Arc::new(Forget {
        shared: shared.clone(),
        id,
    });
    for (stream, src, dst) in [
        (Stream::Upstream, client_r, upstream_w),
        (Stream::Downstream, upstream_r, client_w),
    ] {
        let (tx, rx) = mpsc::channel(AHEAD);
        tokio::spawn(read(src, tx, conn.kill.subscribe(), forget.clone()));
        let writer = Writer {
            shared: shared.clone(),
            stream,
            id,
            conn: conn.clone(),
            dst,
            chain: Chain::default(),
            _forget: forget.clone(),
        };
        tokio::spawn(writer.run(rx));
    }
}

/// Reads `src` into chunks for the writer until the end of the stream, an error, or a kill.
async fn read(
    src: OwnedReadHalf,
    tx: mpsc::Sender<Msg>,
    kill: watch::Receiver<Kill>,
    _forget: Arc<Forget>,
) {
    loop {
        tokio::select! {
            biased;
            _ = killed(kill.clone()) => return,
            ready = src.readable() => {
                if ready.is_err() {
                    let _ = tx.send(Msg::Eof).await;
                    return;
                }
            }
        }
        // A buffer per read, handed on whole: an idle connection holds no buffer.
        let mut buf = BytesMut::with_capacity(READ_SIZE);
        match src.try_read_buf(&mut buf) {
            Ok(0) => {
                let _ = tx.send(Msg::Eof).await;
                return;
            }
            Ok(_) => {
                let arrived = Instant::now();
                // A small read is copied out, so that held chunks do not each keep a large buffer.
                let chunk = if buf.len() < READ_SIZE / 8 {
                    Bytes::copy_from_slice(&buf)
                } else {
                    buf.freeze()
                };
                let sent = tokio::select! {
                    biased;
                    _ = killed(kill.clone()) => return,
                    sent = tx.send(Msg::Data(arrived, chunk)) => sent,
                };
                if sent.is_err() {
                    return;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(_) => {
                let _ = tx.send(Msg::Eof).await;
                return;
            }
        }
    }
}

/// Writes one direction's data through its toxics.
struct Writer {
    shared: Arc<Shared>,
    stream: Stream,
    id: u64,
    conn: Arc<Conn>,
    dst: OwnedWriteHalf,
    chain: Chain,
    _forget: Arc<Forget>,
}

impl Writer {
    async fn run(mut self, mut rx: mpsc::Receiver<Msg>) {
        let kill = self.conn.kill.subscribe();
        let mut toxics = self.shared.snapshot.subscribe();
        self.follow(&toxics.borrow_and_update().clone());
        let now = *kill.borrow();
        if now != Kill::No {
            return self.end(now);
        }
        let mut pending: VecDeque<Piece> = VecDeque::new();
        // Set when a toxic ends the connection once what is pending is written.
        let mut end_after: Option<(Instant, End)> = None;
        let mut eof = false;
        loop {
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
                    self.follow(&snapshot);
                    if matches!(*self.conn.kill.borrow(), Kill::No) {
                        // What was held back goes through the toxics in place now.
                        let held: Vec<Piece> = pending.drain(..).collect();
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
    fn follow(&mut self, snapshot: &super::state::Snapshot) {
        self.chain.refresh(&snapshot.toxics, self.stream, self.id);
        if snapshot.disabled {
            self.conn.kill.send_replace(Kill::Close);
            return;
        }
        if let Some(down) = snapshot.down() {
            if down.toxic.stream() == self.stream {
                let active = super::effect::Active::new(down.clone(), self.id, Instant::now());
                if active.hit {
                    down.counters.closes.add(1);
                    self.shared.counters.refused.add(1);
                    self.conn.kill.send_replace(Kill::Close);
                }
            }
        }
    }

    /// Writes `data`, counting it; `Err` with how the connection ended if it did meanwhile
    /// (a failed write resets it).
    async fn write(&mut self, data: &[u8], kill: &watch::Receiver<Kill>) -> Result<(), Kill> {
        let written = tokio::select! {
            biased;
            how = killed(kill.clone()) => return Err(how),
            w = self.dst.write_all(data) => w,
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

    /// Ends this direction as the connection is ended: a reset closes with no linger and no
    /// FIN first, so the kernel sends RST.
    fn end(self, how: Kill) {
        if how == Kill::Reset {
            let _ = socket2::SockRef::from(self.dst.as_ref())
                .set_linger(Some(std::time::Duration::ZERO));
            // Dropping a write half would send FIN first; the socket closes with its read half.
            self.dst.forget();
        }
    }

    /// The sender closed its side: close ours (FIN), keeping the other direction open.
    async fn close_write(mut self) {
        let _ = self.dst.shutdown().await;
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
