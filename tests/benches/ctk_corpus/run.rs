//! The runnable part of the corpus through both `chaos run`s, each file on targets of its own
//! seeded alike for each tool: a simulated cluster (the demo: namespace `demo`, nodes
//! `node-1`..`node-3`, deployment `web`), a moto with three running instances in `us-east-1a`
//! when the file calls chaosaws, and one local HTTP server answering `200 ok` to anything. The
//! environment variables the files read get values that name those targets.

use chaos_test_support::moto::Moto;
use kube_sim::{Sim, SimConfig};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one run may take before it counts as hung (and is killed): above the longest pause
/// in the corpus (six minutes).
const RUN_LIMIT: Duration = Duration::from_secs(420);

/// One file's verdicts.
pub struct Compared {
    pub file: String,
    /// Chaos Toolkit's `status` (and `deviated`), or why there is no journal.
    pub theirs: String,
    /// Our outcome, or why there is no journal.
    pub ours: String,
    /// Whether both passed, or neither did.
    pub same: bool,
    pub both_passed: bool,
}

/// Starts the HTTP server every run's URLs point at; its address.
pub fn http_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let addr = listener.local_addr().expect("address").to_string();
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let mut buf = [0u8; 8192];
            let _ = s.read(&mut buf);
            let _ = s.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
            );
        }
    });
    addr
}

/// The targets one tool's run of one file gets.
struct Targets {
    _sim: Sim,
    moto: Option<Moto>,
    env: BTreeMap<String, String>,
}

fn targets(dir: &Path, aws: bool, http: &str) -> Targets {
    let sim = Sim::start(SimConfig {
        replace_delay: Duration::from_millis(200),
        ready_delay: Duration::from_millis(200),
        max_termination: Duration::from_millis(200),
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
    let url = format!("http://{http}/");
    let mut env: BTreeMap<String, String> = [
        ("KUBECONFIG", kubeconfig.display().to_string()),
        ("CHAOS_SETTINGS", settings.display().to_string()),
        ("HOME", dir.display().to_string()),
        ("PATH", std::env::var("PATH").unwrap_or_default()),
        ("APPLICATION_ENTRYPOINT_URL", url.clone()),
        ("ENDPOINT_URL", url),
        ("INGRESS_HOST", http.to_owned()),
        ("POD_LABEL", "app=web".into()),
        ("POD_NAMESPACE", "demo".into()),
        ("NODE_NAME", "node-1".into()),
        ("SERVICE_NAME", "web".into()),
        ("AVAILABILITY_ZONE", "us-east-1a".into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_DEFAULT_REGION", "us-east-1".into()),
        ("DOCKER_CONTAINER_NAME", "web".into()),
        ("CHAOS_YAML", "chaos.yaml".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let moto = aws.then(|| {
        let moto = Moto::start();
        let (code, body) = moto.ec2_query(
            "Action=RunInstances&Version=2016-11-15&ImageId=ami-12c6146b&InstanceType=t2.micro\
             &MinCount=3&MaxCount=3&Placement.AvailabilityZone=us-east-1a",
        );
        assert_eq!(code, 200, "{body}");
        let id = body
            .split("<instanceId>")
            .nth(1)
            .and_then(|s| s.split("</instanceId>").next())
            .unwrap_or_default()
            .to_owned();
        for (k, v) in moto.env() {
            env.insert(k.to_owned(), v);
        }
        env.insert("INSTANCE_ID".into(), id.clone());
        env.insert("EC2_INSTANCE_ID".into(), id);
        moto
    });
    Targets {
        _sim: sim,
        moto,
        env,
    }
}

/// Runs `cmd` for at most [`RUN_LIMIT`]; whether it ended in time.
fn run_limited(mut cmd: Command) -> bool {
    let Ok(mut child) = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    else {
        return false;
    };
    let start = Instant::now();
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            return true;
        }
        if start.elapsed() > RUN_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn journal(path: &Path) -> Option<serde_json::Value> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

/// Runs `file` through Chaos Toolkit's `chaos` at `theirs` and ours at `ours`.
pub fn compare(file: &Path, theirs: &Path, ours: &Path, http: &str) -> Compared {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let aws = text.contains("chaosaws");
    let name = file
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let run = |program: &Path, args: &[&str]| -> (Option<serde_json::Value>, bool) {
        let dir = tempfile::tempdir().expect("tempdir");
        let t = targets(dir.path(), aws, http);
        let journal_path = dir.path().join("journal.json");
        let mut cmd = Command::new(program);
        cmd.current_dir(dir.path())
            .env_clear()
            .envs(&t.env)
            .args(args)
            .arg("run")
            .arg("--journal-path")
            .arg(&journal_path)
            .arg(file);
        let in_time = run_limited(cmd);
        drop(t.moto);
        (journal(&journal_path), in_time)
    };
    // Both at once: a file's pauses count once.
    let ((t, t_in_time), (o, o_in_time)) = std::thread::scope(|s| {
        let theirs = s.spawn(|| run(theirs, &["--no-version-check", "--no-log-file"]));
        let ours = run(ours, &[]);
        (theirs.join().expect("the Chaos Toolkit run"), ours)
    });
    // Chaos Toolkit ends `completed`, not deviated, when the hypothesis was not met before the
    // method (README lists it): its journal's `steady_state_met` says what happened.
    let baseline_missed =
        |j: &serde_json::Value| j["steady_states"]["before"]["steady_state_met"] == false;
    let theirs_passed = t.as_ref().is_some_and(|j| {
        j["status"] == "completed" && j["deviated"] == false && !baseline_missed(j)
    });
    let ours_passed = o.as_ref().is_some_and(|j| j["outcome"] == "passed");
    let say = |j: &Option<serde_json::Value>, in_time: bool, key: &str| match j {
        Some(j) if key == "status" => format!(
            "{}{}",
            j["status"].as_str().unwrap_or("?"),
            if j["deviated"] == true {
                ", deviated"
            } else if baseline_missed(j) {
                ", steady state not met before the method"
            } else {
                ""
            }
        ),
        Some(j) => j[key].as_str().unwrap_or("?").to_owned(),
        None if !in_time => "hung (killed)".into(),
        None => "no journal".into(),
    };
    Compared {
        file: name,
        theirs: say(&t, t_in_time, "status"),
        ours: say(&o, o_in_time, "outcome"),
        same: theirs_passed == ours_passed,
        both_passed: theirs_passed && ours_passed,
    }
}
