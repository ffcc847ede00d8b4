//! The example experiments. Run them with `cargo test -p chaos-examples`; each runs against its
//! own instance of the in-process demo service unless `service_url` is set.

use chaos_examples::demo;
use chaos_harness::prelude::*;

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

chaos_harness::main!();
