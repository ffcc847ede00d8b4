//! Which pods and nodes a selection reaches, and seeded, recorded choices.

use super::*;

#[tokio::test]
async fn selection_by_labels_fields_and_names_over_pages() {
    let c = cluster();
    c.sim.add_pods("demo", "batch", 1_205, &[("app", "batch")]);
    let cx = c.cx(1, "");
    let batch = k8s::pods(&cx, "demo").labeled("app=batch").page_size(500);
    c.sim.clear_requests();
    let all = batch.list().await.expect("list");
    assert_eq!(all.len(), 1_205);
    assert_eq!(c.requests("GET", "/pods"), 3, "three pages of 500");
    assert!(c
        .sim
        .requests()
        .iter()
        .any(|r| r.query.contains("continue=")));
    assert!(
        all.windows(2).all(|w| w[0].name < w[1].name),
        "sorted by name"
    );

    let web = k8s::pods(&cx, "demo").labeled("app=web");
    assert_eq!(web.count().await.expect("count"), 3);
    let set_based = k8s::pods(&cx, "demo").labeled("tier in (frontend,backend),app!=batch");
    assert_eq!(set_based.count().await.expect("count"), 3);
    let running = k8s::pods(&cx, "demo")
        .fields("status.phase=Running")
        .count()
        .await
        .expect("count");
    assert_eq!(running, 1_208);
    let named = k8s::pods(&cx, "demo")
        .name_matches("batch-0000?")
        .count()
        .await
        .expect("count");
    assert_eq!(named, 10);
    let every_ns = k8s::pods(&cx, "*")
        .labeled("app=web")
        .count()
        .await
        .expect("count");
    assert_eq!(every_ns, 3);

    let err = k8s::pods(&cx, "demo")
        .fields("spec.bogus=1")
        .count()
        .await
        .expect_err("unsupported field");
    assert!(
        matches!(&err, K8sError::Api { code: 400, reason, .. } if reason == "BadRequest"),
        "{err}"
    );
}

#[tokio::test]
async fn choices_are_seeded_rounded_up_and_recorded() {
    let c = cluster();
    c.sim.add_pods("demo", "batch", 50, &[("app", "batch")]);
    fn batch(cx: &Context) -> k8s::Pods<'_> {
        k8s::pods(cx, "demo").labeled("app=batch")
    }
    let names = |s: &chaos_harness::target::Selection<k8s::PodInfo>| {
        s.chosen.iter().map(|p| p.name.clone()).collect::<Vec<_>>()
    };

    let cx = c.cx(42, "");
    let a = batch(&cx).choose(Select::random(5)).await.expect("choose");
    let again = batch(&c.cx(42, ""))
        .choose(Select::random(5))
        .await
        .expect("choose");
    let other = batch(&c.cx(43, ""))
        .choose(Select::random(5))
        .await
        .expect("choose");
    assert_eq!(names(&a), names(&again), "same seed, same pods");
    assert_ne!(names(&a), names(&other), "another seed, other pods");
    assert_eq!(a.matched, 50);

    let pct = batch(&cx)
        .choose(Select::percent(11.0))
        .await
        .expect("choose");
    assert_eq!(pct.chosen.len(), 6, "11% of 50 is 5.5, rounded up");
    let all = batch(&cx).choose(Select::all()).await.expect("choose");
    assert_eq!(all.chosen.len(), 50);

    assert!(c
        .sim
        .set_pod_age("demo", "batch-00031", Duration::from_secs(3_600)));
    assert!(c
        .sim
        .set_pod_age("demo", "batch-00007", Duration::from_secs(7_200)));
    let oldest = batch(&cx).choose(Select::oldest(2)).await.expect("choose");
    assert_eq!(names(&oldest), ["batch-00007", "batch-00031"]);
    let oldest_pct = batch(&cx)
        .choose(Select::percent(2.0).oldest_first())
        .await
        .expect("choose");
    assert_eq!(names(&oldest_pct), ["batch-00007"]);

    let recorded = cx.recorded_targets();
    assert_eq!(recorded.len(), 5);
    assert_eq!(recorded[0]["target"], "k8s-pods");
    assert_eq!(recorded[0]["label_selector"], "app=batch");
    assert_eq!(recorded[0]["matched"], 50);
    assert_eq!(recorded[0]["choice"], "random 5");
    assert_eq!(recorded[0]["chosen"].as_array().map(Vec::len), Some(5));
    assert_eq!(recorded[3]["choice"], "oldest 2");
}
