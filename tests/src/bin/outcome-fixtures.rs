//! Experiments that end in each of the eight outcomes, and in the edge cases the integration
//! tests check. Run by `tests/outcomes.rs` as a subprocess, one experiment at a time.

use chaos_harness::prelude::*;
use chaos_tests::{count, stamp, wait_for_stamp};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

static BROKEN: AtomicU32 = AtomicU32::new(0);

#[experiment(title = "everything holds")]
async fn passed(cx: &Context) {
    steady_state! {
        probe "one is one" { 1 } => == 1;
    }
    method! {
        action "count method" { count(cx, "method")? };
    }
    rollback! {
        action "count rollback" { count(cx, "rollback")? };
    }
}

#[experiment]
async fn baseline_not_met(cx: &Context) {
    steady_state! {
        probe "first misses" { 2 } => == 1;
        probe "second holds" { "ok".to_string() } => == "ok";
        probe "third misses" { 7u64 } => in 1..5;
    }
    method! {
        action "count method" { count(cx, "method")? };
    }
    rollback! {
        action "count rollback" { count(cx, "rollback")? };
    }
}

#[experiment]
async fn deviated(cx: &Context) {
    steady_state! {
        probe "nothing is broken" { BROKEN.load(Ordering::SeqCst) } => == 0;
    }
    method! {
        action "break something" { BROKEN.store(1, Ordering::SeqCst) };
    }
    rollback! {
        action "count rollback" { count(cx, "rollback")? };
    }
}

#[experiment(weight = 4)]
async fn method_probe_deviates(cx: &Context) {
    method! {
        probe "latency" { 750u32 } => < 500;
        action "count method" { count(cx, "method")? };
    }
    rollback! {
        action "count rollback" { count(cx, "rollback")? };
    }
}

#[experiment]
async fn activity_failed(cx: &Context) {
    steady_state! {
        probe "one is one" { 1 } => == 1;
    }
    method! {
        action "fails" { Err::<(), _>(std::io::Error::other("connection refused by target"))? };
        action "never runs" { count(cx, "after_failure")? };
    }
    rollback! {
        action "count rollback" { count(cx, "rollback")? };
    }
}

#[experiment]
async fn rollback_failed(cx: &Context) {
    method! {
        action "count method" { count(cx, "method")? };
    }
    rollback! {
        action "rollback fails" { Err::<(), _>(std::io::Error::other("could not restore replicas"))? };
        action "second rollback still runs" { count(cx, "rollback")? };
    }
}

#[experiment(timeout = 300ms)]
async fn aborted(cx: &Context) {
    method! {
        action "hangs" { tokio::time::sleep(Duration::from_secs(30)).await };
    }
    rollback! {
        action "count rollback" { count(cx, "rollback")? };
    }
}

#[experiment(hypothesis = continuously(every = 50ms, fail_fast))]
async fn aborted_fail_fast(cx: &Context) {
    steady_state! {
        probe "nothing is broken" { BROKEN.load(Ordering::SeqCst) } => == 0;
    }
    method! {
        pause 100ms;
        action "break something" { BROKEN.store(1, Ordering::SeqCst) };
        pause 10s;
        action "never runs" { count(cx, "after_fail_fast")? };
    }
    rollback! {
        action "count rollback" { count(cx, "rollback")? };
    }
}

#[experiment]
async fn interrupted(cx: &Context) {
    method! {
        action "mark started, then hang" {
            count(cx, "started")?;
            tokio::time::sleep(Duration::from_secs(30)).await
        };
    }
    rollback! {
        action "count rollback" { count(cx, "rollback")? };
    }
}

/// A proxy fault in place when a signal arrives: the rollbacks remove it, with no rollback
/// written.
#[experiment]
async fn proxy_interrupted(cx: &Context) {
    method! {
        action "slow the link, mark started, then hang" {
            let upstream = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let link = Proxy::listen("link", upstream.local_addr()?.to_string()).await?;
            link.add(cx, Toxic::latency(Duration::from_secs(1)))?;
            count(cx, "started")?;
            tokio::time::sleep(Duration::from_secs(30)).await
        };
    }
}

#[experiment]
async fn error(cx: &Context) {
    steady_state! {
        probe "needs a variable" { cx.var("CHAOS_FIXTURE_NOT_SET")?.len() } => > 0;
    }
    method! {
        action "count method" { count(cx, "method")? };
    }
    rollback! {
        action "count rollback" { count(cx, "rollback")? };
    }
}

#[experiment]
async fn error_in_method(cx: &Context) {
    method! {
        action "count method" { count(cx, "method")? };
        action "needs a variable" { cx.var("CHAOS_FIXTURE_NOT_SET")? };
    }
    rollback! {
        action "count rollback" { count(cx, "rollback")? };
    }
}

#[experiment]
async fn activity_timeout(cx: &Context) {
    method! {
        action "sleeps past its timeout" [timeout = 200ms] { tokio::time::sleep(Duration::from_secs(5)).await };
    }
    rollback! {
        action "count rollback" { count(cx, "rollback")? };
    }
}

#[experiment]
async fn panicking_action(cx: &Context) {
    method! {
        action "panics" {
            let v: Vec<u32> = Vec::new();
            if v.is_empty() { panic!("the target vanished") }
        };
    }
    rollback! {
        action "count rollback" { count(cx, "rollback")? };
    }
}

#[experiment(rollbacks = never)]
async fn rollbacks_never(cx: &Context) {
    method! {
        action "fails" { Err::<(), _>(std::io::Error::other("boom"))? };
    }
    rollback! {
        action "count rollback" { count(cx, "rollback")? };
    }
}

#[experiment(rollbacks = deviated)]
async fn rollbacks_deviated_only(cx: &Context) {
    method! {
        action "count method" { count(cx, "method")? };
    }
    rollback! {
        action "count rollback" { count(cx, "rollback")? };
    }
}

#[experiment]
async fn background_joined(cx: &Context) {
    method! {
        action "slow in the background" [background] {
            tokio::time::sleep(Duration::from_millis(300)).await;
            count(cx, "background")?
        };
        action "foreground" { count(cx, "foreground")? };
    }
}

#[experiment(hypothesis = during_method_only(every = 50ms))]
async fn sampled_during(cx: &Context) {
    steady_state! {
        probe "one is one" { 1 } => == 1;
    }
    method! {
        action "count method" { count(cx, "method")? };
        pause 320ms;
    }
}

#[experiment(expect = activity_failed)]
async fn expected_failure(cx: &Context) {
    method! {
        action "fails" { Err::<(), _>(std::io::Error::other("boom"))? };
    }
}

#[experiment(expect = deviated)]
async fn expectation_missed(cx: &Context) {
    method! {
        action "count method" { count(cx, "method")? };
    }
}

#[experiment(ignore = "needs a cluster")]
async fn ignored(cx: &Context) {
    method! {
        action "count method" { count(cx, "method")? };
    }
}

#[experiment]
async fn seeded(cx: &Context) {
    method! {
        action "draw" { cx.with_rng(|r| r.choose_indices(100, 3)) };
    }
}

#[experiment(snapshot)]
async fn snapshotted(cx: &Context) {
    steady_state! {
        probe "one is one" { 1 } => == 1;
    }
    method! {
        action "say a word" { cx.var_or("SNAPSHOT_WORD", "hello") };
    }
}

// Two experiments of the default exclusion group: they must never overlap, rollbacks
// included (the run stamps its start in the method and its end in the rollback).
#[experiment]
async fn one_at_a_time_a(cx: &Context) {
    method! {
        action "start" { stamp(cx, "start")?; tokio::time::sleep(Duration::from_millis(400)).await };
    }
    rollback! {
        action "end" { tokio::time::sleep(Duration::from_millis(100)).await; stamp(cx, "end")? };
    }
}

#[experiment]
async fn one_at_a_time_b(cx: &Context) {
    method! {
        action "start" { stamp(cx, "start")?; tokio::time::sleep(Duration::from_millis(400)).await };
    }
    rollback! {
        action "end" { tokio::time::sleep(Duration::from_millis(100)).await; stamp(cx, "end")? };
    }
}

// Two experiments that opted out of the default group, one `parallel`, one in a group of its
// own: each waits, in its method, for the other to have started, so they pass only if they
// overlap.
#[experiment(parallel)]
async fn side_by_side_a(cx: &Context) {
    method! {
        action "start" { stamp(cx, "start")? };
        action "meet the other" {
            wait_for_stamp(cx, "outcome_fixtures::side_by_side_b", "start", Duration::from_secs(20)).await?
        };
    }
    rollback! {
        action "end" { stamp(cx, "end")? };
    }
}

#[experiment(group = "side-by-side")]
async fn side_by_side_b(cx: &Context) {
    method! {
        action "start" { stamp(cx, "start")? };
        action "meet the other" {
            wait_for_stamp(cx, "outcome_fixtures::side_by_side_a", "start", Duration::from_secs(20)).await?
        };
    }
    rollback! {
        action "end" { stamp(cx, "end")? };
    }
}

chaos_harness::main!();

/// The undo of `killed_after_a_durable_change`: appends a line to the file its record names.
fn restore_marker(
    data: serde_json::Value,
    _cx: Context,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<serde_json::Value, BoxError>> + Send>>
{
    Box::pin(async move {
        use std::io::Write;
        let path = data["path"]
            .as_str()
            .ok_or("the record names no path")?
            .to_owned();
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?;
        writeln!(f, "restored")?;
        Ok(serde_json::Value::String(path))
    })
}
chaos_harness::undo_kind!("fixture.restore", restore_marker);

#[experiment]
async fn killed_after_a_durable_change(cx: &Context) {
    method! {
        action "change durably, then die by SIGKILL" {
            use chaos_harness::target::TargetContext;
            let path = format!("{}/restored.count", cx.var("CHAOS_COUNT_DIR")?);
            let record = chaos_harness::ledger::UndoRecord::new(
                "fixture.restore",
                "restore the marker",
                serde_json::json!({ "path": path }),
            );
            let intent = cx.intend(record)?;
            count(cx, "changed")?;
            intent.applied()?;
            std::process::Command::new("kill")
                .args(["-KILL", &std::process::id().to_string()])
                .status()?;
            tokio::time::sleep(Duration::from_secs(30)).await
        };
    }
    rollback! {
        action "count rollback" { count(cx, "rollback")? };
    }
}
