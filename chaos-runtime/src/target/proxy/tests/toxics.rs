//! Each toxic's effect, measured on loopback sockets.

use super::support::{echo, read_all, round_trip, source};
use crate::target::proxy::{Proxy, Toxic};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const MS: Duration = Duration::from_millis(1);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_delays_each_round_trip_by_about_the_set_value() {
    let proxy = Proxy::listen("echo", echo().await.to_string())
        .await
        .unwrap();
    let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
    let t = Instant::now();
    round_trip(&mut s, b"ping").await.unwrap();
    let direct = t.elapsed();
    let _g = proxy.apply(Toxic::latency(100 * MS)).unwrap();
    for _ in 0..3 {
        let t = Instant::now();
        assert_eq!(round_trip(&mut s, b"ping").await.unwrap(), b"ping");
        let slowed = t.elapsed();
        assert!(
            slowed >= 100 * MS && slowed < 100 * MS + direct + 150 * MS,
            "{slowed:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jitter_stays_within_its_bounds_and_varies() {
    let proxy = Proxy::listen("echo", echo().await.to_string())
        .await
        .unwrap();
    let _g = proxy
        .apply(Toxic::latency(60 * MS).jitter(40 * MS).upstream())
        .unwrap();
    let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
    let mut seen = Vec::new();
    for _ in 0..12 {
        let t = Instant::now();
        round_trip(&mut s, b"x").await.unwrap();
        seen.push(t.elapsed());
    }
    assert!(
        seen.iter().all(|d| *d >= 20 * MS && *d < 250 * MS),
        "{seen:?}"
    );
    let (lo, hi) = (seen.iter().min().unwrap(), seen.iter().max().unwrap());
    assert!(*hi - *lo > 10 * MS, "no variation: {seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bandwidth_holds_the_rate_within_five_percent_over_a_megabyte_and_a_half() {
    const N: usize = 1_500_000;
    let proxy = Proxy::listen("src", source(N).await.to_string())
        .await
        .unwrap();
    let _g = proxy.apply(Toxic::bandwidth(1000)).unwrap();
    let t = Instant::now();
    let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
    let (data, err) = read_all(&mut s).await;
    let took = t.elapsed().as_secs_f64();
    assert!(err.is_none());
    assert_eq!(data.len(), N);
    let rate = N as f64 / took / 1000.0;
    assert!(
        (rate - 1000.0).abs() <= 50.0,
        "{rate:.1} KB/s over {took:.3} s"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_bandwidth_is_split_between_connections() {
    const N: usize = 250_000;
    let proxy = Proxy::listen("src", source(N).await.to_string())
        .await
        .unwrap();
    let _g = proxy.apply(Toxic::bandwidth(1000).shared()).unwrap();
    let t = Instant::now();
    let one = async {
        let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
        read_all(&mut s).await.0.len()
    };
    let (a, b) = tokio::join!(one, async {
        let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
        read_all(&mut s).await.0.len()
    });
    assert_eq!((a, b), (N, N));
    // 500 KB at 1000 KB/s in all: half a second, where a rate per connection takes a quarter.
    let took = t.elapsed();
    assert!(took >= 450 * MS && took < 1000 * MS, "{took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_peer_is_seen_as_econnreset() {
    let proxy = Proxy::listen("echo", echo().await.to_string())
        .await
        .unwrap();
    let _g = proxy
        .apply(Toxic::reset_peer(Duration::ZERO).upstream())
        .unwrap();
    let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
    s.write_all(b"hello").await.unwrap();
    let (data, err) = read_all(&mut s).await;
    assert!(data.is_empty());
    let err = err.expect("an error, not an orderly close");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset, "{err}");
    assert_eq!(proxy.stats().resets, 1);
    assert_eq!(proxy.toxic_stats("reset_peer_upstream").unwrap().resets, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_peer_waits_its_timeout_after_the_first_data() {
    let proxy = Proxy::listen("echo", echo().await.to_string())
        .await
        .unwrap();
    let _g = proxy.apply(Toxic::reset_peer(150 * MS).upstream()).unwrap();
    let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
    let t = Instant::now();
    s.write_all(b"hello").await.unwrap();
    let (_, err) = read_all(&mut s).await;
    assert_eq!(err.unwrap().kind(), std::io::ErrorKind::ConnectionReset);
    assert!(
        t.elapsed() >= 150 * MS && t.elapsed() < 600 * MS,
        "{:?}",
        t.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limit_data_closes_after_exactly_n_bytes() {
    for limit in [0u64, 1, 1000, 65_536, 100_001] {
        let proxy = Proxy::listen("src", source(300_000).await.to_string())
            .await
            .unwrap();
        let _g = proxy.apply(Toxic::limit_data(limit)).unwrap();
        let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
        let (data, err) = read_all(&mut s).await;
        assert!(err.is_none(), "limit {limit}: {err:?}");
        assert_eq!(data.len() as u64, limit);
        let expected: Vec<u8> = (0..limit as usize).map(|i| (i % 251) as u8).collect();
        assert_eq!(data, expected, "limit {limit}: the first bytes, in order");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slicer_delivers_in_several_small_reads() {
    let proxy = Proxy::listen("src", source(4000).await.to_string())
        .await
        .unwrap();
    let _g = proxy.apply(Toxic::slicer(100, 50, 2 * MS)).unwrap();
    let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
    let mut reads = Vec::new();
    let mut buf = vec![0; 65536];
    loop {
        use tokio::io::AsyncReadExt;
        let n = s.read(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        reads.push(n);
    }
    assert_eq!(reads.iter().sum::<usize>(), 4000);
    // 40 slices of 50 to 150 bytes, 2 ms apart: a reader sees most of them one by one.
    assert!(reads.len() >= 10, "{reads:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_swallows_data_and_closes_after_its_delay() {
    let proxy = Proxy::listen("echo", echo().await.to_string())
        .await
        .unwrap();
    let _g = proxy.apply(Toxic::timeout(200 * MS)).unwrap();
    let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
    let t = Instant::now();
    s.write_all(b"hello").await.unwrap();
    let (data, _) = read_all(&mut s).await;
    assert!(data.is_empty());
    assert!(
        t.elapsed() >= 180 * MS && t.elapsed() < 800 * MS,
        "{:?}",
        t.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_of_zero_holds_the_connection_until_removed() {
    let proxy = Proxy::listen("echo", echo().await.to_string())
        .await
        .unwrap();
    let g = proxy.apply(Toxic::timeout(Duration::ZERO)).unwrap();
    let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
    let stuck = tokio::time::timeout(300 * MS, round_trip(&mut s, b"lost")).await;
    assert!(stuck.is_err(), "no answer while the toxic is in place");
    drop(g);
    // The swallowed bytes are gone (as in Toxiproxy); new ones pass.
    let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
    assert_eq!(round_trip(&mut s, b"back").await.unwrap(), b"back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_close_delays_the_close() {
    let proxy = Proxy::listen("src", source(10).await.to_string())
        .await
        .unwrap();
    let _g = proxy.apply(Toxic::slow_close(300 * MS)).unwrap();
    let t = Instant::now();
    let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
    let (data, _) = read_all(&mut s).await;
    assert_eq!(data.len(), 10);
    assert!(t.elapsed() >= 300 * MS, "{:?}", t.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn down_refuses_and_drops_then_comes_back_on_the_same_port() {
    let proxy = Proxy::listen("echo", echo().await.to_string())
        .await
        .unwrap();
    let mut live = TcpStream::connect(proxy.addr()).await.unwrap();
    round_trip(&mut live, b"up").await.unwrap();
    let g = proxy.apply(Toxic::down()).unwrap();
    let (_, _) = tokio::time::timeout(Duration::from_secs(2), read_all(&mut live))
        .await
        .expect("the open connection is dropped");
    // The listener closes as the proxy task sees the change.
    let mut refused = false;
    for _ in 0..50 {
        match TcpStream::connect(proxy.addr()).await {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                refused = true;
                break;
            }
            _ => tokio::time::sleep(10 * MS).await,
        }
    }
    assert!(refused, "connections are refused while down");
    drop(g);
    // Listening again before the removal returns: the next connection is accepted.
    let mut s = TcpStream::connect(proxy.addr())
        .await
        .expect("the proxy listens again on its address once `down` is removed");
    assert_eq!(round_trip(&mut s, b"again").await.unwrap(), b"again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_toxic_added_before_the_first_connection_acts_from_its_first_byte() {
    let proxy = Proxy::listen("src", source(5000).await.to_string())
        .await
        .unwrap();
    let _g = proxy.apply(Toxic::limit_data(7)).unwrap();
    let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
    assert_eq!(read_all(&mut s).await.0.len(), 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn toxics_act_on_open_connections_and_stop_when_removed() {
    let proxy = Proxy::listen("echo", echo().await.to_string())
        .await
        .unwrap();
    let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
    // Well below the 150 ms toxic, with room for a loaded machine.
    let fast = |d: Duration| d < 120 * MS;
    let t = Instant::now();
    round_trip(&mut s, b"a").await.unwrap();
    assert!(fast(t.elapsed()));
    let g = proxy.apply(Toxic::latency(150 * MS)).unwrap();
    let t = Instant::now();
    round_trip(&mut s, b"b").await.unwrap();
    assert!(t.elapsed() >= 150 * MS, "the open connection is slowed");
    let mut new = TcpStream::connect(proxy.addr()).await.unwrap();
    let t = Instant::now();
    round_trip(&mut new, b"c").await.unwrap();
    assert!(t.elapsed() >= 150 * MS, "a new connection is slowed");
    drop(g);
    let t = Instant::now();
    round_trip(&mut s, b"d").await.unwrap();
    assert!(fast(t.elapsed()), "{:?}", t.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removal_under_traffic_returns_at_once_and_releases_the_held_data() {
    let proxy = Proxy::listen("echo", echo().await.to_string())
        .await
        .unwrap();
    let g = proxy
        .apply(Toxic::latency(Duration::from_secs(30)))
        .unwrap();
    let mut conns = Vec::new();
    for _ in 0..16 {
        let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
        s.write_all(&[7; 10_000]).await.unwrap();
        conns.push(s);
    }
    tokio::time::sleep(100 * MS).await;
    let t = Instant::now();
    let stats = g.remove().unwrap();
    assert!(t.elapsed() < 5 * MS, "remove took {:?}", t.elapsed());
    assert_eq!(stats.affected, 16);
    let t = Instant::now();
    for s in &mut conns {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0; 10_000];
        tokio::time::timeout(Duration::from_secs(2), s.read_exact(&mut buf))
            .await
            .expect("held data released")
            .unwrap();
    }
    assert!(t.elapsed() < 500 * MS, "{:?}", t.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_count_connections_bytes_and_hits() {
    let proxy = Proxy::listen("echo", echo().await.to_string())
        .await
        .unwrap();
    let _g = proxy.apply(Toxic::latency(MS).toxicity(0.5)).unwrap();
    for _ in 0..20 {
        let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
        round_trip(&mut s, b"12345").await.unwrap();
    }
    tokio::time::sleep(50 * MS).await;
    let stats = proxy.stats();
    assert_eq!(stats.connections, 20);
    assert_eq!((stats.bytes_upstream, stats.bytes_downstream), (100, 100));
    let t = &stats.toxics[0];
    assert_eq!(
        (t.name.as_str(), t.kind, t.connections),
        ("latency_downstream", "latency", 20)
    );
    assert!(t.affected > 0 && t.affected < 20, "{t:?}");
    assert_eq!(t.bytes, 5 * t.affected);
    let json = serde_json::to_value(&stats).unwrap();
    assert_eq!(json["toxics"][0]["type"], "latency");
}

/// The direct path borrows a pipe only while a direction has data: connections left open and
/// idle hold none, and one pipe serves connection after connection.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_hold_no_pipe_and_pipes_are_reused() {
    let proxy = Proxy::listen("echo", echo().await.to_string())
        .await
        .unwrap();
    let mut open = Vec::new();
    for i in 0..20u8 {
        let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
        assert_eq!(round_trip(&mut s, &[i; 16]).await.unwrap(), [i; 16]);
        open.push(s);
    }
    // The last reply is written before its pipe goes back: wait for it to be back.
    let deadline = Instant::now() + Duration::from_secs(2);
    let (created, idle) = loop {
        let (created, idle) = proxy.shared.pipes.counts();
        if created == idle || Instant::now() > deadline {
            break (created, idle);
        }
        tokio::time::sleep(MS).await;
    };
    assert_eq!(
        idle, created,
        "pipes still lent out with every connection idle"
    );
    assert!(
        (1..=2).contains(&created),
        "20 connections one after the other opened {created} pipes"
    );
    drop(open);
}
