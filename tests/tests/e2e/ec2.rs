//! The EC2 target against moto's server (each test starts its own): selection with filters,
//! exclusions and pagination; count and percentage choices; seed replay; every action and probe
//! with the state seen afterwards through the API; guards; dry-run; AWS error codes.
#![cfg(feature = "aws")]

use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};
use chaos_harness::aws::{self, AwsError, Ec2, Ec2Settings};
use chaos_harness::prelude::Select;
use chaos_harness::target::TargetContext;
use chaos_harness::Context;
use chaos_test_support::moto::Moto;
use chaos_test_support::receiver::{Answer, Receiver, Response};
use std::collections::BTreeMap;
use std::time::Duration;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Credentials for the SDK's chain (moto checks no signature). Set once, before any test of
/// this process reads the environment.
fn credentials() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        std::env::remove_var("AWS_PROFILE");
    });
}

fn settings(moto: &Moto, extra: &str) -> toml::Table {
    let text = format!(
        "[aws]\nregion = \"us-east-1\"\nendpoint_url = \"{}\"\n{extra}",
        moto.url()
    );
    text.parse().unwrap()
}

fn context(moto: &Moto, seed: u64, extra: &str) -> Context {
    Context::builder()
        .seed(seed)
        .target_settings(settings(moto, extra))
        .build()
}

async fn connect(moto: &Moto) -> Ec2 {
    Ec2::connect(Ec2Settings {
        region: Some("us-east-1".into()),
        endpoint_url: Some(moto.url()),
        ..Ec2Settings::default()
    })
    .await
    .unwrap()
}

/// Launches `n` instances with `tags`; returns their ids.
async fn launch(ec2: &Ec2, n: i32, tags: &[(&str, &str)]) -> Vec<String> {
    let image = ec2
        .client()
        .describe_images()
        .owners("amazon")
        .send()
        .await
        .unwrap()
        .images()
        .first()
        .and_then(|i| i.image_id())
        .unwrap_or("ami-12c6146b")
        .to_owned();
    let mut req = ec2
        .client()
        .run_instances()
        .image_id(image)
        .instance_type(aws_sdk_ec2::types::InstanceType::T2Micro)
        .min_count(n)
        .max_count(n);
    if !tags.is_empty() {
        let mut spec = TagSpecification::builder().resource_type(ResourceType::Instance);
        for (k, v) in tags {
            spec = spec.tags(Tag::builder().key(*k).value(*v).build());
        }
        req = req.tag_specifications(spec.build());
    }
    let out = req.send().await.unwrap();
    out.instances()
        .iter()
        .filter_map(|i| i.instance_id().map(str::to_owned))
        .collect()
}

async fn all_states(ec2: &Ec2) -> BTreeMap<String, String> {
    ec2.instances()
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|i| (i.id, i.state))
        .collect()
}

#[test]
fn filters_exclusions_and_every_page() {
    credentials();
    let moto = Moto::start();
    moto.reset();
    rt().block_on(async {
        let ec2 = connect(&moto).await;
        let chaos = launch(&ec2, 1190, &[("Chaos", "true")]).await;
        let protected = launch(&ec2, 10, &[("Chaos", "true"), ("Protected", "true")]).await;
        let other = launch(&ec2, 5, &[("Team", "db")]).await;
        let matching = ec2
            .instances()
            .tag("Chaos", "true")
            .filter("instance-state-name", ["running"]);
        let all = matching.list().await.unwrap();
        assert_eq!(
            all.len(),
            1200,
            "every page is read (more than one page of 1000)"
        );
        let kept = matching
            .clone()
            .exclude_tag("Protected", "true")
            .list()
            .await
            .unwrap();
        assert_eq!(kept.len(), 1190);
        assert!(kept.iter().all(|i| !protected.contains(&i.id)));
        assert!(kept
            .iter()
            .all(|i| i.tags["Chaos"] == "true" && i.state == "running"));
        let by_id = ec2.instances().ids(other.clone()).list().await.unwrap();
        assert_eq!(by_id.len(), 5);
        let az = &by_id[0].availability_zone.clone().unwrap();
        let in_az = ec2
            .instances()
            .filter("availability-zone", [az.as_str()])
            .list()
            .await
            .unwrap();
        assert_eq!(
            in_az.len(),
            1205,
            "moto puts every instance in one zone by default"
        );
        assert!(chaos.len() == 1190);
    });
}

#[test]
fn count_percent_and_seed_replay() {
    credentials();
    let moto = Moto::start();
    moto.reset();
    rt().block_on(async {
        let ec2 = connect(&moto).await;
        launch(&ec2, 40, &[("Chaos", "true")]).await;
        let targets = ec2.instances().tag("Chaos", "true");
        let pick = |seed: u64, choice: Select| {
            let targets = targets.clone();
            let cx = context(&moto, seed, "");
            async move { (targets.choose(&cx, choice).await.unwrap(), cx) }
        };
        let (a, cx) = pick(7, Select::random(3)).await;
        let (b, _) = pick(7, Select::random(3)).await;
        assert_eq!(a.ids().len(), 3);
        assert_eq!(a.ids(), b.ids(), "same seed, same instances: same choice");
        let others: Vec<Vec<String>> = [1u64, 2, 3, 4].iter().map(|_| Vec::new()).collect();
        let mut differs = false;
        for (seed, _) in [1u64, 2, 3, 4].iter().zip(others) {
            differs |= pick(*seed, Select::random(3)).await.0.ids() != a.ids();
        }
        assert!(differs, "other seeds choose otherwise");
        assert_eq!(a.matched, 40);
        let recorded = cx.recorded_targets();
        assert_eq!(recorded[0]["chosen"], serde_json::json!(a.ids()));
        assert_eq!(recorded[0]["matched"], 40);
        assert_eq!(pick(1, Select::percent(10.0)).await.0.chosen.len(), 4);
        assert_eq!(
            pick(1, Select::percent(11.0)).await.0.chosen.len(),
            5,
            "rounded up"
        );
        assert_eq!(
            pick(1, Select::percent(0.1)).await.0.chosen.len(),
            1,
            "at least one"
        );
        assert_eq!(pick(1, Select::all()).await.0.chosen.len(), 40);
        assert_eq!(pick(1, Select::random(100)).await.0.chosen.len(), 40);
    });
}

#[test]
fn actions_and_probes_change_and_see_the_state() {
    credentials();
    let moto = Moto::start();
    moto.reset();
    rt().block_on(async {
        let cx = context(&moto, 11, "");
        let ec2 = aws::ec2(&cx).await.unwrap();
        let ids = launch(&ec2, 4, &[("Chaos", "true")]).await;
        let targets = ec2.instances().tag("Chaos", "true");
        assert!(targets.all_running().await.unwrap());
        let chosen = targets.choose(&cx, Select::random(2)).await.unwrap();

        let stop = ec2.stop(&cx, &chosen, true).await.unwrap();
        assert_eq!(stop.ids, chosen.ids());
        assert!(
            stop.transitions.iter().all(|t| t.previous == "running"),
            "{:?}",
            stop.transitions
        );
        let states = ec2.states(chosen.ids()).await.unwrap();
        assert!(
            states.values().all(|s| s == "stopped" || s == "stopping"),
            "{states:?}"
        );
        ec2.wait_for_state(
            &chosen.ids(),
            "stopped",
            Duration::from_millis(100),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
        assert!(!targets.all_running().await.unwrap());
        let counts = targets.count_by_state().await.unwrap();
        assert_eq!(counts.get("stopped"), Some(&2));
        assert_eq!(counts.get("running"), Some(&2));

        // The rollback helper starts what was stopped, with no arguments.
        let started = ec2.start_stopped(&cx).await.unwrap();
        assert_eq!(started.ids, chosen.ids());
        ec2.wait_for_state(
            &chosen.ids(),
            "running",
            Duration::from_millis(100),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
        assert!(
            ec2.start_stopped(&cx).await.unwrap().ids.is_empty(),
            "started once"
        );

        let reboot = ec2.reboot(&chosen).await.unwrap();
        assert_eq!(reboot.ids, chosen.ids());
        assert!(ec2
            .states(chosen.ids())
            .await
            .unwrap()
            .values()
            .all(|s| s == "running"));

        let gone = ec2.terminate(&chosen).await.unwrap();
        assert!(gone
            .transitions
            .iter()
            .all(|t| t.current == "shutting-down" || t.current == "terminated"));
        ec2.wait_for_state(
            &chosen.ids(),
            "terminated",
            Duration::from_millis(100),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
        let rest: Vec<String> = ids
            .into_iter()
            .filter(|i| !chosen.ids().contains(i))
            .collect();
        assert!(ec2
            .states(rest.clone())
            .await
            .unwrap()
            .values()
            .all(|s| s == "running"));

        let err = ec2
            .wait_for_state(
                &rest,
                "stopped",
                Duration::from_millis(50),
                Duration::from_millis(200),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, AwsError::WaitTimeout { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("did not reach `stopped` within 200ms"),
            "{err}"
        );
    });
}

#[test]
fn guards_refuse_and_touch_nothing() {
    credentials();
    let moto = Moto::start();
    moto.reset();
    rt().block_on(async {
        let cx = context(
            &moto,
            3,
            "max_instances = 2\nrequired_tags = { Chaos = \"true\" }\n",
        );
        let ec2 = aws::ec2(&cx).await.unwrap();
        launch(&ec2, 3, &[("Chaos", "true")]).await;
        let untagged = launch(&ec2, 1, &[]).await;
        let before = all_states(&ec2).await;

        let three = ec2
            .instances()
            .tag("Chaos", "true")
            .choose(&cx, Select::all())
            .await
            .unwrap();
        let err = ec2.stop(&cx, &three, false).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "refused to stop 3 instance(s): max_instances = 2 in [targets.aws]; nothing was touched"
        );
        let lone = ec2
            .instances()
            .ids(untagged.clone())
            .choose(&cx, Select::all())
            .await
            .unwrap();
        let err = ec2.terminate(&lone).await.unwrap_err();
        assert!(
            err.to_string().contains(&format!(
                "instance {} lacks the required tag Chaos=true",
                untagged[0]
            )),
            "{err}"
        );
        assert_eq!(all_states(&ec2).await, before, "nothing was touched");
    });
}

#[test]
fn dry_run_records_the_selection_and_touches_nothing() {
    credentials();
    let moto = Moto::start();
    moto.reset();
    rt().block_on(async {
        let cx = context(&moto, 5, "dry_run = true\n");
        let ec2 = aws::ec2(&cx).await.unwrap();
        launch(&ec2, 5, &[("Chaos", "true")]).await;
        let before = all_states(&ec2).await;
        let chosen = ec2
            .instances()
            .tag("Chaos", "true")
            .choose(&cx, Select::random(2))
            .await
            .unwrap();
        for report in [
            ec2.stop(&cx, &chosen, false).await.unwrap(),
            ec2.reboot(&chosen).await.unwrap(),
            ec2.terminate(&chosen).await.unwrap(),
        ] {
            assert!(report.dry_run);
            assert_eq!(report.ids, chosen.ids());
            assert!(report.transitions.is_empty());
        }
        assert_eq!(
            all_states(&ec2).await,
            before,
            "state compared before and after"
        );
        let recorded = cx.recorded_targets();
        assert_eq!(recorded[0]["dry_run"], true);
        assert_eq!(recorded[0]["chosen"], serde_json::json!(chosen.ids()));
    });
}

#[test]
fn unknown_ids_fail_with_the_aws_error_code() {
    credentials();
    let moto = Moto::start();
    moto.reset();
    rt().block_on(async {
        let ec2 = connect(&moto).await;
        let err = ec2
            .states(["i-0123456789abcdef0"])
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("EC2 DescribeInstances failed: InvalidInstanceID.NotFound"),
            "{err}"
        );
        let cx = context(&moto, 1, "max_instances = \"two\"\n");
        let err = aws::ec2(&cx).await.unwrap_err().to_string();
        assert_eq!(
            err,
            "settings [targets.aws]: `max_instances` must be a non-negative integer"
        );
    });
}

/// A fake EC2 endpoint answering every request with an error (its `requests()` count them).
fn failing_endpoint(status: u16, code: &'static str) -> Receiver {
    Receiver::start(Answer::with(move |_| {
        Response::new(status)
            .header("content-type", "text/xml")
            .body(format!(
                "<Response><Errors><Error><Code>{code}</Code><Message>{code} from the fake endpoint</Message></Error></Errors><RequestID>r-1</RequestID></Response>"
            ))
    }))
}

#[test]
fn throttling_is_retried_with_backoff_and_other_errors_are_not() {
    credentials();
    rt().block_on(async {
        let endpoint = failing_endpoint(503, "RequestLimitExceeded");
        let ec2 = Ec2::connect(Ec2Settings {
            region: Some("us-east-1".into()),
            endpoint_url: Some(endpoint.url()),
            ..Ec2Settings::default()
        })
        .await
        .unwrap();
        let started = std::time::Instant::now();
        let err = ec2.instances().list().await.unwrap_err().to_string();
        assert!(
            err.starts_with("EC2 DescribeInstances failed: RequestLimitExceeded"),
            "{err}"
        );
        assert_eq!(endpoint.requests().len(), 5, "retried up to 5 attempts");
        assert!(
            started.elapsed() >= Duration::from_millis(200),
            "with backoff"
        );

        let endpoint = failing_endpoint(403, "UnauthorizedOperation");
        let ec2 = Ec2::connect(Ec2Settings {
            region: Some("us-east-1".into()),
            endpoint_url: Some(endpoint.url()),
            ..Ec2Settings::default()
        })
        .await
        .unwrap();
        let err = ec2.instances().list().await.unwrap_err().to_string();
        assert!(
            err.starts_with("EC2 DescribeInstances failed: UnauthorizedOperation"),
            "{err}"
        );
        assert_eq!(
            endpoint.requests().len(),
            1,
            "a permission error is not retried"
        );
    });
}
