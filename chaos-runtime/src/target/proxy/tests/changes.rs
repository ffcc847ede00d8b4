//! Toxics changed while data is held or flowing: nothing lost or counted twice, updates keep
//! a toxic's state, extreme values do not break a connection, down and up in quick succession.

use super::support::{echo, read_all, round_trip, source};
use crate::target::proxy::{Fault, Proxy, Toxic};
use serde_json::json;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const MS: Duration = Duration::from_millis(1);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_data_is_not_cut_again_when_another_toxic_comes() {
    let proxy = Proxy::listen("src", source(1000).await.to_string())
        .await
        .unwrap();
    let _limit = proxy.apply(Toxic::limit_data(100)).unwrap();
    let _slow = proxy.apply(Toxic::latency(300 * MS)).unwrap();
    let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
    tokio::time::sleep(100 * MS).await;
    // While the 100 bytes are held by the latency, a toxic on the other stream arrives.
    let _other = proxy.apply(Toxic::bandwidth(1000).upstream()).unwrap();
    let (data, err) = read_all(&mut s).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(data.len(), 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_keeps_each_connections_draw_and_state() {
    let proxy = Proxy::listen("echo", echo().await.to_string())
        .await
        .unwrap();
    let _g = proxy.apply(Toxic::latency(MS)).unwrap();
    let mut conns = Vec::new();
    for _ in 0..3 {
        let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
        round_trip(&mut s, b"x").await.unwrap();
        conns.push(s);
    }
    let before = proxy.toxic_stats("latency_downstream").unwrap();
    proxy
        .update("latency_downstream", &json!({"attributes": {"latency": 2}}))
        .unwrap();
    for s in &mut conns {
        round_trip(s, b"y").await.unwrap();
    }
    let after = proxy.toxic_stats("latency_downstream").unwrap();
    assert_eq!(
        (after.connections, after.affected),
        (before.connections, before.affected)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extreme_values_hold_data_without_breaking_the_connection() {
    let proxy = Proxy::listen("echo", echo().await.to_string())
        .await
        .unwrap();
    let huge = [
        json!({"type": "latency", "name": "l", "attributes": {"latency": u64::MAX, "jitter": u64::MAX}}),
        json!({"type": "slicer", "name": "s", "attributes": {"average_size": u64::MAX, "size_variation": 1, "delay": u64::MAX}}),
        json!({"type": "bandwidth", "name": "b", "attributes": {"rate": u64::MAX}}),
    ];
    let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
    for t in huge {
        let toxic = Toxic::from_json("echo", &t).unwrap();
        let name = toxic.name();
        proxy.insert(Fault::Toxic(toxic), 1).unwrap();
        s.write_all(b"held?").await.unwrap();
        tokio::time::sleep(20 * MS).await;
        proxy.remove(&name).unwrap();
        let mut buf = [0u8; 5];
        use tokio::io::AsyncReadExt;
        tokio::time::timeout(Duration::from_secs(2), s.read_exact(&mut buf))
            .await
            .unwrap_or_else(|_| panic!("{name}: data released once removed"))
            .unwrap();
        assert_eq!(&buf, b"held?");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn down_up_down_at_once_still_refuses() {
    let proxy = Proxy::listen("echo", echo().await.to_string())
        .await
        .unwrap();
    for _ in 0..20 {
        let g = proxy.apply(Toxic::down()).unwrap();
        drop(g);
        let _g = proxy.apply(Toxic::down()).unwrap();
        let mut refused = false;
        for _ in 0..50 {
            match TcpStream::connect(proxy.addr()).await {
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                    refused = true;
                    break;
                }
                // Accepted by a listener the task had not closed yet: it is dropped.
                _ => tokio::time::sleep(5 * MS).await,
            }
        }
        assert!(refused);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_data_passes_byte_exact_and_a_toxic_can_join_mid_stream() {
    const N: usize = 8 << 20;
    let proxy = Proxy::listen("src", source(N).await.to_string())
        .await
        .unwrap();
    let expected: Vec<u8> = (0..N).map(|i| (i % 251) as u8).collect();
    let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
    let (data, err) = read_all(&mut s).await;
    assert!(err.is_none());
    assert!(data == expected, "no toxic: {} bytes, in order", data.len());
    // A slow reader, and a toxic added while megabytes are on their way.
    let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
    let mut got = vec![0u8; 1 << 20];
    use tokio::io::AsyncReadExt;
    s.read_exact(&mut got).await.unwrap();
    let _g = proxy
        .apply(Toxic::slicer(5000, 1000, Duration::ZERO))
        .unwrap();
    let (rest, err) = read_all(&mut s).await;
    assert!(err.is_none());
    got.extend(rest);
    assert!(
        got == expected,
        "with a toxic joining: {} bytes, in order",
        got.len()
    );
    assert!(proxy.toxic_stats("slicer_downstream").unwrap().bytes > 0);
}
