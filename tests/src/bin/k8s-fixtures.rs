//! Kubernetes experiments run as subprocesses by `tests/tests/e2e/k8s_journal.rs`: each gets a
//! simulated cluster of its own (the examples' fallback), so the journal, the verdict and seed
//! replay are checked end to end.

use chaos_harness::prelude::*;
use chaos_harness::Setup;

fn setup(s: &mut Setup) {
    // `K8S_FIXTURES_NO_FALLBACK=1` runs as a harness without a fallback cluster would.
    if std::env::var_os("K8S_FIXTURES_NO_FALLBACK").is_none() {
        s.extension(k8s::FallbackCluster(chaos_examples::cluster::simulated));
    }
}

chaos_harness::main!(
    chaostoolkit = ["ctk-fixtures/", "ctk-fixtures/compare/"],
    setup = setup
);

/// One `app=web` pod terminated at random: the choice goes to the journal.
#[experiment(title = "terminate one web pod", timeout = 30s)]
async fn terminate_one(cx: &Context) {
    method! {
        action "terminate one web pod" {
            let web = k8s::pods(cx, "demo").labeled("app=web");
            let names: Vec<String> = web.list().await?.into_iter().map(|p| p.key()).collect();
            let report = web.force().terminate(Select::random(1)).await?;
            let index = names.iter().position(|n| Some(n) == report.targets.first());
            serde_json::json!({ "matching": names, "index": index, "targets": report.targets })
        };
    }
}

/// An API error (the deployment does not exist) fails the activity with the API's reason.
#[experiment(title = "scale a deployment that does not exist", timeout = 30s)]
async fn missing_deployment(cx: &Context) {
    method! {
        action "scale nope" { k8s::deployment(cx, "demo", "nope").scale(1).await? };
    }
}

/// How many `app=marker` pods the cluster in use has (the tests put 7 in theirs): which
/// cluster an experiment reaches.
#[experiment(title = "count the marker pods", timeout = 30s)]
async fn count_markers(cx: &Context) {
    method! {
        probe "marker pods" { k8s::pods(cx, "demo").labeled("app=marker").count().await? };
    }
}

/// The crash-point sweep's experiments (`tests/tests/e2e/crash_sweep.rs`), run against a
/// simulated cluster (and, with the `aws` feature, a moto server) the test serves (`K8S_FIXTURES_NO_FALLBACK=1` and a settings file), so
/// that it outlives the harness the sweep kills.
mod sweep {
    #[cfg(feature = "aws")]
    use chaos_harness::aws;
    use chaos_harness::prelude::*;
    use std::io::Write;
    use std::time::Duration;

    /// Appends `line` to `<CHAOS_COUNT_DIR>/<file>`.
    fn note(cx: &Context, file: &str, line: &str) -> Result<(), BoxError> {
        let path = format!("{}/{file}", cx.var("CHAOS_COUNT_DIR")?);
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        writeln!(f, "{line}")?;
        Ok(())
    }

    /// A change only the rollback block undoes: `state` says `changed` until it runs.
    #[experiment(title = "sweep: a process-level rollback block", timeout = 30s)]
    async fn rollback_block(cx: &Context) {
        method! {
            action "change the state file" {
                std::fs::write(format!("{}/state", cx.var("CHAOS_COUNT_DIR")?), "changed")?
            };
        }
        rollback! {
            action "restore the state file" {
                std::fs::write(format!("{}/state", cx.var("CHAOS_COUNT_DIR")?), "restored")?;
                note(cx, "rollback.count", "rollback_block")?
            };
        }
    }

    /// `web` scaled from 3 to 1; the rollback block restores it.
    #[experiment(title = "sweep: scale a deployment", timeout = 30s)]
    async fn scale(cx: &Context) {
        method! {
            action "scale web to 1" { k8s::deployment(cx, "demo", "web").scale(1).await? };
        }
        rollback! {
            action "restore the scales" { k8s::restore_scales(cx).await? };
        }
    }

    /// As `scale`, then a wait of 30 s in the method: a harness killed from outside during the
    /// wait has its scale restored by its guardian (the `ledger` bench times that).
    #[experiment(title = "sweep: scale a deployment and hold", timeout = 60s)]
    async fn scale_and_hold(cx: &Context) {
        method! {
            action "scale web to 1" { k8s::deployment(cx, "demo", "web").scale(1).await? };
            pause 30s;
        }
        rollback! {
            action "restore the scales" { k8s::restore_scales(cx).await? };
        }
    }

    /// `node-2` cordoned; the rollback block uncordons it.
    #[experiment(title = "sweep: cordon a node", timeout = 30s)]
    async fn cordon(cx: &Context) {
        method! {
            action "cordon node-2" { k8s::node(cx, "node-2").cordon(Select::all()).await? };
        }
        rollback! {
            action "uncordon what was cordoned" { k8s::uncordon_cordoned(cx).await? };
        }
    }

    /// The instance tagged `Chaos=true` on the moto server the settings name, stopped; the
    /// rollback block starts it again.
    #[cfg(feature = "aws")]
    #[experiment(title = "sweep: stop an EC2 instance", timeout = 60s)]
    async fn ec2_stop(cx: &Context) {
        method! {
            action "stop the chaos instance" {
                let ec2 = aws::ec2(cx).await?;
                let chosen = ec2.instances().tag("Chaos", "true").choose(cx, Select::all()).await?;
                ec2.stop(cx, &chosen, true).await?
            };
        }
        rollback! {
            action "start what was stopped" { aws::ec2(cx).await?.start_stopped(cx).await? };
        }
    }

    /// One `web` pod terminated; the rollback block waits until all three are ready again.
    #[experiment(title = "sweep: terminate a pod", timeout = 30s)]
    async fn terminate(cx: &Context) {
        method! {
            action "terminate one web pod" {
                k8s::pods(cx, "demo").labeled("app=web").force().terminate(Select::count(1)).await?
            };
        }
        rollback! {
            action "wait for the web pods" {
                note(cx, "rollback.count", "terminate")?;
                k8s::pods(cx, "demo").labeled("app=web").wait_ready(3, Duration::from_secs(20)).await?
            };
        }
    }
}
