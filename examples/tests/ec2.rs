//! The EC2 attacks of the seeds, as experiments: Chaos Toolkit's stop-ec2-by-id and Chaos
//! Monkey Engine's "terminate a random running instance matching filters" with exclusions.
//!
//! They need AWS settings (the standard chain: `AWS_REGION`, credentials, and optionally
//! `AWS_ENDPOINT_URL` or `[targets.aws]` in chaos.toml), so they are ignored by default:
//!
//! ```sh
//! AWS_REGION=eu-west-1 cargo test -p chaos-examples --features aws --test ec2 -- --include-ignored
//! ```
//!
//! By default they target running instances tagged `Chaos=true`; the variable `chaos_tag`
//! (`Key=Value`) changes the tag, `ec2_instance_ids` (comma-separated) names instances instead,
//! and instances tagged `Protected=true` are never chosen by the random attack. The test suite
//! runs them against a local moto server (`tests/tests/e2e/ec2_examples.rs`).

use chaos_harness::aws::{self, Targets};
use chaos_harness::prelude::*;
use chaos_harness::target::TargetContext;
use std::time::Duration;

/// The instances the experiments work on: `ec2_instance_ids`, else running instances tagged
/// with `chaos_tag` (default `Chaos=true`).
async fn fleet(cx: &Context) -> Result<Targets, BoxError> {
    let ec2 = aws::ec2(cx).await?;
    if let Ok(ids) = cx.var("ec2_instance_ids") {
        return Ok(ec2
            .instances()
            .ids(ids.split(',').map(str::trim).filter(|s| !s.is_empty())));
    }
    let tag = cx.var_or("chaos_tag", "Chaos=true");
    let (key, value) = tag
        .split_once('=')
        .ok_or_else(|| format!("chaos_tag `{tag}` is not Key=Value"))?;
    Ok(ec2.instances().tag(key, value).filter(
        "instance-state-name",
        ["running", "stopped", "stopping", "pending"],
    ))
}

/// Chaos Toolkit's stop-ec2-by-id: stop the target instance, check it stopped, start it again.
#[experiment(
    title = "stop-ec2-by-id: the fleet keeps a running instance while one is stopped",
    tags = ["aws", "ec2"],
    ignore = "needs AWS settings (see the file's header); the test suite runs it against moto",
    timeout = 5m,
)]
async fn stop_ec2_by_id(cx: &Context) {
    steady_state! {
        probe "running instances in the fleet" [timeout = 30s] {
            fleet(cx).await?.count_by_state().await?.get("running").copied().unwrap_or(0)
        } => >= 1;
    }
    method! {
        action "stop one instance" [timeout = 60s] {
            let ec2 = aws::ec2(cx).await?;
            let chosen = fleet(cx).await?.filter("instance-state-name", ["running"]).choose(cx, Select::random(1)).await?;
            ec2.stop(cx, &chosen, false).await?
        };
        probe "it stopped" [timeout = 2m] {
            let ec2 = aws::ec2(cx).await?;
            let stopped: Vec<String> = cx.recorded_targets().last().and_then(|t| serde_json::from_value(t["chosen"].clone()).ok()).unwrap_or_default();
            ec2.wait_for_state(&stopped, "stopped", Duration::from_secs(2), Duration::from_secs(100)).await?.len()
        } => == 1;
    }
    rollback! {
        action "start what was stopped" [timeout = 2m] { aws::ec2(cx).await?.start_stopped(cx).await? };
    }
}

/// Chaos Monkey Engine's attack: terminate a random running instance matching the filters,
/// never one tagged `Protected=true`.
#[experiment(
    title = "random-terminate: the fleet survives losing a random instance",
    tags = ["aws", "ec2", "chaos-monkey"],
    ignore = "needs AWS settings (see the file's header); the test suite runs it against moto",
    timeout = 5m,
)]
async fn terminate_random_instance(cx: &Context) {
    steady_state! {
        probe "at least two running instances" [timeout = 30s] {
            fleet(cx).await?.count_by_state().await?.get("running").copied().unwrap_or(0)
        } => >= 2;
    }
    method! {
        action "terminate a random running instance" [timeout = 60s] {
            let ec2 = aws::ec2(cx).await?;
            let chosen = fleet(cx)
                .await?
                .filter("instance-state-name", ["running"])
                .exclude_tag("Protected", "true")
                .choose(cx, Select::random(1))
                .await?;
            ec2.terminate(&chosen).await?
        };
    }
    rollback! {
        probe "fleet after the attack" [timeout = 30s] { fleet(cx).await?.count_by_state().await? };
    }
}

chaos_harness::main!(chaostoolkit_ignored = ["chaostoolkit/stop-ec2-by-id.yaml"]);
