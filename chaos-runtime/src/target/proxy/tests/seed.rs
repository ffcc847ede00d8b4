//! The same seed and the same connection order replay the same draws: which connections a
//! toxicity hits, each jitter, each slice size.

use super::support::{echo, round_trip, source};
use crate::target::proxy::{Fault, Proxy, Toxic};
use std::time::Duration;
use tokio::net::TcpStream;

/// Which of `n` connections, made one after the other, a toxicity of one half hits.
async fn hits(seed: u64, n: usize) -> Vec<bool> {
    let proxy = Proxy::listen("db", echo().await.to_string()).await.unwrap();
    let toxic = Toxic::limit_data(0).toxicity(0.5);
    proxy.insert(Fault::Toxic(toxic), seed).unwrap();
    let mut out = Vec::new();
    for _ in 0..n {
        let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
        // Hit: closed at once (limit 0); missed: the round trip works.
        let ok = tokio::time::timeout(Duration::from_secs(2), round_trip(&mut s, b"?"))
            .await
            .unwrap()
            .is_ok();
        out.push(!ok);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_seed_hits_the_same_connections() {
    let a = hits(42, 24).await;
    assert_eq!(a, hits(42, 24).await);
    let count = a.iter().filter(|h| **h).count();
    assert!((4..=20).contains(&count), "{a:?}");
    assert_ne!(a, hits(43, 24).await, "another seed draws otherwise");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_connections_are_drawn_in_the_order_they_came() {
    let run = |seed| async move {
        let proxy = Proxy::listen("db", echo().await.to_string()).await.unwrap();
        let mut conns = Vec::new();
        for _ in 0..16 {
            let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
            round_trip(&mut s, b"up").await.unwrap();
            conns.push(s);
        }
        proxy
            .insert(Fault::Toxic(Toxic::limit_data(0).toxicity(0.5)), seed)
            .unwrap();
        let mut out = Vec::new();
        for s in &mut conns {
            let r = tokio::time::timeout(Duration::from_secs(2), round_trip(s, b"?")).await;
            out.push(r.unwrap().is_err());
        }
        out
    };
    assert_eq!(run(5).await, run(5).await);
}

/// The sizes of the slices a reader gets from a slicer with a wide variation, slow enough that
/// each read is one slice.
async fn slices(seed: u64) -> Vec<usize> {
    let proxy = Proxy::builder("src", source(3000).await.to_string())
        .seed(seed)
        .start()
        .await
        .unwrap();
    let _g = proxy
        .apply(Toxic::slicer(100, 90, Duration::from_millis(15)))
        .unwrap();
    let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
    let mut out = Vec::new();
    let mut buf = vec![0; 4096];
    loop {
        use tokio::io::AsyncReadExt;
        match s.read(&mut buf).await.unwrap() {
            0 => return out,
            n => out.push(n),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_seed_cuts_the_same_slices() {
    let a = slices(7).await;
    assert_eq!(a.iter().sum::<usize>(), 3000);
    assert_eq!(a, slices(7).await);
    assert_ne!(a, slices(8).await);
}
