//! Each operation `touches` names makes the API calls its RBAC rules grant, and no others:
//! every operation is performed on its own against a fresh simulated cluster, as a harness runs
//! it (with a ledger, so its recovery markers are written, and the undo it registers), and its
//! request log (the Events the target writes aside: the manifests grant those per namespace)
//! is compared with its rules.

use super::*;
use chaos_harness::k8s::LogRead;
use chaos_harness::target::touches::{Operation, Scope};

async fn perform(op: Operation, cx: &Context) {
    use Operation::*;
    let web = || k8s::pods(cx, "demo").labeled("app=web");
    let ok = |r: Result<(), K8sError>| r.unwrap_or_else(|e| panic!("{op}: {e}"));
    ok(match op {
        PodsRead => web().ready_count().await.map(drop),
        PodsTerminate => web().force().terminate(Select::random(1)).await.map(drop),
        PodsEvict => web().evict(Select::random(1)).await.map(drop),
        PodsLogs => web().logs(&LogRead::default()).await.map(drop),
        DeploymentsRead => k8s::deployment(cx, "demo", "web").state().await.map(drop),
        DeploymentsScale => {
            async {
                k8s::deployment(cx, "demo", "web").scale(2).await?;
                k8s::restore_scales(cx).await.map(drop)
            }
            .await
        }
        DeploymentsRestart => k8s::deployment(cx, "demo", "web").restart().await,
        NodesRead => k8s::nodes(cx).list().await.map(drop),
        NodesCordon => {
            async {
                k8s::nodes(cx).cordon(Select::random(1)).await?;
                k8s::uncordon_cordoned(cx).await.map(drop)
            }
            .await
        }
        NodesDrain => k8s::nodes(cx)
            .drain_timeout(Duration::from_secs(20))
            .drain(Select::random(1))
            .await
            .map(drop),
        NodesDelete => k8s::nodes(cx).delete(Select::random(1)).await.map(drop),
    });
}

#[tokio::test]
async fn every_operation_makes_the_calls_its_rules_grant_and_no_others() {
    for op in Operation::ALL {
        let c = cluster();
        let cx = c.cx(11, "");
        // As a harness runs it: with a write-ahead ledger (so the recovery markers are
        // written) and the rollbacks the target registers.
        let op = *op;
        let exp = Experiment::builder(format!("touches::{op}"))
            .method(Action::new(op.name(), move |cx: Context| async move {
                perform(op, &cx).await;
                Ok(())
            }))
            .build()
            .expect("experiment");
        let ledger = tempfile::tempdir().expect("ledger dir");
        let report = Runner::new()
            .ledger(ledger.path().to_path_buf())
            .extension(k8s::ClusterEvents)
            .run(&exp, cx)
            .await;
        assert_eq!(report.outcome, Outcome::Passed, "{op}: {report:?}");
        // The Events the target writes aside (the manifests grant those per namespace).
        let used: BTreeSet<_> = c
            .sim
            .requests()
            .iter()
            .filter_map(crate::k8s_job::access)
            .filter(|(_, _, resource, _)| resource != "events")
            .collect();
        let mut granted = BTreeSet::new();
        for rule in op.rules() {
            for verb in rule.verbs {
                granted.insert((
                    rule.api_group.to_owned(),
                    rule.resource.to_owned(),
                    (*verb).to_owned(),
                    rule.scope,
                ));
            }
        }
        // Every call is granted: a namespaced rule in the operation's namespace, a
        // cluster-wide one anywhere.
        for (ns, g, r, v) in &used {
            let allowed = granted.iter().any(|(gg, rr, vv, scope)| {
                gg == g && rr == r && vv == v && (*scope == Scope::Cluster || ns == "demo")
            });
            assert!(
                allowed,
                "{op}: {v} {g}/{r} in {ns:?} is not in its rules {:?}",
                op.rules()
            );
        }
        // Every rule is used.
        for (g, r, v, _) in &granted {
            assert!(
                used.iter()
                    .any(|(_, ug, ur, uv)| ug == g && ur == r && uv == v),
                "{op}: its rule {v} {g}/{r} is never used: {used:?}"
            );
        }
    }
}
