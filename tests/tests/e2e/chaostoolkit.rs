//! Chaos Toolkit experiment files as trials of a harness (`main!(chaostoolkit = [...])` in
//! `k8s-fixtures`, files in `tests/ctk-fixtures/`): run, journalled with the file's keys,
//! secrets redacted, invalid files failing with every problem, manifests with their
//! resource's environment.

use chaos_tests::{command, result, run_exact};

const EXE: &str = env!("CARGO_BIN_EXE_k8s-fixtures");

#[test]
fn a_file_with_http_and_process_providers_runs_as_a_trial_and_its_secret_is_written_nowhere() {
    let svc = chaos_examples::demo::DemoService::start().expect("the demo service starts");
    let tmp = tempfile::tempdir().expect("tempdir");
    let r = run_exact(
        EXE,
        tmp.path(),
        "ctk-fixtures::http-and-process",
        &[("CTK_SERVICE_URL", &svc.url())],
    );
    assert_eq!(r.code, Some(0), "{}", r.all_output());
    let j = r.journal("ctk-fixtures::http-and-process");
    assert_eq!(j["outcome"], "passed", "{j:#}");
    assert_eq!(
        j["experiment"]["title"],
        "the service answers while we touch a file"
    );
    assert_eq!(
        j["experiment"]["configuration"]["service_url"]["key"],
        "CTK_SERVICE_URL"
    );
    let before = &j["steady_states"]["before"]["probes"][0];
    assert_eq!(before["activity"]["provider"]["type"], "http");
    assert_eq!(before["output"]["status"], 200);
    assert_eq!(j["run"][1]["tolerance_met"], true, "{j:#}");
    assert_eq!(j["rollbacks"][0]["activity"]["name"], "remove-the-file");
    // The rollback removed what the method wrote.
    assert!(!r.count_dir.join("ctk.count").exists());
    // The secret went through the process and back, and was redacted everywhere.
    let text = std::fs::read_to_string(r.journal_dir.join("ctk-fixtures__http-and-process.json"))
        .expect("journal");
    assert!(!text.contains("s3cr3t-fixture-token"), "{text}");
    assert!(text.contains("touched ***"), "{text}");
    assert!(!r.all_output().contains("s3cr3t-fixture-token"));
}

#[test]
fn an_invalid_file_is_a_failing_trial_naming_every_problem_with_its_line() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let r = run_exact(EXE, tmp.path(), "ctk-fixtures::misspelled", &[]);
    assert_ne!(r.code, Some(0), "{}", r.all_output());
    let out = r.all_output();
    for part in [
        "misspelled.json: not a valid Chaos Toolkit experiment (3 problems)",
        "line 4: steady - state - hypothesis: unknown key `steady - state - hypothesis`",
        "did you mean `steady-state-hypothesis`?",
        "line 12: method[0].provider.expected_status: unknown key `expected_status`",
        "line 16: rollback: unknown key `rollback`: did you mean `rollbacks`?",
    ] {
        assert!(out.contains(part), "{part}\n{out}");
    }
    let j = r.journal("ctk-fixtures::misspelled");
    assert_eq!(j["outcome"], "error", "{j:#}");
    assert!(
        j["run"].as_array().is_some_and(Vec::is_empty),
        "nothing ran: {j:#}"
    );
}

#[test]
fn a_manifest_runs_with_its_resources_environment_under_the_processs() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let r = run_exact(EXE, tmp.path(), "ctk-fixtures::manifest", &[]);
    assert_eq!(r.code, Some(0), "{}", r.all_output());
    let j = r.journal("ctk-fixtures::manifest");
    assert_eq!(
        j["steady_states"]["before"]["probes"][0]["output"]["stdout"],
        "chaos"
    );
    let r = run_exact(
        EXE,
        tmp.path(),
        "ctk-fixtures::manifest",
        &[("WORD", "order")],
    );
    let j = r.journal("ctk-fixtures::manifest");
    assert_eq!(j["outcome"], "baseline-not-met", "{j:#}");
}

#[test]
fn the_files_are_listed_as_tests_beside_the_rust_experiments() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut cmd, jd, cd) = command(EXE, tmp.path());
    let r = result(cmd.arg("--list").output().expect("lists"), jd, cd);
    assert_eq!(r.code, Some(0), "{}", r.all_output());
    for name in [
        "ctk-fixtures::http-and-process: test",
        "ctk-fixtures::manifest: test",
        "ctk-fixtures::misspelled: test",
        "k8s_fixtures::terminate_one: test",
    ] {
        assert!(r.stdout.lines().any(|l| l == name), "{name}\n{}", r.stdout);
    }
}

#[test]
fn chaosk8s_functions_run_natively_on_the_cluster() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let r = run_exact(EXE, tmp.path(), "ctk-fixtures::k8s-functions", &[]);
    assert_eq!(r.code, Some(0), "{}", r.all_output());
    let j = r.journal("ctk-fixtures::k8s-functions");
    assert_eq!(j["outcome"], "passed", "{j:#}");
    let killed = j["run"][0]["output"].as_array().expect("the pods' names");
    assert_eq!(killed.len(), 1, "{j:#}");
    assert!(
        killed[0].as_str().is_some_and(|n| n.starts_with("web-")),
        "{j:#}"
    );
    assert_eq!(j["run"][1]["tolerance_met"], true, "{j:#}");
    // The deprecated wrapper gives what the function it calls gives (chaosk8s's wrapper
    // drops it and returns None, so its own README example's `tolerance: true` fails).
    assert_eq!(j["steady_states"]["before"]["probes"][1]["output"], true);
    assert_eq!(j["run"][4]["output"], true);
    // The selection is recorded as any target's.
    assert!(
        j["targets"].as_array().is_some_and(|t| !t.is_empty()),
        "{j:#}"
    );
}

#[cfg(feature = "aws")]
#[test]
fn chaosaws_functions_run_natively_against_moto() {
    let moto = chaos_test_support::moto::Moto::start();
    let (code, body) = moto.ec2_query(
        "Action=RunInstances&Version=2016-11-15&ImageId=ami-12c6146b&InstanceType=t2.micro\
         &MinCount=1&MaxCount=1&TagSpecification.1.ResourceType=instance\
         &TagSpecification.1.Tag.1.Key=Chaos&TagSpecification.1.Tag.1.Value=true",
    );
    assert_eq!(code, 200, "{body}");
    let id = body
        .split("<instanceId>")
        .nth(1)
        .and_then(|s| s.split("</instanceId>").next())
        .expect("an instance id")
        .to_owned();
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut env: Vec<(&str, String)> = moto.env();
    env.push(("EC2_INSTANCE_ID", id.clone()));
    env.push(("AVAILABILITY_ZONE", "us-east-1a".into()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = run_exact(EXE, tmp.path(), "ctk-fixtures::ec2-functions", &env);
    assert_eq!(r.code, Some(0), "{}", r.all_output());
    let j = r.journal("ctk-fixtures::ec2-functions");
    assert_eq!(j["outcome"], "passed", "{j:#}");
    let stopping = &j["run"][0]["output"][0]["StoppingInstances"][0];
    assert_eq!(stopping["InstanceId"], id.as_str(), "{j:#}");
    assert_eq!(stopping["PreviousState"]["Name"], "running");
    assert_eq!(j["run"][1]["output"], true);
    assert_eq!(j["run"][2]["output"][0]["InstanceId"], id.as_str(), "{j:#}");
    let (_, described) = moto.ec2_query(&format!(
        "Action=DescribeInstances&Version=2016-11-15&InstanceId.1={id}"
    ));
    assert!(described.contains("<name>running</name>"), "{described}");
    // Started again by the experiment: its recovery marker is gone too.
    assert!(
        !described.contains(chaos_harness::target::marker::TAG),
        "{described}"
    );
}

#[test]
fn the_settings_variables_give_declared_configuration_keys() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let settings = tmp.path().join("chaos.toml");
    std::fs::write(
        &settings,
        "[variables]\nword = \"order\"\nundeclared = \"x\"\n",
    )
    .expect("write");
    let r = run_exact(
        EXE,
        tmp.path(),
        "ctk-fixtures::manifest",
        &[("CHAOS_SETTINGS", settings.to_str().expect("utf-8"))],
    );
    let j = r.journal("ctk-fixtures::manifest");
    assert_eq!(j["outcome"], "baseline-not-met", "{j:#}");
    assert_eq!(
        j["steady_states"]["before"]["probes"][0]["output"]["stdout"],
        "order"
    );
}

#[test]
fn a_killed_file_run_is_recovered_with_the_files_rollbacks() {
    use std::os::unix::process::ExitStatusExt;
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut cmd, jd, cd) = command(EXE, tmp.path());
    let out = cmd
        .env("CHAOS_GUARDIAN", "off")
        .args(["--exact", "ctk-fixtures::killed"])
        .output()
        .expect("runs");
    assert_eq!(out.status.signal(), Some(9), "{out:?}");
    let lines = |f: &str| std::fs::read_to_string(cd.join(f)).unwrap_or_default();
    assert_eq!(lines("ctk-killed.count"), "started\n");
    assert_eq!(
        lines("ctk-rollback.count"),
        "",
        "nothing rolled back before the kill"
    );
    let (mut cmd, jd2, cd2) = command(EXE, tmp.path());
    let r = result(cmd.arg("--recover").output().expect("recovers"), jd2, cd2);
    assert_eq!(r.code, Some(0), "{}", r.all_output());
    assert_eq!(
        lines("ctk-rollback.count"),
        "rolled-back\n",
        "{}",
        r.all_output()
    );
    let journal = std::fs::read_dir(&jd)
        .expect("journals")
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.to_string_lossy()
                .contains("ctk-fixtures__killed.recovered-")
        })
        .expect("the killed run's journal");
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(journal).expect("read")).expect("JSON");
    assert_eq!(j["outcome"], "interrupted", "{j:#}");
    assert_eq!(j["recovered"]["rollback_block"], "ran", "{j:#}");
    assert_eq!(j["rollbacks"][0]["activity"]["name"], "roll-back", "{j:#}");
}

#[test]
fn chaosk8s_node_actions_and_probes_change_and_see_the_cluster() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (sim, _, settings) = demo_cluster(tmp.path());
    let r = run_exact(
        EXE,
        tmp.path(),
        "ctk-fixtures::k8s-nodes-and-probes",
        &[
            ("K8S_FIXTURES_NO_FALLBACK", "1"),
            ("CHAOS_SETTINGS", settings.to_str().expect("utf-8")),
        ],
    );
    assert_eq!(r.code, Some(0), "{}", r.all_output());
    let j = r.journal("ctk-fixtures::k8s-nodes-and-probes");
    let out = |i: usize| j["run"][i]["output"].clone();
    assert_eq!(out(0), serde_json::json!(["node-2"]));
    assert_eq!(out(2), serde_json::json!(["node-2"]));
    assert_eq!(out(11), serde_json::json!(["node-1"]));
    assert_eq!(out(13).as_array().map(Vec::len), Some(1), "{j:#}");
    assert_eq!(out(14), serde_json::json!(["node-1"]), "the first by name");
    // Through the API: what the actions did.
    assert!(sim.get("nodes", "", "node-1").is_none(), "node-1 deleted");
    assert_ne!(
        sim.get("nodes", "", "node-2").expect("node-2")["spec"]["unschedulable"],
        true
    );
    let web = sim.get("deployments", "demo", "web").expect("web");
    assert!(
        web["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
            .is_string(),
        "rolled out: {web:#}"
    );
    let reasons: Vec<String> = sim
        .list("events", "")
        .iter()
        .filter_map(|e| e["reason"].as_str().map(str::to_owned))
        .collect();
    for r in [
        "ChaosNodeCordoned",
        "ChaosNodeDrained",
        "ChaosNodeDeleted",
        "ChaosPodsTerminated",
    ] {
        assert!(reasons.iter().any(|x| x == r), "{r} missing: {reasons:?}");
    }
}

#[test]
fn chaosk8s_log_readers_and_raise_false_paths_answer_as_chaosk8s_does() {
    use std::time::Duration;
    let tmp = tempfile::tempdir().expect("tempdir");
    let (sim, _, settings) = demo_cluster(tmp.path());
    sim.add_pods("demo", "api", 2, &[("app", "api")]);
    for (pod, lines) in [
        ("api-00000", ["booting", "listening on :8080"]),
        (
            "api-00001",
            ["listening on :8081", "ERROR upstream refused"],
        ),
    ] {
        for line in lines {
            assert!(sim.write_pod_log("demo", pod, None, line));
        }
    }
    sim.clear_requests();
    let r = run_exact(
        EXE,
        tmp.path(),
        "ctk-fixtures::k8s-logs-and-misses",
        &[
            ("K8S_FIXTURES_NO_FALLBACK", "1"),
            ("CHAOS_SETTINGS", settings.to_str().expect("utf-8")),
        ],
    );
    assert_eq!(r.code, Some(0), "{}", r.all_output());
    let j = r.journal("ctk-fixtures::k8s-logs-and-misses");
    assert_eq!(j["outcome"], "passed", "{j:#}");
    // read_pod_logs gives {pod: text}, each line stamped as chaosk8s asks (timestamps=True).
    let logs = &j["run"][0]["output"];
    let api0 = logs["api-00000"].as_str().expect("api-00000's log");
    let lines: Vec<&str> = api0.lines().collect();
    assert_eq!(lines.len(), 2, "{logs:#}");
    assert!(lines[1].ends_with("Z listening on :8080"), "{api0}");
    assert!(logs["api-00001"]
        .as_str()
        .is_some_and(|t| t.contains("ERROR upstream refused")));
    for i in 0..j["run"].as_array().map_or(0, Vec::len) {
        assert_ne!(j["run"][i]["status"], "failed", "{i}: {:#}", j["run"][i]);
    }
    // Each raise_*=false probe answered false rather than failing.
    for name in [
        "api-not-failed",
        "api-running",
        "api-is-available",
        "no-such-deployment",
        "web-not-even-partially",
        "web-at-zero-is-not-healthy",
        "a-pending-pod-is-unhealthy",
        "web-does-not-recover-while-cordoned",
        "a-missing-deployment-never-stops-running",
    ] {
        let a = j["run"]
            .as_array()
            .and_then(|r| r.iter().find(|a| a["activity"]["name"] == name))
            .unwrap_or_else(|| panic!("{name} missing: {j:#}"));
        assert_eq!(a["output"], false, "{name}: {a:#}");
    }
    // Through the API: the logs were read with the kubelet's options chaosk8s sends.
    let reads: Vec<String> = sim
        .requests()
        .iter()
        .filter(|q| q.path.ends_with("/log"))
        .map(|q| format!("{}?{}", q.path, q.query))
        .collect();
    assert_eq!(reads.len(), 6, "{reads:?}");
    assert!(
        reads
            .iter()
            .any(|p| p.contains("timestamps=true") && p.contains("sinceSeconds=600")),
        "{reads:?}"
    );
    // kill_microservice terminated every pod named like `^api-` (bare pods: not replaced).
    assert_eq!(
        j["run"]
            .as_array()
            .and_then(|r| r.last())
            .map(|a| a["output"].clone()),
        Some(serde_json::json!(["api-00000", "api-00001"])),
        "{j:#}"
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while sim.list("pods", "demo").iter().any(|p| {
        p["metadata"]["name"]
            .as_str()
            .is_some_and(|n| n.starts_with("api-"))
    }) {
        assert!(
            std::time::Instant::now() < deadline,
            "the api pods are still there"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // The file has no rollbacks: web stays as its last action left it, the nodes uncordoned.
    let web = sim.get("deployments", "demo", "web").expect("web");
    assert_eq!(web["spec"]["replicas"], 1, "{web:#}");
    assert_ne!(
        sim.get("nodes", "", "node-1").expect("node-1")["spec"]["unschedulable"],
        true
    );
}

#[cfg(feature = "aws")]
#[test]
fn chaosaws_functions_by_filters_and_zone_change_and_see_the_instances() {
    let moto = chaos_test_support::moto::Moto::start();
    let (code, body) = moto.ec2_query(
        "Action=RunInstances&Version=2016-11-15&ImageId=ami-12c6146b&InstanceType=t2.micro\
         &MinCount=3&MaxCount=3&Placement.AvailabilityZone=us-east-1a\
         &TagSpecification.1.ResourceType=instance\
         &TagSpecification.1.Tag.1.Key=Chaos&TagSpecification.1.Tag.1.Value=true",
    );
    assert_eq!(code, 200, "{body}");
    let ids: Vec<String> = body
        .split("<instanceId>")
        .skip(1)
        .filter_map(|s| s.split("</instanceId>").next())
        .map(str::to_owned)
        .collect();
    assert_eq!(ids.len(), 3);
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut env: Vec<(&str, String)> = moto.env();
    env.push(("EC2_DOOMED_ID", ids[0].clone()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = run_exact(EXE, tmp.path(), "ctk-fixtures::ec2-more", &env);
    assert_eq!(r.code, Some(0), "{}", r.all_output());
    let j = r.journal("ctk-fixtures::ec2-more");
    let out = |i: usize| j["run"][i]["output"].clone();
    assert_eq!(out(1), true);
    let stopping = out(2)[0]["StoppingInstances"].as_array().map(Vec::len);
    assert_eq!(stopping, Some(3), "{j:#}");
    assert_eq!(out(3).as_array().map(Vec::len), Some(3), "{j:#}");
    assert_eq!(out(4), serde_json::json!([]));
    assert_eq!(
        out(5)[0]["TerminatingInstances"][0]["InstanceId"],
        ids[0].as_str()
    );
    let (_, described) = moto.ec2_query(&format!(
        "Action=DescribeInstances&Version=2016-11-15&InstanceId.1={}",
        ids[0]
    ));
    assert!(
        described.contains("<name>terminated</name>")
            || described.contains("<name>shutting-down</name>"),
        "{described}"
    );
    let (_, described) = moto.ec2_query(&format!(
        "Action=DescribeInstances&Version=2016-11-15&InstanceId.1={}",
        ids[1]
    ));
    assert!(described.contains("<name>running</name>"), "{described}");
}

/// Chaos Toolkit's `chaos` (`scripts/chaostoolkit.sh install`, which `scripts/test.sh` runs).
pub(crate) fn chaostoolkit() -> std::path::PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = std::process::Command::new("bash")
        .arg(root.join("scripts/chaostoolkit.sh"))
        .arg("chaos")
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "Chaos Toolkit is not installed: run `bash scripts/chaostoolkit.sh install` (scripts/test.sh does)\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::path::PathBuf::from(
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .lines()
            .last()
            .unwrap_or_default(),
    )
}

/// Chaos Toolkit's `chaos run` (the `chaos` of [`chaostoolkit`]) of `file`, in `dir`, its journal
/// to `dir/ctk-journal.json`: the command, for the caller's environment, and the journal's path.
pub(crate) fn ctk_run(
    chaos: &std::path::Path,
    file: &std::path::Path,
    dir: &std::path::Path,
) -> (std::process::Command, std::path::PathBuf) {
    let journal = dir.join("ctk-journal.json");
    let mut cmd = std::process::Command::new(chaos);
    cmd.current_dir(dir)
        .args([
            "--no-version-check",
            "--no-log-file",
            "run",
            "--journal-path",
        ])
        .arg(&journal)
        .arg(file);
    (cmd, journal)
}

#[test]
fn the_same_files_through_chaos_toolkit_and_here_differ_only_as_readme_says() {
    let chaos = chaostoolkit();
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README");
    // (file, Chaos Toolkit's status, deviated and exit code, our outcome, the README's words
    // for the difference, if any)
    let cases = [
        ("passes", "completed", false, 0, "passed", None),
        (
            "failing-action",
            "completed",
            false,
            0,
            "activity-failed",
            Some("a failing action is `activity-failed`"),
        ),
        (
            "missed-baseline",
            "completed",
            false,
            0,
            "baseline-not-met",
            Some("a missed baseline `baseline-not-met`"),
        ),
        (
            "method-probe-miss",
            "completed",
            false,
            0,
            "deviated",
            Some("Method and rollback probes' tolerances are evaluated: a miss is a deviation"),
        ),
        ("after-miss", "completed", true, 1, "deviated", None),
        (
            "misspelled-rollbacks",
            "completed",
            false,
            0,
            "error",
            Some("A file Chaos Toolkit would run with a silently ignored key is refused"),
        ),
    ];
    for (name, status, deviated, code, ours, readme_says) in cases {
        let tmp = tempfile::tempdir().expect("tempdir");
        let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("ctk-fixtures/compare/{name}.json"));
        std::fs::create_dir_all(tmp.path().join("counts")).expect("dir");
        let (mut cmd, journal) = ctk_run(&chaos, &file, tmp.path());
        let out = cmd
            .env("CHAOS_COUNT_DIR", tmp.path().join("counts"))
            .output()
            .expect("chaos runs");
        let theirs: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&journal).unwrap_or_else(|e| {
                panic!(
                    "{name}: no Chaos Toolkit journal ({e})\n{}",
                    String::from_utf8_lossy(&out.stderr)
                )
            }))
            .expect("JSON");
        assert_eq!(
            (
                theirs["status"].as_str(),
                theirs["deviated"].as_bool(),
                out.status.code()
            ),
            (Some(status), Some(deviated), Some(code)),
            "{name}: Chaos Toolkit"
        );
        let r = run_exact(
            EXE,
            tmp.path(),
            &format!("ctk-fixtures::compare::{name}"),
            &[],
        );
        let j = r.journal(&format!("ctk-fixtures::compare::{name}"));
        assert_eq!(j["outcome"], ours, "{name}: ours\n{}", r.all_output());
        let ours_code = r.code.unwrap_or(-1);
        if let Some(words) = readme_says {
            assert!(readme.contains(words), "{name}: README lacks {words:?}");
            assert_ne!(ours_code, code, "{name}: a difference README lists");
        } else {
            assert_eq!(ours_code == 0, code == 0, "{name}: same verdict");
        }
    }
}

/// A simulated cluster as the side-by-side run needs it: the demo, two `app=api` pods that
/// log, and a kubeconfig and settings naming it.
fn seeded_cluster(dir: &std::path::Path) -> (kube_sim::Sim, std::path::PathBuf) {
    let (sim, kubeconfig, _) = demo_cluster(dir);
    sim.add_pods("demo", "api", 2, &[("app", "api")]);
    for pod in ["api-00000", "api-00001"] {
        for line in ["booting", &format!("{pod} listening on :8080")] {
            assert!(sim.write_pod_log("demo", pod, None, line));
        }
    }
    (sim, kubeconfig)
}

/// A quick simulated cluster seeded with the demo, its kubeconfig and a `chaos.toml` naming
/// it, in `dir`: `(cluster, kubeconfig, settings)`.
fn demo_cluster(dir: &std::path::Path) -> (kube_sim::Sim, std::path::PathBuf, std::path::PathBuf) {
    use kube_sim::{Sim, SimConfig};
    use std::time::Duration;
    let sim = Sim::start(SimConfig {
        replace_delay: Duration::from_millis(50),
        ready_delay: Duration::from_millis(50),
        max_termination: Duration::from_millis(50),
    })
    .expect("the simulated cluster starts");
    sim.seed_demo();
    let kubeconfig = dir.join("kubeconfig");
    sim.write_kubeconfig(&kubeconfig, "demo")
        .expect("kubeconfig");
    let settings = dir.join("chaos.toml");
    std::fs::write(
        &settings,
        format!(
            "[targets.k8s]\nkubeconfig = {:?}\n",
            kubeconfig.display().to_string()
        ),
    )
    .expect("settings");
    (sim, kubeconfig, settings)
}

/// What of an activity's value both tools must agree on: log lines without their time stamps,
/// nodes without the times and versions the API server sets.
fn comparable(name: &str, v: &serde_json::Value) -> serde_json::Value {
    use serde_json::{json, Value};
    match name {
        "api-logs" => Value::Object(
            v.as_object()
                .into_iter()
                .flatten()
                .map(|(pod, text)| {
                    let lines: Vec<&str> = text
                        .as_str()
                        .unwrap_or_default()
                        .lines()
                        .map(|l| l.split_once(' ').map_or(l, |(_, rest)| rest))
                        .collect();
                    (pod.clone(), json!(lines))
                })
                .collect(),
        ),
        "zone-a-nodes" => json!({
            "kind": v["kind"],
            "items": v["items"].as_array().into_iter().flatten().map(|n| json!({
                "name": n["metadata"]["name"],
                "labels": n["metadata"]["labels"],
                "unschedulable": n["spec"]["unschedulable"],
                "ready": n["status"]["conditions"].as_array().into_iter().flatten()
                    .find(|c| c["type"] == "Ready").map(|c| c["status"].clone()),
            })).collect::<Vec<_>>(),
        }),
        _ => v.clone(),
    }
}

#[test]
fn chaosk8s_functions_give_what_chaosk8s_gives_on_the_same_cluster() {
    let chaos = chaostoolkit();
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("ctk-fixtures/compare/k8s-functions.yaml");
    // Chaos Toolkit, with chaostoolkit-kubernetes, on a cluster of its own.
    let theirs_dir = tempfile::tempdir().expect("tempdir");
    let (theirs_sim, kubeconfig) = seeded_cluster(theirs_dir.path());
    let (mut cmd, journal) = ctk_run(&chaos, &file, theirs_dir.path());
    let out = cmd
        .env("KUBECONFIG", &kubeconfig)
        .env("HOME", theirs_dir.path())
        .output()
        .expect("chaos runs");
    let theirs: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&journal).unwrap_or_else(|e| {
            panic!(
                "no Chaos Toolkit journal ({e})\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        }))
        .expect("JSON");
    assert_eq!(
        (theirs["status"].as_str(), theirs["deviated"].as_bool()),
        (Some("completed"), Some(false)),
        "Chaos Toolkit: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Ours, on another cluster seeded alike.
    let ours_dir = tempfile::tempdir().expect("tempdir");
    let (ours_sim, _) = seeded_cluster(ours_dir.path());
    let settings = ours_dir.path().join("chaos.toml");
    let r = run_exact(
        EXE,
        ours_dir.path(),
        "ctk-fixtures::compare::k8s-functions",
        &[
            ("K8S_FIXTURES_NO_FALLBACK", "1"),
            ("CHAOS_SETTINGS", settings.to_str().expect("utf-8")),
        ],
    );
    assert_eq!(r.code, Some(0), "{}", r.all_output());
    let ours = r.journal("ctk-fixtures::compare::k8s-functions");
    assert_eq!(ours["outcome"], "passed", "{ours:#}");
    // Activity by activity: the same status and the same value.
    let pairs = |key: &str| -> Vec<(serde_json::Value, serde_json::Value)> {
        let pick = |j: &serde_json::Value| -> Vec<serde_json::Value> {
            match key {
                "before" => j["steady_states"]["before"]["probes"].clone(),
                other => j[other].clone(),
            }
            .as_array()
            .cloned()
            .unwrap_or_default()
        };
        let (t, o) = (pick(&theirs), pick(&ours));
        assert_eq!(t.len(), o.len(), "{key}: as many activities");
        t.into_iter().zip(o).collect()
    };
    let mut compared = 0;
    for key in ["before", "run", "rollbacks"] {
        for (t, o) in pairs(key) {
            let name = t["activity"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            assert_eq!(
                o["activity"]["name"],
                name.as_str(),
                "{key}: the same order"
            );
            assert_eq!(t["status"], o["status"], "{name}: status\n{t:#}\n{o:#}");
            assert_eq!(
                comparable(&name, &t["output"]),
                comparable(&name, &o["output"]),
                "{name}: the value chaosk8s gives and ours"
            );
            compared += 1;
        }
    }
    assert_eq!(compared, 27, "every activity compared");
    // And both clusters end alike: web back at three, api-00000 gone, node-2 schedulable.
    for sim in [&theirs_sim, &ours_sim] {
        assert_eq!(
            sim.get("deployments", "demo", "web").expect("web")["spec"]["replicas"],
            3
        );
        assert!(sim.get("pods", "demo", "api-00000").is_none());
        assert_ne!(
            sim.get("nodes", "", "node-2").expect("node-2")["spec"]["unschedulable"],
            true
        );
    }
}

/// Three running `Chaos=true` instances in us-east-1a on `moto`; their ids.
#[cfg(feature = "aws")]
fn three_instances(moto: &chaos_test_support::moto::Moto) -> Vec<String> {
    let (code, body) = moto.ec2_query(
        "Action=RunInstances&Version=2016-11-15&ImageId=ami-12c6146b&InstanceType=t2.micro\
         &MinCount=3&MaxCount=3&Placement.AvailabilityZone=us-east-1a\
         &TagSpecification.1.ResourceType=instance\
         &TagSpecification.1.Tag.1.Key=Chaos&TagSpecification.1.Tag.1.Value=true",
    );
    assert_eq!(code, 200, "{body}");
    body.split("<instanceId>")
        .skip(1)
        .filter_map(|s| s.split("</instanceId>").next())
        .map(str::to_owned)
        .collect()
}

/// What of an EC2 value both tools must agree on: instance ids as their place among the
/// instances the test made, states and zones; not the request metadata or the ids moto draws
/// for reservations, volumes and interfaces.
#[cfg(feature = "aws")]
fn ec2_comparable(v: &serde_json::Value, ids: &[String]) -> serde_json::Value {
    use serde_json::{json, Value};
    match v {
        Value::Object(m) if m.contains_key("Reservations") => {
            let mut instances: Vec<Value> = m["Reservations"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|r| r["Instances"].as_array().cloned().unwrap_or_default())
                .map(|i| {
                    json!({
                        "InstanceId": ec2_comparable(&i["InstanceId"], ids),
                        "State": i["State"]["Name"],
                        "Zone": i["Placement"]["AvailabilityZone"],
                        "Tags": i["Tags"],
                    })
                })
                .collect();
            instances.sort_by_key(|i| i["InstanceId"].to_string());
            json!({ "Instances": instances })
        }
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| *k != "ResponseMetadata")
                .map(|(k, v)| (k.clone(), ec2_comparable(v, ids)))
                .collect(),
        ),
        Value::Array(a) => {
            // The order of instances in a response is the request's, which neither promises.
            let mut a: Vec<Value> = a.iter().map(|v| ec2_comparable(v, ids)).collect();
            a.sort_by_key(|v| v["InstanceId"].to_string());
            Value::Array(a)
        }
        Value::String(s) => match ids.iter().position(|i| i == s) {
            Some(n) => json!(format!("instance {n}")),
            None => v.clone(),
        },
        other => other.clone(),
    }
}

#[cfg(feature = "aws")]
#[test]
fn chaosaws_functions_give_what_chaosaws_gives_on_moto() {
    let chaos = chaostoolkit();
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README");
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ctk-fixtures/ec2-more.yaml");
    // Chaos Toolkit, with chaostoolkit-aws, on a moto of its own.
    let theirs_moto = chaos_test_support::moto::Moto::start();
    let theirs_ids = three_instances(&theirs_moto);
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut cmd, journal) = ctk_run(&chaos, &file, tmp.path());
    let out = cmd
        .envs(theirs_moto.env())
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("EC2_DOOMED_ID", &theirs_ids[0])
        .env("HOME", tmp.path())
        .output()
        .expect("chaos runs");
    let theirs: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&journal).unwrap_or_else(|e| {
            panic!(
                "no Chaos Toolkit journal ({e})\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        }))
        .expect("JSON");
    assert_eq!(
        (theirs["status"].as_str(), theirs["deviated"].as_bool()),
        (Some("completed"), Some(false)),
        "Chaos Toolkit: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Ours, on another.
    let ours_moto = chaos_test_support::moto::Moto::start();
    let ours_ids = three_instances(&ours_moto);
    let ours_dir = tempfile::tempdir().expect("tempdir");
    let mut env: Vec<(&str, String)> = ours_moto.env();
    env.push(("EC2_DOOMED_ID", ours_ids[0].clone()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = run_exact(EXE, ours_dir.path(), "ctk-fixtures::ec2-more", &env);
    assert_eq!(r.code, Some(0), "{}", r.all_output());
    let ours = r.journal("ctk-fixtures::ec2-more");
    let (t, o) = (
        theirs["run"].as_array().cloned().unwrap_or_default(),
        ours["run"].as_array().cloned().unwrap_or_default(),
    );
    assert_eq!(t.len(), o.len());
    assert!(t.len() >= 6, "{theirs:#}");
    for (t, o) in t.iter().zip(&o) {
        let name = t["activity"]["name"].as_str().unwrap_or_default();
        assert_eq!(o["activity"]["name"], name);
        assert_eq!(t["status"], o["status"], "{name}: status");
        let (tv, ov) = (
            ec2_comparable(&t["output"], &theirs_ids),
            ec2_comparable(&o["output"], &ours_ids),
        );
        if name == "at-least-two" {
            // chaosaws counts reservations (one here, of three instances): README says so.
            assert_eq!(
                (tv, ov),
                (serde_json::json!(false), serde_json::json!(true))
            );
            assert!(readme
                .contains("`count_instances` counts instances (chaosaws counts reservations)"));
        } else {
            assert_eq!(tv, ov, "{name}: the value chaosaws gives and ours");
        }
    }
}
