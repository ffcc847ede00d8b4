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

chaos_harness::main!(setup = setup);

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
