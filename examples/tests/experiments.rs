//! The example experiments. Run them with `cargo test -p chaos-examples`; each runs against its
//! own instance of the in-process demo service unless `service_url` is set. The `network`
//! ones run against a demo service linked to a backend through network fault proxies
//! (`demo::linked`), one linked instance each.

use chaos_examples::demo;
use chaos_harness::prelude::*;
use std::time::Duration;

/// The hello-world experiment: the service answers 200 while we echo.
#[experiment(
    title = "hello world: the service stays up while we echo",
    tags = ["hello"],
)]
async fn hello_world(cx: &Context) {
    steady_state! {
        probe "service answers 200" [timeout = 3s] {
            http::get(cx.var_or("service_url", &demo::service("hello").url())).await?.status()
        } => == 200;
    }
    method! {
        action "say hello" { process::run("echo").arg("hello").check().await? };
    }
}

/// Latency stays within a tolerance while 50 ms of latency is injected.
#[experiment(
    title = "the service answers within 500ms with 50ms of injected latency",
    tags = ["latency"],
    timeout = 30s,
)]
async fn latency_within_tolerance(cx: &Context) {
    steady_state! {
        probe "service answers 200" [timeout = 3s] {
            http::get(demo::service("latency").url()).await?.status()
        } => in 200..300;
        probe "latency below 500ms" [timeout = 3s] {
            http::get(demo::service("latency").url()).await?.latency().as_secs_f64()
        } => < 0.5;
    }
    method! {
        action "inject 50ms latency" {
            http::post(format!("{}/fault/latency?ms=50", demo::service("latency").url())).await?.status()
        };
        probe "latency with the fault" {
            http::get(demo::service("latency").url()).await?.latency().as_millis() as u64
        } => |ms: &u64| (50..500).contains(ms);
    }
    rollback! {
        action "remove the latency" {
            http::post(format!("{}/reset", demo::service("latency").url())).await?.status()
        };
    }
}

/// Rollbacks repair what the method broke, and the hypothesis is sampled while it is broken.
#[experiment(
    title = "rollbacks restore the service after an outage",
    tags = ["rollbacks"],
    hypothesis = before_method_only,
    rollbacks = always,
)]
async fn rollbacks_restore_service(cx: &Context) {
    steady_state! {
        probe "service answers 200" { http::get(demo::service("rollbacks").url()).await?.status() } => == 200;
    }
    method! {
        action "take the service down" {
            http::post(format!("{}/fault/down", demo::service("rollbacks").url())).await?.status()
        };
        probe "the service is down" {
            http::get(demo::service("rollbacks").url()).await?.status()
        } => == 503;
    }
    rollback! {
        action "bring the service back" [timeout = 5s] {
            http::post(format!("{}/reset", demo::service("rollbacks").url())).await?.status()
        };
        probe "the service is back" {
            http::get(demo::service("rollbacks").url()).await?.status()
        };
    }
}

/// A negative control: the method takes the service down and leaves it down, so the steady
/// state after the method must be missed. If this experiment ever passes, the hypothesis
/// cannot see an outage.
#[experiment(
    title = "negative control: an outage is detected",
    tags = ["negative-control"],
    expect = deviated,
)]
async fn outage_is_detected(cx: &Context) {
    steady_state! {
        probe "service answers 200" { http::get(demo::service("negative").url()).await?.status() } => == 200;
    }
    method! {
        action "take the service down" {
            http::post(format!("{}/fault/down", demo::service("negative").url())).await?.status()
        };
    }
    rollback! {
        action "bring the service back" {
            http::post(format!("{}/reset", demo::service("negative").url())).await?.status()
        };
    }
}

/// The journal of this experiment is reviewed as an insta snapshot
/// (`tests/snapshots/experiments__snapshot_reviewed.snap`).
#[experiment(
    title = "snapshot: the journal is reviewed in pull requests",
    tags = ["snapshot"],
    snapshot,
)]
async fn snapshot_reviewed(cx: &Context) {
    steady_state! {
        probe "service answers 200" { http::get(demo::service("snapshot").url()).await?.status() } => == 200;
    }
    method! {
        action "say hello" { process::run("echo").arg("hello").await? };
        pause 10ms;
    }
    rollback! {
        action "say goodbye" { process::run("echo").arg("goodbye").await? };
    }
}

/// The orders route, which calls a backend, stays within its latency budget (a median below
/// 500 ms over 10 calls) while 100 ms of latency is added to the network link to the backend.
/// The latency leaves with the run's rollbacks: there is no rollback to write.
#[experiment(
    title = "orders stay within their latency budget with 100ms of latency to the backend",
    tags = ["network", "latency"],
    timeout = 30s,
)]
async fn backend_latency_within_budget(cx: &Context) {
    steady_state! {
        probe "median orders latency (ms) below 500" [timeout = 10s] {
            median_orders_ms(demo::linked("net-latency"), 10).await?
        } => < 500;
    }
    method! {
        action "add 100ms of latency to the backend link" {
            let latency = Toxic::latency(Duration::from_millis(100));
            demo::linked("net-latency").tcp_proxy().add(cx, latency)?
        };
        probe "the latency reaches the orders route" [timeout = 10s] {
            median_orders_ms(demo::linked("net-latency"), 10).await?
        } => in 100..500;
    }
}

/// With the network link to its backend down, the orders route answers 503 at once rather than
/// hanging (each attempt is refused, so the retries end quickly), and it answers 200 again
/// once the rollbacks have removed the `down` toxic: that removal runs before the
/// experiment's own rollbacks, so a rollback probe sees the link back. (A steady state after
/// the method would still see the link down: the hypothesis is checked before it only.)
#[experiment(
    title = "orders answer 503 quickly while the backend link is down, and 200 once it is back",
    tags = ["network", "outage"],
    hypothesis = before_method_only,
    timeout = 30s,
)]
async fn backend_down_fails_fast(cx: &Context) {
    steady_state! {
        probe "orders answer 200" [timeout = 5s] {
            http::get(demo::linked("net-down").orders_url()).timeout(Duration::from_secs(4)).await?.status()
        } => == 200;
    }
    method! {
        action "take the backend link down" {
            demo::linked("net-down").tcp_proxy().add(cx, Toxic::down())?
        };
        probe "orders answer 503 within a second" [timeout = 10s] {
            let r = http::get(demo::linked("net-down").orders_url())
                .timeout(Duration::from_secs(8))
                .await?;
            (r.status(), r.latency().as_millis() as u64)
        } => |r: &(u16, u64)| r.0 == 503 && r.1 < 1000;
    }
    rollback! {
        // A rollback probe's tolerance is recorded, not enforced: an error fails the rollback.
        probe "orders answer 200 again" [timeout = 5s] {
            let r = http::get(demo::linked("net-down").orders_url())
                .timeout(Duration::from_secs(4))
                .await?;
            if r.status() != 200 {
                return Err(format!("GET /orders still answers {}: {}", r.status(), r.body()).into());
            }
            r.status()
        };
    }
}

/// The service's retries hide a flaky backend: an HTTP fault answers 503 instead of the
/// backend for half of its `/orders` calls, and at least 70% of 50 orders calls still answer
/// 200. A call fails only when its 4 attempts are all hit (1 in 16): the hypothesis misses by
/// bad luck once in about 30 million runs, while a service without retries (a call fails 1 in
/// 2) would meet it once in 300.
///
/// Which backend calls the fault hits is drawn from the run's seed, call by call in the order
/// they come: `CHAOS_SEED=<seed> cargo test -p chaos-examples --test experiments flaky`
/// replays a run's hits (the seed is in its verdict and journal; the journal's rollback
/// removing the fault records how many calls it hit).
#[experiment(
    title = "orders retries keep 70% of calls answering with half the backend calls failing",
    tags = ["network", "http-fault"],
    timeout = 60s,
)]
async fn flaky_backend_hidden_by_retries(cx: &Context) {
    steady_state! {
        probe "share of 50 orders calls answering 200" [timeout = 25s] {
            orders_success_rate(demo::linked("net-flaky"), 50).await
        } => >= 0.7;
    }
    method! {
        action "503 for half of the backend's /orders calls" {
            let fault = HttpFault::status(503).path("/orders").toxicity(0.5);
            demo::linked("net-flaky").http_proxy().add(cx, fault)?
        };
    }
}

/// The median latency, in ms, of `calls` calls to the orders route of `linked`; an error if
/// one does not answer 200.
async fn median_orders_ms(linked: &demo::Linked, calls: usize) -> Result<u64, BoxError> {
    let mut ms = Vec::with_capacity(calls);
    for _ in 0..calls {
        let r = http::get(linked.orders_url())
            .timeout(Duration::from_secs(5))
            .await?;
        if r.status() != 200 {
            return Err(format!("GET /orders answered {}: {}", r.status(), r.body()).into());
        }
        ms.push(r.latency().as_millis() as u64);
    }
    ms.sort_unstable();
    Ok(ms[calls / 2])
}

/// The share of `calls` calls to the orders route of `linked` that answer 200 (a call that
/// errors or times out counts as a failure).
async fn orders_success_rate(linked: &demo::Linked, calls: u32) -> f64 {
    let mut ok = 0;
    for _ in 0..calls {
        let r = http::get(linked.orders_url())
            .timeout(Duration::from_secs(6))
            .await;
        if r.is_ok_and(|r| r.status() == 200) {
            ok += 1;
        }
    }
    f64::from(ok) / f64::from(calls)
}

chaos_harness::main!();
