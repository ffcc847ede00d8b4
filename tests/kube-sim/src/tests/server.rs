//! The server's lifetime and its speed with many objects.

use super::client::*;
use crate::{Sim, SimConfig};
use std::net::TcpStream;
use std::time::{Duration, Instant};

#[test]
fn dropping_the_last_handle_stops_the_server() {
    let sim = Sim::start(SimConfig::default()).expect("start");
    let port = sim.port();
    let clone = sim.clone();
    drop(sim);
    assert_eq!(get(&clone, "/version").status, 200);
    let t = Instant::now();
    drop(clone);
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "stopping took {:?}",
        t.elapsed()
    );
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[test]
fn ten_thousand_pods_page_and_delete_quickly() {
    let sim = Sim::start(fast()).expect("start");
    let t = Instant::now();
    sim.add_pods("bulk", "pod", 10_000, &[("app", "bulk")]);
    let seeded = t.elapsed();
    let t = Instant::now();
    let mut cont = String::new();
    let mut count = 0;
    loop {
        let page = get(
            &sim,
            &format!("/api/v1/namespaces/bulk/pods?limit=500&continue={cont}"),
        )
        .json();
        count += names(&page).len();
        match page["metadata"]["continue"].as_str() {
            Some(c) => cont = c.to_string(),
            None => break,
        }
    }
    let listed = t.elapsed();
    assert_eq!(count, 10_000);
    let t = Instant::now();
    let workers: Vec<_> = (0..100)
        .map(|i| {
            let sim = sim.clone();
            std::thread::spawn(move || {
                request(
                    &sim,
                    "DELETE",
                    &format!("/api/v1/namespaces/bulk/pods/pod-{:05}", i * 7),
                    &[],
                    None,
                )
                .status
            })
        })
        .collect();
    let statuses: Vec<u16> = workers.into_iter().map(|w| w.join().unwrap_or(0)).collect();
    let deleted = t.elapsed();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    wait_for("terminated", || sim.list("pods", "bulk").len() == 9_900);
    let server: Duration = sim
        .requests()
        .iter()
        .filter(|r| r.query.contains("limit=500"))
        .map(|r| r.finished - r.started)
        .sum();
    eprintln!("seed {seeded:?}, list {listed:?} (server {server:?}), delete {deleted:?}");
    assert!(listed < Duration::from_secs(20), "listing took {listed:?}");
}
