//! The EC2 example experiments (`examples/tests/ec2.rs`) run against moto: instances tagged
//! `Chaos=true` (and one `Protected=true` that the random attack must spare) are created, the
//! example harness runs with the AWS environment pointing at moto, and the journals and the
//! instances' states are checked.
#![cfg(feature = "aws")]

use chaos_test_support::moto::Moto;
use std::collections::BTreeMap;
use std::process::Command;

/// Launches `n` instances tagged `tags` through the EC2 Query API; returns their ids.
fn launch(moto: &Moto, n: u32, tags: &[(&str, &str)]) -> Vec<String> {
    let mut q = format!(
        "Action=RunInstances&Version=2016-11-15&ImageId=ami-12c6146b&InstanceType=t2.micro&MinCount={n}&MaxCount={n}"
    );
    if !tags.is_empty() {
        q.push_str("&TagSpecification.1.ResourceType=instance");
        for (i, (k, v)) in tags.iter().enumerate() {
            q.push_str(&format!(
                "&TagSpecification.1.Tag.{}.Key={k}&TagSpecification.1.Tag.{}.Value={v}",
                i + 1,
                i + 1
            ));
        }
    }
    let (status, body) = moto.ec2_query(&q);
    assert_eq!(status, 200, "{body}");
    body.split("<instanceId>")
        .skip(1)
        .filter_map(|s| s.split("</instanceId>").next())
        .map(str::to_owned)
        .collect()
}

fn states(moto: &Moto) -> BTreeMap<String, String> {
    let (_, body) = moto.ec2_query("Action=DescribeInstances&Version=2016-11-15");
    let mut out = BTreeMap::new();
    for item in body.split("<instanceId>").skip(1) {
        let id = item
            .split("</instanceId>")
            .next()
            .unwrap_or_default()
            .to_owned();
        let state = item
            .split("<instanceState>")
            .nth(1)
            .and_then(|s| s.split("<name>").nth(1))
            .and_then(|s| s.split("</name>").next())
            .unwrap_or_default()
            .to_owned();
        out.insert(id, state);
    }
    out
}

fn run_examples(
    moto: &Moto,
    filter: &str,
    journals: &std::path::Path,
    env: &[(&str, &str)],
) -> std::process::Output {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .args([
            "nextest",
            "run",
            "-p",
            "chaos-examples",
            "--features",
            "aws",
            "--test",
            "ec2",
        ])
        .args([
            "--run-ignored",
            "all",
            "--no-fail-fast",
            "-E",
            &format!("test({filter})"),
        ])
        .env("CHAOS_JOURNAL_DIR", journals)
        .env("CHAOS_SEED", "42");
    for (k, v) in moto.env() {
        cmd.env(k, v);
    }
    cmd.envs(env.iter().copied());
    cmd.output().expect("cargo nextest runs")
}

#[test]
fn the_ec2_examples_run_against_moto() {
    let moto = Moto::start();
    moto.reset();
    let fleet = launch(&moto, 3, &[("Chaos", "true")]);
    let protected = launch(&moto, 1, &[("Chaos", "true"), ("Protected", "true")]);
    let bystander = launch(&moto, 2, &[("Team", "db")]);
    let journals = tempfile::tempdir().unwrap();

    let out = run_examples(&moto, "stop_ec2_by_id", journals.path(), &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(journals.path().join("ec2__stop_ec2_by_id.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(j["outcome"], "passed");
    let text = j.to_string();
    assert!(
        !text.contains("AWS_SECRET") && !text.contains("\"testing\""),
        "no credentials in the journal"
    );
    let stopped = j["targets"][0]["chosen"][0].as_str().unwrap().to_owned();
    assert!(fleet.contains(&stopped) || protected.contains(&stopped));
    assert_eq!(j["run"][0]["output"]["action"], "stop");
    assert_eq!(
        j["rollbacks"][0]["output"]["ids"][0], stopped,
        "the rollback started what was stopped"
    );
    assert!(
        states(&moto).values().all(|s| s == "running"),
        "rolled back: {:?}",
        states(&moto)
    );

    let out = run_examples(&moto, "terminate_random_instance", journals.path(), &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(journals.path().join("ec2__terminate_random_instance.json"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(j["outcome"], "passed");
    let gone = j["targets"][0]["chosen"][0].as_str().unwrap().to_owned();
    assert!(
        fleet.contains(&gone),
        "a Chaos=true instance, never the protected one"
    );
    assert_eq!(
        j["targets"][0]["matched"], 3,
        "the protected instance is excluded"
    );
    let after = states(&moto);
    assert!(
        after[&gone] == "terminated" || after[&gone] == "shutting-down",
        "{after:?}"
    );
    for id in protected.iter().chain(&bystander) {
        assert_eq!(after[id], "running", "{id} untouched");
    }

    // The Chaos Toolkit demo's stop-ec2-by-id, unchanged (`examples/chaostoolkit/`), pointed
    // at moto and the demo service by the environment its configuration reads.
    let svc = chaos_examples::demo::DemoService::start().expect("the demo service starts");
    let target = bystander[1].clone();
    let url = svc.url();
    let out = run_examples(
        &moto,
        "stop-ec2-by-id",
        journals.path(),
        &[
            ("APPLICATION_ENTRYPOINT_URL", url.as_str()),
            ("EC2_INSTANCE_ID", target.as_str()),
            ("AVAILABILITY_ZONE", "us-east-1a"),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(journals.path().join("chaostoolkit__stop-ec2-by-id.json"))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(j["outcome"], "passed", "{j:#}");
    assert_eq!(
        j["run"][0]["output"][0]["StoppingInstances"][0]["InstanceId"],
        target.as_str()
    );
    // It has no rollbacks: the instance stays stopped, as under Chaos Toolkit.
    assert_eq!(states(&moto)[&target], "stopped");
}
