//! FIGURE: the network fault proxy (`chaos_runtime::target::proxy`) against a direct loopback
//! connection and against noxious (the Rust port of Toxiproxy, used as a library), side by side
//! in one run.
//!
//! `cargo bench -p chaos-tests --bench proxy` (about 2.5 minutes in release mode;
//! `CHAOS_BENCH_RUNS=N` throughput windows per case, default 5; `CHAOS_BENCH_CONNS=N` idle
//! connections for the memory figure, default 10000, capped by `RLIMIT_NOFILE`;
//! `CHAOS_PROXY_BENCH_ONLY=1,2,4,5,6` some figures only; `CHAOS_PROXY_BENCH_TARGETS=ours`
//! figure 1 for some of `direct,ours,noxious,floor` only, for profiling).
//!
//! Figures 1 to 5 run in this process on one multi-threaded tokio runtime (2 workers): the
//! servers, the clients and both proxies, on loopback. The figures:
//! 1. throughput with no toxics, 1 and 64 connections: a source server streams 64 KiB writes,
//!    the clients read (the downstream direction, where toxics act by default) for windows of
//!    500 ms; the median window, in MB/s (10^6 bytes), and the process's CPU time per GB.
//!    Beside them, the floor: the least any user-space proxy costs here (`splice_floor`: two
//!    threads per connection, blocking `splice(2)`), so that what the kernel's work for a
//!    second TCP connection takes is told apart from what our proxy's machinery takes;
//! 2. the latency of an HTTP/1.1 GET of a 64 KiB body from a hyper server, with no toxics:
//!    on one keep-alive connection (3000 requests per target; the request Toxiproxy's
//!    benchmark times, and the one the target is for), and with a new connection per request
//!    (500 per target, for reference), in interleaved blocks; median and p99, and what the
//!    proxy adds;
//! 3. noxious in figures 1, 2, 4, 5 and 6, with the ratio ours/noxious;
//! 4. accuracy: a `latency 100ms` downstream toxic, 50 round trips of 32 bytes on one
//!    connection (error = RTT − 100 ms), and `bandwidth 1000 KB/s` over a 10 MB download
//!    (from connect to the last byte);
//! 5. a `latency 200ms` downstream toxic added and removed 20 times while 64 connections do
//!    16 KiB request/replies in a loop: a probe connection pings (32 bytes) back to back, and
//!    the time from `apply` to the first ping sent that comes back slowed (≥ 150 ms; 0 when
//!    the ping in flight was already slowed), and from `remove` to the first ping sent after it
//!    that comes back fast (< 100 ms), its round trip included;
//! 6. memory: the proxy alone in a child process (ours, then noxious), its RSS
//!    (`/proc/self/status`) before and after N idle connections (each made one 16-byte echo)
//!    from clients and an echo server here; `RLIMIT_NOFILE` is raised as far as allowed, and N
//!    is cut to fit it (two descriptors per connection in each process).
//!
//! Medians and worst values; nothing asserts a timing.

mod common;
#[cfg(target_os = "linux")]
mod splice_floor;

use chaos_runtime::target::proxy::{Proxy, Toxic};
use common::{median, percentile};
use http_body_util::Full;
use hyper::body::Bytes;
use noxious::proxy::{ProxyConfig, ProxyRunner, Runner, Toxics};
use noxious::signal::{Close, Stop, Stopper};
use noxious::toxic::{StreamDirection, ToxicEvent, ToxicEventKind, ToxicEventResult};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What one read or write of the servers and clients moves at most.
const CHUNK: usize = 64 * 1024;
static DATA: [u8; CHUNK] = [0x5a; CHUNK];
const WINDOW: Duration = Duration::from_millis(500);
const HTTP_BODY: usize = 64 * 1024;
const KEEPALIVE_BLOCKS: usize = 10;
const KEEPALIVE_PER_BLOCK: usize = 300;
const NEWCONN_BLOCKS: usize = 5;
const NEWCONN_PER_BLOCK: usize = 100;
/// A block of requests to one target stops early after this long (noxious leaves Nagle's
/// algorithm on, and its GETs take ~40 ms each).
const BLOCK_BUDGET: Duration = Duration::from_secs(1);
const LATENCY: Duration = Duration::from_millis(100);
const LATENCY_PINGS: usize = 50;
const BANDWIDTH_KBPS: u64 = 1000;
const BANDWIDTH_BYTES: u64 = 10_000_000;
const BUSY_CONNS: usize = 64;
const BUSY_MSG: usize = 16 * 1024;
const SWITCH_LATENCY: Duration = Duration::from_millis(200);
const SWITCH_CYCLES: usize = 20;
/// A ping with no answer by then is lost (noxious drops the data a toxic holds when toxics
/// change): the probe reconnects. Above the 200 ms of the toxic.
const PROBE_TIMEOUT: Duration = Duration::from_millis(300);
const BUSY_TIMEOUT: Duration = Duration::from_millis(500);
const MEMORY_ENV: &str = "CHAOS_PROXY_BENCH_MEMORY";
const UPSTREAM_ENV: &str = "CHAOS_PROXY_BENCH_UPSTREAM";

fn main() {
    if let Ok(variant) = std::env::var(MEMORY_ENV) {
        return memory_child(&variant);
    }
    let started = Instant::now();
    let conns_wanted: usize = std::env::var("CHAOS_BENCH_CONNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    // Raised before the runtime starts: the memory children inherit it.
    let nofile = raise_nofile(2 * conns_wanted as u64 + 200);
    let rt = runtime();
    let mut out = Report::default();
    let only = std::env::var("CHAOS_PROXY_BENCH_ONLY").unwrap_or_default();
    let run = |figure: &str| only.is_empty() || only.split(',').any(|f| f.trim() == figure);
    let step = |what: &str| eprintln!("[{:>5.1}s] {what}", started.elapsed().as_secs_f64());
    rt.block_on(async {
        let servers = Servers::start().await;
        if run("1") {
            step("1. throughput");
            out.throughput = Some(throughput_figure(&servers).await);
        }
        if run("2") {
            step("2. HTTP GET latency");
            out.http = Some(http_figure(&servers).await);
        }
        if run("4") {
            step("4. accuracy");
            out.accuracy = Some(accuracy_figure(&servers).await);
        }
        if run("5") {
            step("5. add/remove under load");
            out.switch = Some(switch_figure(&servers).await);
        }
    });
    drop(rt);
    if run("6") {
        step("6. memory");
        // Two descriptors per connection in each process: client and server here, both
        // sides in the proxy's.
        let conns = conns_wanted.min((nofile.saturating_sub(200) / 2) as usize);
        out.memory = Some(memory_figure(conns, conns_wanted, nofile));
    }
    out.print();
    eprintln!("[{:>5.1}s] done", started.elapsed().as_secs_f64());
}

/// Which of direct, ours, noxious and the floor figure 1 measures: `CHAOS_PROXY_BENCH_TARGETS` (for
/// profiling one of them, e.g. `ours`), else all three.
fn targets_wanted() -> [bool; 4] {
    let only = std::env::var("CHAOS_PROXY_BENCH_TARGETS").unwrap_or_default();
    let names = ["direct", "ours", "noxious", "floor"];
    names.map(|n| only.is_empty() || only.split(',').any(|t| t.trim() == n))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

// ---------------------------------------------------------------------------------------------
// Servers and proxies.

/// The upstream servers, each with its own proxy of ours and of noxious.
struct Servers {
    source: SocketAddr,
    echo: SocketAddr,
    http: SocketAddr,
}

impl Servers {
    async fn start() -> Servers {
        Servers {
            source: source_server().await,
            echo: echo_server().await,
            http: http_server().await,
        }
    }
}

/// A listener on a free loopback port with a backlog of 4096 (tokio's `bind` gives 128 here,
/// which 200 connections at once overflow: their SYNs are then retried after 1 s).
fn listen() -> TcpListener {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .expect("bind");
    socket.listen(4096).expect("listen")
}

async fn accept_loop<F, Fut>(listener: TcpListener, each: F)
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    loop {
        match listener.accept().await {
            Ok((s, _)) => {
                let _ = s.set_nodelay(true);
                tokio::spawn(each(s));
            }
            // Out of file descriptors, say: let some close.
            Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
}

/// Reads a big-endian u64 `n`, then writes `n` bytes (forever if 0) and closes.
async fn source_server() -> SocketAddr {
    let l = listen();
    let addr = l.local_addr().expect("addr");
    tokio::spawn(accept_loop(l, |mut s| async move {
        let Ok(n) = s.read_u64().await else { return };
        let mut left = if n == 0 { u64::MAX } else { n };
        while left > 0 {
            let k = left.min(CHUNK as u64) as usize;
            if s.write_all(&DATA[..k]).await.is_err() {
                return;
            }
            left -= k as u64;
        }
        let _ = s.shutdown().await;
    }));
    addr
}

/// Writes back what it reads.
async fn echo_server() -> SocketAddr {
    let l = listen();
    let addr = l.local_addr().expect("addr");
    tokio::spawn(accept_loop(l, |mut s| async move {
        let mut buf = vec![0u8; 4096];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if s.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            }
        }
    }));
    addr
}

/// hyper's HTTP/1.1 server (keep-alive on), answering every request with a 64 KiB body.
async fn http_server() -> SocketAddr {
    let l = listen();
    let addr = l.local_addr().expect("addr");
    let body = Bytes::from(vec![b'x'; HTTP_BODY]);
    tokio::spawn(accept_loop(l, move |s| {
        let body = body.clone();
        async move {
            let service = hyper::service::service_fn(move |_req| {
                let body = body.clone();
                async move { Ok::<_, std::convert::Infallible>(hyper::Response::new(Full::new(body))) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(s), service)
                .await;
        }
    }));
    addr
}

async fn ours(name: &str, upstream: SocketAddr) -> Proxy {
    Proxy::listen(name, upstream.to_string())
        .await
        .expect("our proxy starts")
}

/// A noxious proxy run as a library: `ProxyRunner::initialize_proxy` + `run_proxy` on this
/// runtime, its toxics changed through the channel its API server uses.
struct Nox {
    name: String,
    addr: SocketAddr,
    events: bmrng::RequestSender<ToxicEvent, ToxicEventResult>,
    _stopper: Stopper,
}

impl Nox {
    async fn start(name: &str, upstream: SocketAddr) -> Result<Nox, String> {
        // noxious's listener does not tell its address: take a free port first.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let config = ProxyConfig {
            name: name.to_owned(),
            listen: format!("127.0.0.1:{port}"),
            upstream: upstream.to_string(),
            enabled: true,
            rand_seed: Some(7),
        };
        let (listener, info) = <ProxyRunner as Runner>::initialize_proxy::<
            noxious::socket::TcpListener,
        >(config, Toxics::empty())
        .await
        .map_err(|e| format!("noxious initialize_proxy: {e}"))?;
        let (stop, stopper) = Stop::new();
        let (_close, closer) = Close::new();
        let (events, receiver) = bmrng::channel(8);
        tokio::spawn(<ProxyRunner as Runner>::run_proxy(
            listener, info, receiver, stop, closer,
        ));
        Ok(Nox {
            name: name.to_owned(),
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            events,
            _stopper: stopper,
        })
    }

    async fn event(&self, kind: ToxicEventKind) -> Result<(), String> {
        self.events
            .send_receive(ToxicEvent::new(self.name.clone(), kind))
            .await
            .map_err(|e| format!("noxious event channel: {e:?}"))?
            .map_err(|e| format!("noxious toxic update: {e:?}"))
    }

    async fn add(&self, name: &str, kind: noxious::toxic::ToxicKind) -> Result<(), String> {
        self.event(ToxicEventKind::AddToxic(noxious::toxic::Toxic {
            kind,
            name: name.to_owned(),
            toxicity: 1.0,
            direction: StreamDirection::Downstream,
        }))
        .await
    }

    async fn remove(&self, name: &str) -> Result<(), String> {
        self.event(ToxicEventKind::RemoveToxic(name.to_owned()))
            .await
    }
}

async fn connect(addr: SocketAddr) -> std::io::Result<TcpStream> {
    let s = TcpStream::connect(addr).await?;
    s.set_nodelay(true)?;
    Ok(s)
}

// ---------------------------------------------------------------------------------------------
// 1. Throughput.

#[derive(Default)]
struct ThroughputRow {
    conns: usize,
    /// MB/s per target (direct, ours, noxious, floor), one per window.
    mbps: [Vec<f64>; 4],
    /// CPU seconds (user + system, whole process) per GB, one per window.
    cpu_per_gb: [Vec<f64>; 4],
}

fn cpu_time() -> Duration {
    // SAFETY: an all-zero `rusage` is valid; `getrusage` fills it in.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a pointer to a live local.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
    };
    tv(u.ru_utime) + tv(u.ru_stime)
}

/// `conns` clients read an endless stream from `addr` for one window: (MB/s, CPU s per GB).
async fn stream_window(addr: SocketAddr, conns: usize) -> (f64, f64) {
    let total = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let ready = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..conns {
        let (total, stop, ready) = (total.clone(), stop.clone(), ready.clone());
        tasks.spawn(async move {
            let Ok(mut s) = connect(addr).await else {
                return;
            };
            if s.write_u64(0).await.is_err() {
                return;
            }
            let mut buf = vec![0u8; CHUNK];
            let mut first = true;
            while !stop.load(Ordering::Relaxed) {
                match s.read(&mut buf).await {
                    Ok(n) if n > 0 => {
                        total.fetch_add(n as u64, Ordering::Relaxed);
                    }
                    _ => return,
                }
                if first {
                    first = false;
                    ready.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    // Every connection has data flowing (or 5 s passed).
    let deadline = Instant::now() + Duration::from_secs(5);
    while ready.load(Ordering::Relaxed) < conns && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let (b0, c0, t0) = (total.load(Ordering::Relaxed), cpu_time(), Instant::now());
    tokio::time::sleep(WINDOW).await;
    let (b1, c1, t1) = (total.load(Ordering::Relaxed), cpu_time(), Instant::now());
    stop.store(true, Ordering::Relaxed);
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
    // Let the proxies tear the connections down before the next window.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let bytes = (b1 - b0) as f64;
    let secs = (t1 - t0).as_secs_f64();
    (bytes / secs / 1e6, (c1 - c0).as_secs_f64() / (bytes / 1e9))
}

/// The floor proxy (see `splice_floor`), where there is one.
fn floor(upstream: SocketAddr) -> Option<SocketAddr> {
    #[cfg(target_os = "linux")]
    return splice_floor::start(upstream).ok();
    #[cfg(not(target_os = "linux"))]
    return None;
}

async fn throughput_figure(servers: &Servers) -> Throughput {
    let ours = ours("bench-source", servers.source).await;
    let nox = Nox::start("bench-source", servers.source).await;
    let addrs = [
        Some(servers.source),
        Some(ours.addr()),
        nox.as_ref().ok().map(|n| n.addr),
        floor(servers.source),
    ];
    let runs = common::runs(5);
    let wanted = targets_wanted();
    let mut rows = vec![];
    for conns in [1, 64] {
        let mut row = ThroughputRow {
            conns,
            ..Default::default()
        };
        for run in 0..runs {
            for k in 0..4 {
                // Rotate the order from run to run.
                let t = (run + k) % 4;
                let Some(addr) = addrs[t].filter(|_| wanted[t]) else {
                    continue;
                };
                let (mbps, cpu) = stream_window(addr, conns).await;
                row.mbps[t].push(mbps);
                row.cpu_per_gb[t].push(cpu);
            }
        }
        rows.push(row);
    }
    let stats = ours.stats();
    Throughput {
        rows,
        noxious_error: nox.err(),
        ours_bytes_down: stats.bytes_downstream,
    }
}

struct Throughput {
    rows: Vec<ThroughputRow>,
    noxious_error: Option<String>,
    ours_bytes_down: u64,
}

// ---------------------------------------------------------------------------------------------
// 2. HTTP GET latency.

const GET: &[u8] = b"GET /64k HTTP/1.1\r\nHost: bench\r\n\r\n";

/// One GET on `s`, reading the whole answer (headers and `Content-Length` bytes).
async fn http_get(s: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<()> {
    s.write_all(GET).await?;
    buf.clear();
    let mut need = None;
    loop {
        if need.is_some_and(|n| buf.len() >= n) {
            return Ok(());
        }
        buf.reserve(CHUNK);
        if s.read_buf(buf).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if need.is_none() {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .expect("a Content-Length");
                need = Some(end + 4 + len);
            }
        }
    }
}

#[derive(Default)]
struct Http {
    /// Microseconds per request, per target: keep-alive, then new connection per request.
    keepalive: [Vec<f64>; 4],
    newconn: [Vec<f64>; 4],
    noxious_error: Option<String>,
}

async fn http_figure(servers: &Servers) -> Http {
    let ours = ours("bench-http", servers.http).await;
    let nox = Nox::start("bench-http", servers.http).await;
    // Ours again, on a thread and runtime of its own, as an experiment shares one.
    let detached = Proxy::builder("bench-http-thread", servers.http.to_string())
        .start_detached()
        .expect("our proxy starts on its own thread");
    let addrs = [
        Some(servers.http),
        Some(ours.addr()),
        nox.as_ref().ok().map(|n| n.addr),
        Some(detached.addr()),
    ];
    let mut out = Http::default();
    let mut buf = Vec::with_capacity(2 * HTTP_BODY);
    for block in 0..KEEPALIVE_BLOCKS {
        for k in 0..4 {
            let t = (block + k) % 4;
            let Some(addr) = addrs[t] else { continue };
            let mut s = connect(addr).await.expect("connect");
            for _ in 0..10 {
                http_get(&mut s, &mut buf).await.expect("warm-up GET");
            }
            let block_start = Instant::now();
            for _ in 0..KEEPALIVE_PER_BLOCK {
                if block_start.elapsed() > BLOCK_BUDGET {
                    break;
                }
                let t0 = Instant::now();
                http_get(&mut s, &mut buf).await.expect("GET");
                out.keepalive[t].push(t0.elapsed().as_secs_f64() * 1e6);
            }
        }
    }
    for block in 0..NEWCONN_BLOCKS {
        for k in 0..4 {
            let t = (block + k) % 4;
            let Some(addr) = addrs[t] else { continue };
            let block_start = Instant::now();
            for _ in 0..NEWCONN_PER_BLOCK {
                if block_start.elapsed() > BLOCK_BUDGET {
                    break;
                }
                let t0 = Instant::now();
                let mut s = connect(addr).await.expect("connect");
                http_get(&mut s, &mut buf).await.expect("GET");
                out.newconn[t].push(t0.elapsed().as_secs_f64() * 1e6);
                drop(s);
            }
        }
    }
    out.noxious_error = nox.err();
    out
}

// ---------------------------------------------------------------------------------------------
// 4. Accuracy.

#[derive(Default)]
struct Accuracy {
    /// Milliseconds of error (RTT − 100 ms) per ping: ours, noxious.
    latency_err_ms: [Vec<f64>; 2],
    /// Bytes received and achieved KB/s (10^3 bytes) over the 10 MB download: ours, noxious.
    bandwidth_kbps: [Option<(u64, f64)>; 2],
    noxious_error: Option<String>,
}

/// Round trips of 32 bytes on one connection to `addr`: RTTs in ms.
async fn pings(addr: SocketAddr, n: usize) -> Vec<f64> {
    let mut s = connect(addr).await.expect("connect");
    let msg = [7u8; 32];
    let mut back = [0u8; 32];
    let mut rtts = Vec::with_capacity(n);
    for _ in 0..n {
        let t0 = Instant::now();
        s.write_all(&msg).await.expect("ping");
        s.read_exact(&mut back).await.expect("pong");
        rtts.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    rtts
}

/// Downloads `bytes` from the source server at `addr`: the bytes received before the end of
/// the stream (all of them, or fewer if the proxy cut it), and KB/s from connect to the last.
async fn download(addr: SocketAddr, bytes: u64) -> (u64, f64) {
    let t0 = Instant::now();
    let mut s = connect(addr).await.expect("connect");
    s.write_u64(bytes).await.expect("request");
    let mut buf = vec![0u8; CHUNK];
    let mut got = 0u64;
    let mut last = t0;
    while got < bytes {
        match s.read(&mut buf).await {
            Ok(n) if n > 0 => {
                got += n as u64;
                last = Instant::now();
            }
            _ => break,
        }
    }
    (got, got as f64 / (last - t0).as_secs_f64() / 1000.0)
}

async fn accuracy_figure(servers: &Servers) -> Accuracy {
    let lat = ours("bench-latency", servers.echo).await;
    let bw = ours("bench-bandwidth", servers.source).await;
    let _lat_guard = lat.apply(Toxic::latency(LATENCY)).expect("latency toxic");
    let _bw_guard = bw
        .apply(Toxic::bandwidth(BANDWIDTH_KBPS))
        .expect("bandwidth toxic");
    let ours_run = async {
        let (p, b) = tokio::join!(
            pings(lat.addr(), LATENCY_PINGS),
            download(bw.addr(), BANDWIDTH_BYTES)
        );
        (p, b)
    };
    let nox_run = async {
        let nlat = Nox::start("bench-latency", servers.echo).await?;
        let nbw = Nox::start("bench-bandwidth", servers.source).await?;
        nlat.add(
            "latency",
            noxious::toxic::ToxicKind::Latency {
                latency: LATENCY.as_millis() as u64,
                jitter: 0,
            },
        )
        .await?;
        nbw.add(
            "bandwidth",
            noxious::toxic::ToxicKind::Bandwidth {
                rate: BANDWIDTH_KBPS,
            },
        )
        .await?;
        let (p, b) = tokio::join!(
            pings(nlat.addr, LATENCY_PINGS),
            download(nbw.addr, BANDWIDTH_BYTES)
        );
        Ok::<_, String>((p, b))
    };
    // Side by side: neither needs much CPU.
    let ((op, ob), nox) = tokio::join!(ours_run, nox_run);
    let err = |rtts: Vec<f64>| {
        rtts.into_iter()
            .map(|r| r - LATENCY.as_secs_f64() * 1000.0)
            .collect()
    };
    let mut out = Accuracy {
        latency_err_ms: [err(op), vec![]],
        bandwidth_kbps: [Some(ob), None],
        noxious_error: None,
    };
    match nox {
        Ok((np, nb)) => {
            out.latency_err_ms[1] = err(np);
            out.bandwidth_kbps[1] = Some(nb);
        }
        Err(e) => out.noxious_error = Some(e),
    }
    out
}

// ---------------------------------------------------------------------------------------------
// 5. Toxic add and remove under load.

#[derive(Clone, Copy)]
struct Ping {
    sent: Instant,
    /// `None`: no answer within the probe's timeout (the connection is then replaced).
    back: Option<Instant>,
}

#[derive(Default)]
struct Switch {
    /// Milliseconds from add to in force, from remove to gone: ours, noxious.
    on_ms: [Vec<f64>; 2],
    off_ms: [Vec<f64>; 2],
    /// Cycles whose effect was never seen.
    on_missed: [usize; 2],
    off_missed: [usize; 2],
    /// How long the add / remove call itself took (ms).
    call_ms: [Vec<f64>; 2],
    /// The probe's round trip under load with no toxic (ms), median.
    base_rtt_ms: [f64; 2],
    /// Pings and busy request/replies that got no answer (data lost) or failed.
    lost_pings: [usize; 2],
    busy_failures: [u64; 2],
    busy_round_trips: [u64; 2],
    noxious_error: Option<String>,
}

/// Sends `BUSY_MSG` and reads it back, in a loop, reconnecting after a failure or
/// `BUSY_TIMEOUT` without an answer.
async fn busy(
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    trips: Arc<AtomicU64>,
    fails: Arc<AtomicU64>,
) {
    let msg = vec![1u8; BUSY_MSG];
    let mut back = vec![0u8; BUSY_MSG];
    let mut s = None;
    while !stop.load(Ordering::Relaxed) {
        if s.is_none() {
            s = connect(addr).await.ok();
        }
        let Some(conn) = s.as_mut() else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let trip = async {
            conn.write_all(&msg).await?;
            conn.read_exact(&mut back).await?;
            Ok::<_, std::io::Error>(())
        };
        match tokio::time::timeout(BUSY_TIMEOUT, trip).await {
            Ok(Ok(())) => {
                trips.fetch_add(1, Ordering::Relaxed);
            }
            _ => {
                fails.fetch_add(1, Ordering::Relaxed);
                s = None;
            }
        }
    }
}

/// Pings back to back, logging each; a ping with no answer in `PROBE_TIMEOUT` is logged as
/// lost and the connection replaced.
async fn probe(addr: SocketAddr, stop: Arc<AtomicBool>, log: Arc<Mutex<Vec<Ping>>>) {
    let msg = [7u8; 32];
    let mut back = [0u8; 32];
    let mut s = connect(addr).await.expect("probe connects");
    while !stop.load(Ordering::Relaxed) {
        let sent = Instant::now();
        let trip = async {
            s.write_all(&msg).await?;
            s.read_exact(&mut back).await?;
            Ok::<_, std::io::Error>(())
        };
        let ok = matches!(tokio::time::timeout(PROBE_TIMEOUT, trip).await, Ok(Ok(())));
        let back_at = ok.then(Instant::now);
        log.lock().unwrap().push(Ping {
            sent,
            back: back_at,
        });
        if !ok {
            s = connect(addr).await.expect("probe reconnects");
        }
    }
}

fn rtt(p: &Ping) -> Option<Duration> {
    p.back.map(|b| b - p.sent)
}

/// From `at` (an add) to the send of the first ping answered after `at` that was slowed.
fn in_force(log: &[Ping], at: Instant, until: Instant) -> Option<f64> {
    log.iter()
        .filter(|p| p.sent < until && p.back.is_some_and(|b| b > at))
        .find(|p| rtt(p).is_some_and(|r| r >= SWITCH_LATENCY * 3 / 4))
        .map(|p| p.sent.saturating_duration_since(at).as_secs_f64() * 1000.0)
}

/// From `at` (a remove) to the answer of the first ping sent after `at` that was fast.
fn gone(log: &[Ping], at: Instant, until: Instant) -> Option<f64> {
    log.iter()
        .filter(|p| p.sent >= at && p.sent < until)
        .find(|p| rtt(p).is_some_and(|r| r < SWITCH_LATENCY / 2))
        .and_then(|p| p.back)
        .map(|b| (b - at).as_secs_f64() * 1000.0)
}

async fn switch_figure(servers: &Servers) -> Switch {
    let mut out = Switch::default();
    let ours = ours("bench-switch", servers.echo).await;
    let nox = Nox::start("bench-switch", servers.echo).await;
    for i in 0..2 {
        let addr = match i {
            0 => ours.addr(),
            _ => match &nox {
                Ok(n) => n.addr,
                Err(_) => continue,
            },
        };
        let stop = Arc::new(AtomicBool::new(false));
        let trips = Arc::new(AtomicU64::new(0));
        let fails = Arc::new(AtomicU64::new(0));
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..BUSY_CONNS {
            tasks.spawn(busy(addr, stop.clone(), trips.clone(), fails.clone()));
        }
        tasks.spawn(probe(addr, stop.clone(), log.clone()));
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut events = vec![];
        for _ in 0..SWITCH_CYCLES {
            let t_add = Instant::now();
            let guard = match (i, &nox) {
                (0, _) => Some(ours.apply(Toxic::latency(SWITCH_LATENCY)).expect("apply")),
                (_, Ok(n)) => {
                    let kind = noxious::toxic::ToxicKind::Latency {
                        latency: SWITCH_LATENCY.as_millis() as u64,
                        jitter: 0,
                    };
                    n.add("switch", kind).await.expect("noxious add");
                    None
                }
                _ => unreachable!(),
            };
            out.call_ms[i].push(t_add.elapsed().as_secs_f64() * 1000.0);
            tokio::time::sleep(Duration::from_millis(450)).await;
            let t_remove = Instant::now();
            match (guard, &nox) {
                (Some(g), _) => drop(g),
                (None, Ok(n)) => n.remove("switch").await.expect("noxious remove"),
                _ => unreachable!(),
            }
            out.call_ms[i].push(t_remove.elapsed().as_secs_f64() * 1000.0);
            tokio::time::sleep(Duration::from_millis(400)).await;
            events.push((t_add, t_remove, Instant::now()));
        }
        stop.store(true, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(50)).await;
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
        let log = log.lock().unwrap().clone();
        let first_add = events.first().map(|e| e.0);
        let base: Vec<f64> = log
            .iter()
            .filter(|p| first_add.is_some_and(|a| p.sent < a))
            .filter_map(|p| rtt(p).map(|r| r.as_secs_f64() * 1000.0))
            .collect();
        out.base_rtt_ms[i] = median(&base);
        for &(add, remove, end) in &events {
            match in_force(&log, add, remove) {
                Some(ms) => out.on_ms[i].push(ms),
                None => out.on_missed[i] += 1,
            }
            match gone(&log, remove, end) {
                Some(ms) => out.off_ms[i].push(ms),
                None => out.off_missed[i] += 1,
            }
        }
        out.lost_pings[i] = log.iter().filter(|p| p.back.is_none()).count();
        out.busy_failures[i] = fails.load(Ordering::Relaxed);
        out.busy_round_trips[i] = trips.load(Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    out.noxious_error = nox.err();
    out
}

// ---------------------------------------------------------------------------------------------
// 6. Memory per idle connection (child processes).

/// Raises `RLIMIT_NOFILE` to `want` (soft and hard) if it can, else the soft limit to the
/// hard one; returns the soft limit in force.
fn raise_nofile(want: u64) -> u64 {
    // SAFETY: an all-zero `rlimit` is valid; `getrlimit` fills it in.
    let mut lim: libc::rlimit = unsafe { std::mem::zeroed() };
    // SAFETY: a pointer to a live local.
    unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
    if lim.rlim_cur >= want {
        return lim.rlim_cur;
    }
    let raised = libc::rlimit {
        rlim_cur: want,
        rlim_max: want.max(lim.rlim_max),
    };
    // SAFETY: a pointer to a live local.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
        return want;
    }
    let soft = libc::rlimit {
        rlim_cur: lim.rlim_max,
        rlim_max: lim.rlim_max,
    };
    // SAFETY: a pointer to a live local.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &soft) } == 0 {
        return lim.rlim_max;
    }
    lim.rlim_cur
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

struct MemoryCase {
    name: &'static str,
    opened: usize,
    before_kib: u64,
    after_kib: u64,
    error: Option<String>,
}

#[derive(Default)]
struct Memory {
    conns_wanted: usize,
    conns: usize,
    nofile: u64,
    cases: Vec<MemoryCase>,
}

/// The proxy (ours or noxious) alone in a child process, asked for its RSS over a pipe.
struct ProxyChild {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    stdout: std::io::BufReader<std::process::ChildStdout>,
}

impl ProxyChild {
    fn start(variant: &str, upstream: SocketAddr) -> Result<(ProxyChild, SocketAddr), String> {
        use std::io::BufRead;
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let mut child = std::process::Command::new(exe)
            .env(MEMORY_ENV, variant)
            .env(UPSTREAM_ENV, upstream.to_string())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start the child: {e}"))?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let stdout = std::io::BufReader::new(child.stdout.take().ok_or("no stdout")?);
        let mut me = ProxyChild {
            child,
            stdin,
            stdout,
        };
        let mut line = String::new();
        me.stdout.read_line(&mut line).map_err(|e| e.to_string())?;
        match line.trim().strip_prefix("ADDR ").map(str::parse) {
            Some(Ok(addr)) => Ok((me, addr)),
            _ => Err(format!("the child said {:?}", line.trim())),
        }
    }

    fn rss_kib(&mut self) -> Result<u64, String> {
        use std::io::{BufRead, Write};
        writeln!(self.stdin, "rss").map_err(|e| e.to_string())?;
        let mut line = String::new();
        self.stdout
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        line.trim()
            .strip_prefix("RSS ")
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("the child said {:?}", line.trim()))
    }
}

impl Drop for ProxyChild {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Opens `n` connections to `addr`, each after one 16-byte echo, 100 at a time (fewer than
/// noxious's backlog of 128).
async fn open_idle(addr: SocketAddr, n: usize) -> (Vec<TcpStream>, Option<String>) {
    let one = move || async move {
        let mut s = connect(addr).await?;
        let mut back = [0u8; 16];
        s.write_all(&[3u8; 16]).await?;
        s.read_exact(&mut back).await?;
        Ok::<_, std::io::Error>(s)
    };
    let mut open = Vec::with_capacity(n);
    let mut error = None;
    while open.len() < n && error.is_none() {
        let mut batch = tokio::task::JoinSet::new();
        for _ in 0..(n - open.len()).min(100) {
            batch.spawn(one());
        }
        while let Some(r) = batch.join_next().await {
            match r.expect("connect task") {
                Ok(s) => open.push(s),
                Err(e) => error = Some(format!("after {} connections: {e}", open.len())),
            }
        }
    }
    (open, error)
}

/// For ours and noxious, each alone in a child process: its RSS before and after `conns` idle
/// connections (clients and echo server here, in a runtime of their own).
fn memory_figure(conns: usize, conns_wanted: usize, nofile: u64) -> Memory {
    let mut out = Memory {
        conns_wanted,
        conns,
        nofile,
        ..Default::default()
    };
    let rt = runtime();
    for name in ["ours", "noxious"] {
        let mut case = MemoryCase {
            name,
            opened: 0,
            before_kib: 0,
            after_kib: 0,
            error: None,
        };
        let result: Result<(), String> = rt.block_on(async {
            let echo = echo_server().await;
            let (mut child, addr) = ProxyChild::start(name, echo)?;
            // Warm up: the child's runtime threads, its first connections.
            let (warm, _) = open_idle(addr, 20).await;
            drop(warm);
            tokio::time::sleep(Duration::from_millis(300)).await;
            case.before_kib = child.rss_kib()?;
            let (open, error) = open_idle(addr, conns).await;
            tokio::time::sleep(Duration::from_millis(500)).await;
            case.after_kib = child.rss_kib()?;
            case.opened = open.len();
            drop(child);
            drop(open);
            error.map_or(Ok(()), Err)
        });
        case.error = result.err();
        out.cases.push(case);
    }
    out
}

/// In a child: runs one proxy (`ours` or `noxious`) to `CHAOS_PROXY_BENCH_UPSTREAM`, prints
/// `ADDR <its address>`, then answers each line on stdin with `RSS <KiB>`, until stdin ends.
fn memory_child(variant: &str) {
    use std::io::{BufRead, Write};
    let upstream: SocketAddr = std::env::var(UPSTREAM_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
        .expect("CHAOS_PROXY_BENCH_UPSTREAM");
    let rt = runtime();
    // The proxy's tasks run on the runtime's workers while this thread waits on stdin.
    let started = rt.block_on(async {
        match variant {
            "ours" => Ok((Some(ours("bench-memory", upstream).await), None)),
            _ => Nox::start("bench-memory", upstream)
                .await
                .map(|n| (None, Some(n))),
        }
    });
    let (proxy, nox) = match started {
        Ok(p) => p,
        Err(e) => {
            println!("ERROR {e}");
            return;
        }
    };
    let addr = proxy
        .as_ref()
        .map(Proxy::addr)
        .or(nox.as_ref().map(|n| n.addr))
        .expect("a proxy");
    println!("ADDR {addr}");
    let _ = std::io::stdout().flush();
    for line in std::io::stdin().lock().lines() {
        if line.is_err() {
            break;
        }
        println!("RSS {}", rss_kib());
        let _ = std::io::stdout().flush();
    }
    // No orderly teardown of thousands of connections: the process ends.
    std::process::exit(0);
}

// ---------------------------------------------------------------------------------------------
// The table.

#[derive(Default)]
struct Report {
    throughput: Option<Throughput>,
    http: Option<Http>,
    accuracy: Option<Accuracy>,
    switch: Option<Switch>,
    memory: Option<Memory>,
}

fn f(v: f64, digits: usize) -> String {
    if v.is_nan() {
        "-".into()
    } else {
        format!("{v:.digits$}")
    }
}

fn ratio(a: f64, b: f64) -> String {
    if a.is_nan() || b.is_nan() || b == 0.0 {
        "-".into()
    } else {
        format!("{:.2}", a / b)
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "MISSED"
    }
}

impl Report {
    fn print(&self) {
        let mut notes: Vec<String> = vec![];
        println!();
        println!("PROXY BENCH — direct loopback vs our proxy vs noxious 1.0.4 (library), one run, 2-worker tokio runtime");
        if let Some(t) = &self.throughput {
            println!();
            println!(
                "1/3. Throughput, no toxics: server streams 64 KiB writes, clients read; median of {} windows of {} ms; MB = 10^6 B",
                t.rows.first().map_or(0, |r| r.mbps[0].len()),
                WINDOW.as_millis()
            );
            println!(
                "{:<6} {:>8} {:>8} {:>8} {:>8} {:>12} {:>11} {:>11} {:>13}  {:<28} {:>6}",
                "conns",
                "direct",
                "ours",
                "noxious",
                "floor",
                "ours/direct",
                "nox/direct",
                "ours/floor",
                "ours/noxious",
                "CPU s/GB dir|ours|nox|floor",
                "target"
            );
            for r in &t.rows {
                let m = |i: usize| median(&r.mbps[i]);
                let c = |i: usize| median(&r.cpu_per_gb[i]);
                let rd = m(1) / m(0);
                println!(
                    "{:<6} {:>8} {:>8} {:>8} {:>8} {:>12} {:>11} {:>11} {:>13}  {:<28} {:>6}",
                    r.conns,
                    f(m(0), 0),
                    f(m(1), 0),
                    f(m(2), 0),
                    f(m(3), 0),
                    ratio(m(1), m(0)),
                    ratio(m(2), m(0)),
                    ratio(m(1), m(3)),
                    ratio(m(1), m(2)),
                    format!(
                        "{}|{}|{}|{}",
                        f(c(0), 2),
                        f(c(1), 2),
                        f(c(2), 2),
                        f(c(3), 2)
                    ),
                    format!("≥0.8 {}", verdict(rd >= 0.8)),
                );
            }
            if let Some(e) = &t.noxious_error {
                notes.push(format!("noxious (throughput): {e}"));
            }
            println!(
                "     (our proxy's counters: {:.1} GB passed downstream)",
                t.ours_bytes_down as f64 / 1e9
            );
        }

        if let Some(h) = &self.http {
            println!();
            println!(
            "2/3. HTTP/1.1 GET of 64 KiB from hyper, no toxics, µs: one keep-alive connection per block of {} requests ({} blocks), and a new connection per request ({} blocks of {}); a block stops after {} s",
            KEEPALIVE_PER_BLOCK, KEEPALIVE_BLOCKS, NEWCONN_BLOCKS, NEWCONN_PER_BLOCK, BLOCK_BUDGET.as_secs()
        );
            println!(
            "     requests measured, direct|ours|noxious: keep-alive {}|{}|{}, new connection {}|{}|{}",
            h.keepalive[0].len(), h.keepalive[1].len(), h.keepalive[2].len(),
            h.newconn[0].len(), h.newconn[1].len(), h.newconn[2].len()
        );
            println!(
                "{:<22} {:>8} {:>8} {:>8} {:>11} {:>11} {:>13}  target",
                "", "direct", "ours", "noxious", "ours added", "nox added", "ours/noxious"
            );
            for (label, v) in [("keep-alive", &h.keepalive), ("new connection", &h.newconn)] {
                for (q, p) in [("median", 50.0), ("p99", 99.0)] {
                    let s = |i: usize| percentile(&v[i], p);
                    let added = s(1) - s(0);
                    let nadded = s(2) - s(0);
                    // The target is for the request Toxiproxy's benchmark times: one
                    // `http.Client` whose bodies are read and closed, so its connection is
                    // kept alive from request to request.
                    let target = if label == "keep-alive" {
                        format!("added <100 µs {}", verdict(added < 100.0))
                    } else {
                        "(for reference)".to_owned()
                    };
                    println!(
                        "{:<22} {:>8} {:>8} {:>8} {:>11} {:>11} {:>13}  {target}",
                        format!("{label} {q}"),
                        f(s(0), 0),
                        f(s(1), 0),
                        f(s(2), 0),
                        f(added, 0),
                        f(nadded, 0),
                        ratio(s(1), s(2)),
                    );
                }
            }
            let thread =
                [("keep-alive", &h.keepalive), ("new connection", &h.newconn)].map(|(label, v)| {
                    let m = |p: f64| {
                        (
                            percentile(&v[3], p),
                            percentile(&v[3], p) - percentile(&v[0], p),
                        )
                    };
                    let ((m50, a50), (m99, a99)) = (m(50.0), m(99.0));
                    format!(
                        "{label} median {} (+{}), p99 {} (+{})",
                        f(m50, 0),
                        f(a50, 0),
                        f(m99, 0),
                        f(a99, 0)
                    )
                });
            println!(
                "     ours on a thread of its own (`start_detached`, as an experiment shares a proxy): {}; {}",
                thread[0], thread[1]
            );
            println!("     (Toxiproxy's own benchmark, testing/benchmark_test.go, one keep-alive client: 598 µs direct, 965 µs proxied, +367 µs)");
            if let Some(e) = &h.noxious_error {
                notes.push(format!("noxious (HTTP): {e}"));
            }
        }
        if let Some(a) = &self.accuracy {
            println!();
            println!(
            "4. Accuracy: latency {} ms downstream, {} round trips of 32 B (error = RTT − {} ms); bandwidth {} KB/s over {} MB",
            LATENCY.as_millis(),
            LATENCY_PINGS,
            LATENCY.as_millis(),
            BANDWIDTH_KBPS,
            BANDWIDTH_BYTES / 1_000_000
        );
            println!(
                "{:<9} {:>16} {:>16} {:>15} {:>10}",
                "", "lat median err", "lat worst err", "bandwidth KB/s", "bw err"
            );
            for (i, name) in ["ours", "noxious"].iter().enumerate() {
                let e = &a.latency_err_ms[i];
                let (got, bw) = a.bandwidth_kbps[i].unwrap_or((0, f64::NAN));
                if got < BANDWIDTH_BYTES && !bw.is_nan() {
                    notes.push(format!(
                    "bandwidth ({name}): the download ended after {got} of {BANDWIDTH_BYTES} bytes: the proxy closed the connection before passing all it had read"
                ));
                }
                println!(
                    "{:<9} {:>13} ms {:>13} ms {:>15} {:>9}%",
                    name,
                    f(median(e), 3),
                    f(common::worst(e), 3),
                    f(bw, 1),
                    f(
                        (bw - BANDWIDTH_KBPS as f64) / BANDWIDTH_KBPS as f64 * 100.0,
                        2
                    ),
                );
            }
            if let Some(e) = &a.noxious_error {
                notes.push(format!("noxious (accuracy): {e}"));
            }
        }
        if let Some(s) = &self.switch {
            println!();
            println!(
            "5/3. Toxic add/remove (latency {} ms) under {} busy connections (16 KiB request/replies), {} cycles; ms",
            SWITCH_LATENCY.as_millis(),
            BUSY_CONNS,
            SWITCH_CYCLES
        );
            println!(
                "{:<9} {:>7} {:>7} {:>7} {:>8} {:>8} {:>8} {:>9} {:>9} {:>11} {:>11}  target",
                "",
                "add p50",
                "add p99",
                "missed",
                "rm p50",
                "rm p99",
                "missed",
                "call p99",
                "base RTT",
                "lost pings",
                "busy fails"
            );
            for (i, name) in ["ours", "noxious"].iter().enumerate() {
                let ok = percentile(&s.on_ms[i], 99.0) < 50.0
                    && percentile(&s.off_ms[i], 99.0) < 50.0
                    && s.on_missed[i] == 0
                    && s.off_missed[i] == 0;
                println!(
                "{:<9} {:>7} {:>7} {:>7} {:>8} {:>8} {:>8} {:>9} {:>9} {:>11} {:>11}  p99 <50 ms {}",
                name,
                f(percentile(&s.on_ms[i], 50.0), 1),
                f(percentile(&s.on_ms[i], 99.0), 1),
                s.on_missed[i],
                f(percentile(&s.off_ms[i], 50.0), 1),
                f(percentile(&s.off_ms[i], 99.0), 1),
                s.off_missed[i],
                f(percentile(&s.call_ms[i], 99.0), 2),
                f(s.base_rtt_ms[i], 2),
                s.lost_pings[i],
                format!("{}/{}", s.busy_failures[i], s.busy_round_trips[i]),
                verdict(ok),
            );
            }
            println!("     (add: apply → first ping sent that came back slowed; remove: remove → answer of the first fast ping sent after it, one base RTT included)");
            if let Some(e) = &s.noxious_error {
                notes.push(format!("noxious (add/remove): {e}"));
            }
        }
        if let Some(m) = &self.memory {
            println!();
            println!(
                "6/3. Memory per idle proxied connection: {} connections (wanted {}; RLIMIT_NOFILE {}), each after one 16 B echo; RSS of the proxy alone in a child process",
                m.conns, m.conns_wanted, m.nofile
            );
            if m.conns < m.conns_wanted {
                notes.push(format!(
                    "memory: {} connections instead of {}: RLIMIT_NOFILE's hard limit is {} and cannot be raised here (no CAP_SYS_RESOURCE); 2 descriptors per connection in the proxy's process",
                    m.conns, m.conns_wanted, m.nofile
                ));
            }
            println!(
                "{:<9} {:>8} {:>12} {:>12} {:>14}",
                "", "opened", "RSS before", "RSS after", "KiB per conn"
            );
            let per = |c: &MemoryCase| {
                if c.opened == 0 {
                    f64::NAN
                } else {
                    (c.after_kib as f64 - c.before_kib as f64) / c.opened as f64
                }
            };
            for c in &m.cases {
                println!(
                    "{:<9} {:>8} {:>8} MiB {:>8} MiB {:>14}",
                    c.name,
                    c.opened,
                    f(c.before_kib as f64 / 1024.0, 1),
                    f(c.after_kib as f64 / 1024.0, 1),
                    f(per(c), 2),
                );
                if let Some(e) = &c.error {
                    notes.push(format!("memory ({}): {e}", c.name));
                }
            }
            if let [o, n] = &m.cases[..] {
                println!("     ours/noxious: {}", ratio(per(o), per(n)));
            }
            println!("     (user-space RSS only: the kernel's socket buffers are not counted)");
        }
        if !notes.is_empty() {
            println!();
            for n in notes {
                println!("NOTE: {n}");
            }
        }
    }
}
