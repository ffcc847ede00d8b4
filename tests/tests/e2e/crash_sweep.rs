//! The crash-point sweep: every kind of effect a run makes (a process-level rollback block;
//! Kubernetes scale, cordon and terminate on a simulated cluster the test serves; with the
//! `aws` feature, an EC2 stop on a moto server), with the
//! harness killed by SIGKILL right after each record it makes durable (`CHAOS_CRASH_AT=N`, the
//! `crash-points` feature), from the entry's header to its close; then killed from outside
//! while a run is under way. After each kill: the guardian (or, with `CHAOS_GUARDIAN=off`, as
//! if it had been killed too, the next harness start) restored the state; every undo ran once
//! in all; a second recovery changes nothing; the killed run's journal says what happened.
//! With the ledger deleted too, recovery-only mode restores from the markers on the objects.
//! And 16 harness processes starting at once over 16 dead entries recover each once.

use chaos_tests::{command, result, RunResult};
use kube_sim::{Sim, SimConfig};
use serde_json::Value;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const EXE: &str = env!("CARGO_BIN_EXE_k8s-fixtures");

/// A cluster (and, for EC2, a moto server) that outlives the harnesses the sweep kills, and the
/// settings that reach it.
struct Cluster {
    sim: Sim,
    settings: PathBuf,
    /// The moto server of an EC2 effect, with one instance tagged `Chaos=true`; every request
    /// it gets is recorded (which calls were made, how many times).
    #[cfg(feature = "aws")]
    moto: Option<chaos_test_support::moto::Moto>,
}

/// A cluster, and a moto server when `aws` is set.
fn cluster(dir: &Path, aws: bool) -> Cluster {
    let sim = Sim::start(SimConfig {
        replace_delay: Duration::from_millis(50),
        ready_delay: Duration::from_millis(50),
        max_termination: Duration::from_millis(50),
    })
    .expect("the simulated cluster starts");
    sim.seed_demo();
    let kubeconfig = dir.join("kubeconfig");
    sim.write_kubeconfig(&kubeconfig, "demo")
        .expect("kubeconfig written");
    let settings = dir.join("chaos.toml");
    // Markers are taken for dead at once: recovery from markers needs no wait.
    let mut toml = format!(
        "[targets.k8s]\nkubeconfig = {:?}\nmarker_lease = \"0s\"\n",
        kubeconfig.display().to_string()
    );
    #[cfg(feature = "aws")]
    let moto = aws.then(|| {
        let moto = chaos_test_support::moto::Moto::start();
        let (code, body) = moto.ec2_query(
            "Action=RunInstances&Version=2016-11-15&ImageId=ami-12c6146b&InstanceType=t2.micro\
             &MinCount=1&MaxCount=1&TagSpecification.1.ResourceType=instance\
             &TagSpecification.1.Tag.1.Key=Chaos&TagSpecification.1.Tag.1.Value=true",
        );
        assert_eq!(code, 200, "{body}");
        moto.record();
        toml.push_str(&format!(
            "[targets.aws]\nregion = \"us-east-1\"\nendpoint_url = {:?}\nmarker_lease = \"0s\"\n",
            moto.url()
        ));
        moto
    });
    #[cfg(not(feature = "aws"))]
    assert!(!aws, "the EC2 effect needs the `aws` feature");
    std::fs::write(&settings, toml).expect("settings written");
    Cluster {
        sim,
        settings,
        #[cfg(feature = "aws")]
        moto,
    }
}

/// One kind of effect: its experiment, whether the cluster and files are as before the run,
/// and how many times its undo ran (from the Events it writes, or the count file).
struct Effect {
    experiment: &'static str,
    /// `Ok` when the state is restored, else what is not.
    restored: fn(&Cluster, &Path) -> Result<(), String>,
    /// (changes made, undos run) so far, from the cluster's Events or the count files.
    counts: fn(&Cluster, &Path) -> (usize, usize),
    /// Whether the undo is the rollback block itself (no undo record): a run killed while its
    /// rollback block ran has it run again, in full, by the recovery (it is idempotent).
    block: bool,
    /// Whether the change carries a marker on its object (recoverable without the ledger).
    marked: bool,
    /// Whether it needs a moto server (the EC2 effect).
    aws: bool,
}

fn events(c: &Cluster, reason: &str) -> usize {
    c.sim
        .list("events", "")
        .iter()
        .filter(|e| e["reason"] == reason)
        .count()
}

fn lines(dir: &Path, file: &str) -> usize {
    std::fs::read_to_string(dir.join(file))
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

fn web_replicas(c: &Cluster) -> i64 {
    c.sim.get("deployments", "demo", "web").expect("web")["spec"]["replicas"]
        .as_i64()
        .unwrap_or(1)
}

fn node_cordoned(c: &Cluster, node: &str) -> bool {
    c.sim.get("nodes", "", node).expect("node")["spec"]["unschedulable"] == Value::Bool(true)
}

fn ready_web_pods(c: &Cluster) -> usize {
    c.sim
        .list("pods", "demo")
        .iter()
        .filter(|p| p["metadata"]["labels"]["app"] == "web")
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .filter(|p| {
            p["status"]["conditions"].as_array().is_some_and(|cs| {
                cs.iter()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True")
            })
        })
        .count()
}

const EFFECTS: [Effect; 4] = [
    Effect {
        experiment: "k8s_fixtures::sweep::rollback_block",
        restored: |_, counts| match std::fs::read_to_string(counts.join("state"))
            .unwrap_or_default()
            .as_str()
        {
            "" | "restored" => Ok(()),
            other => Err(format!("the state file says {other:?}")),
        },
        counts: |_, counts| {
            let changed = usize::from(counts.join("state").exists());
            (changed, lines(counts, "rollback.count"))
        },
        block: true,
        marked: false,
        aws: false,
    },
    Effect {
        experiment: "k8s_fixtures::sweep::scale",
        restored: |c, _| match web_replicas(c) {
            3 => Ok(()),
            n => Err(format!("web has {n} replica(s), not 3")),
        },
        counts: |c, _| {
            (
                events(c, "ChaosDeploymentScaled"),
                events(c, "ChaosDeploymentRestored"),
            )
        },
        block: false,
        marked: true,
        aws: false,
    },
    Effect {
        experiment: "k8s_fixtures::sweep::cordon",
        restored: |c, _| match node_cordoned(c, "node-2") {
            false => Ok(()),
            true => Err("node-2 is still cordoned".into()),
        },
        counts: |c, _| {
            (
                events(c, "ChaosNodeCordoned"),
                events(c, "ChaosNodeUncordoned"),
            )
        },
        block: false,
        marked: true,
        aws: false,
    },
    Effect {
        experiment: "k8s_fixtures::sweep::terminate",
        restored: |c, _| match ready_web_pods(c) {
            3 => Ok(()),
            n => Err(format!("{n} web pod(s) ready, not 3")),
        },
        counts: |c, counts| {
            (
                events(c, "ChaosPodsTerminated"),
                lines(counts, "rollback.count"),
            )
        },
        block: true,
        marked: false,
        aws: false,
    },
];

/// The moto server's instances: (id, state, whether it carries a recovery marker).
#[cfg(feature = "aws")]
fn instances(c: &Cluster) -> Vec<(String, String, bool)> {
    let moto = c.moto.as_ref().expect("the EC2 effect's moto server");
    let (code, body) = moto.ec2_query("Action=DescribeInstances&Version=2016-11-15");
    assert_eq!(code, 200, "{body}");
    let tag = format!("<key>{}</key>", chaos_harness::target::marker::TAG);
    body.split("<instanceId>")
        .skip(1)
        .map(|item| {
            let id = item.split("</instanceId>").next().unwrap_or_default();
            let state = item
                .split("<instanceState>")
                .nth(1)
                .and_then(|s| s.split("<name>").nth(1))
                .and_then(|s| s.split("</name>").next())
                .unwrap_or_default();
            (id.to_owned(), state.to_owned(), item.contains(&tag))
        })
        .collect()
}

/// An EC2 stop, undone by a start (its standby record, or the rollback block's
/// `start_stopped`); counted from the calls moto's recorder saw.
#[cfg(feature = "aws")]
const EC2_STOP: Effect = Effect {
    experiment: "k8s_fixtures::sweep::ec2_stop",
    restored: |c, _| {
        let not: Vec<_> = instances(c)
            .into_iter()
            .filter(|(_, state, _)| state != "running" && state != "pending")
            .collect();
        match not.is_empty() {
            true => Ok(()),
            false => Err(format!("instances not running: {not:?}")),
        }
    },
    counts: |c, _| {
        let moto = c.moto.as_ref().expect("the EC2 effect's moto server");
        let actions = moto.recorded_actions();
        let n = |a: &str| actions.iter().filter(|x| *x == a).count();
        (n("StopInstances"), n("StartInstances"))
    },
    block: false,
    marked: true,
    aws: true,
};

fn entries(ledger: &Path) -> usize {
    std::fs::read_dir(ledger)
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "entry"))
                .count()
        })
        .unwrap_or(0)
}

fn recovered_journals(journals: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(journals)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.to_string_lossy().contains(".recovered-"))
                .collect()
        })
        .unwrap_or_default()
}

/// Waits until `cond` holds, at most `limit`.
fn wait(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let t = Instant::now();
    while !cond() {
        if t.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// Who recovers a killed run.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    /// Its guardian, at once.
    Guardian,
    /// With the guardian killed too (`CHAOS_GUARDIAN=off`): the next harness start, here in
    /// recovery-only mode.
    NextStart,
    /// As `NextStart`, with the ledger lost as well: recovery from the markers on the targets.
    LedgerLost,
}

/// The harness binary with the cluster's settings, in `tmp`.
fn harness(c: &Cluster, tmp: &Path, mode: Mode) -> (std::process::Command, PathBuf, PathBuf) {
    let (mut cmd, jd, cd) = command(EXE, tmp);
    #[cfg(feature = "aws")]
    if let Some(moto) = &c.moto {
        cmd.envs(moto.env());
    }
    cmd.env("K8S_FIXTURES_NO_FALLBACK", "1")
        .env("CHAOS_SETTINGS", &c.settings)
        .env(
            "CHAOS_GUARDIAN",
            if mode == Mode::Guardian { "on" } else { "off" },
        );
    (cmd, jd, cd)
}

/// Recovery-only mode.
fn recover(c: &Cluster, tmp: &Path) -> RunResult {
    let (mut cmd, jd, cd) = harness(c, tmp, Mode::NextStart);
    result(cmd.arg("--recover").output().expect("runs"), jd, cd)
}

/// The objects that carry a recovery marker now.
fn marked(c: &Cluster) -> Vec<String> {
    let key = chaos_harness::target::marker::ANNOTATION;
    let mut out = Vec::new();
    for (resource, ns) in [("deployments", "demo"), ("nodes", "")] {
        for o in c.sim.list(resource, ns) {
            if o["metadata"]["annotations"][key].is_string() {
                out.push(format!("{resource} {}", o["metadata"]["name"]));
            }
        }
    }
    #[cfg(feature = "aws")]
    if c.moto.is_some() {
        out.extend(
            instances(c)
                .into_iter()
                .filter(|(_, _, marked)| *marked)
                .map(|(id, _, _)| format!("instance {id}")),
        );
    }
    out
}

/// Kills the harness at each checkpoint of `effect`'s run in turn, until the run gets through
/// them all; returns how many checkpoints there were. Panics with what was left over.
fn sweep(effect: &Effect, mode: Mode) -> usize {
    let tmp = tempfile::tempdir().expect("tempdir").keep();
    let c = cluster(&tmp, effect.aws);
    let mut journals = 0;
    for n in 1.. {
        let case = format!("{} killed at checkpoint {n}, {mode:?}", effect.experiment);
        let run_dir = tmp.join(format!("{n}"));
        let (mut cmd, jd, cd) = harness(&c, &run_dir, mode);
        let before = (effect.counts)(&c, &cd);
        let out = cmd
            .args(["--exact", effect.experiment])
            .env("CHAOS_CRASH_AT", n.to_string())
            .output()
            .expect("the harness runs");
        let ledger = jd.join("ledger");
        if out.status.signal() != Some(9) {
            // Past the last checkpoint: the run ended on its own, its rollbacks done.
            let r = result(out, jd, cd.clone());
            assert_eq!(r.code, Some(0), "{case}: {}", r.all_output());
            (effect.restored)(&c, &cd).unwrap_or_else(|e| panic!("{case}: {e}"));
            assert_eq!(entries(&ledger), 0, "{case}");
            assert_eq!(marked(&c), Vec::<String>::new(), "{case}");
            // Some kills fall between the change and its undo: those were recovered.
            assert!(journals > 0, "{case}: no kill left anything to recover");
            return n - 1;
        }
        journals += after_kill(effect, &c, &run_dir, mode, before, &case, true);
        if n == 1 && mode != Mode::LedgerLost {
            assert_eq!(recovered_journals(&jd).len(), 1, "{case}: no journal");
        }
    }
    unreachable!()
}

/// Checks what a kill of `effect`'s run in `run_dir` left, once it was recovered as `mode`
/// says: the state restored and no marker left, the undo run once in all since the counts
/// were `before` (`exact`: the kill fell outside the rollback block), a second recovery doing
/// nothing, and the journal of the killed run.
fn after_kill(
    effect: &Effect,
    c: &Cluster,
    run_dir: &Path,
    mode: Mode,
    before: (usize, usize),
    case: &str,
    exact: bool,
) -> usize {
    let jd = run_dir.join("journals");
    let cd = run_dir.join("counts");
    let ledger = jd.join("ledger");
    let log = || std::fs::read_to_string(ledger.join("guardian.log")).unwrap_or_default();
    match mode {
        Mode::Guardian => assert!(
            wait(Duration::from_secs(30), || entries(&ledger) == 0),
            "{case}: the guardian left the entry\n{}",
            log()
        ),
        Mode::NextStart | Mode::LedgerLost => {
            if mode == Mode::LedgerLost {
                std::fs::remove_dir_all(&ledger).expect("the ledger is deleted");
            }
            let r = recover(c, run_dir);
            assert_eq!(r.code, Some(0), "{case}: {}", r.all_output());
        }
    }
    // The rollback block of `terminate` waits for the pods; the others restore at once.
    let restored = wait(Duration::from_secs(10), || {
        (effect.restored)(c, &cd).is_ok()
    });
    assert!(
        restored,
        "{case}: {:?}\n{}",
        (effect.restored)(c, &cd),
        log()
    );
    assert_eq!(marked(c), Vec::<String>::new(), "{case}: markers left");
    let (changed, undone) = (effect.counts)(c, &cd);
    let (changed, undone) = (changed - before.0, undone - before.1);
    // A rollback block cut short by the kill runs again in full; an undo record never runs
    // twice. The checkpoints fall outside rollback blocks: there, once exactly.
    let most = if effect.block && !exact { 2 } else { 1 };
    assert!(
        undone <= most,
        "{case}: the undo ran {undone} times\n{}",
        log()
    );
    assert!(
        changed == 0 || undone >= 1,
        "{case}: changed {changed} time(s), undone {undone} time(s)\n{}",
        log()
    );
    // A second recovery finds nothing and changes nothing.
    let again = recover(c, run_dir);
    assert_eq!(again.code, Some(0), "{case}: {}", again.all_output());
    assert!(
        !again.stderr.contains("recovered"),
        "{case}: {}",
        again.all_output()
    );
    assert_eq!((effect.counts)(c, &cd).1 - before.1, undone, "{case}");
    // The killed run's journal, unless it was killed after closing its entry (or, from
    // markers, before it marked anything).
    for j in recovered_journals(&jd) {
        let j: Value = serde_json::from_str(&std::fs::read_to_string(&j).expect("journal"))
            .expect("journal JSON");
        assert_eq!(j["outcome"], "interrupted", "{case}: {j:#}");
        assert!(j["recovered"]["by"]["pid"].is_u64(), "{case}: {j:#}");
        let block = j["recovered"]["rollback_block"]
            .as_str()
            .unwrap_or_default();
        match mode {
            Mode::LedgerLost => {
                assert_eq!(j["recovered"]["from_markers"], true, "{case}: {j:#}");
                assert!(block.starts_with("not run"), "{case}: {j:#}");
            }
            _ => assert_eq!(block, "ran", "{case}: {j:#}"),
        }
    }
    recovered_journals(&jd).len()
}

/// Sweeps each of `effects` in each mode that applies to it; prints the sweep's size.
fn sweep_all(effects: &[&Effect]) {
    let mut sizes = Vec::new();
    let mut kills = 0;
    for effect in effects {
        for mode in [Mode::Guardian, Mode::NextStart, Mode::LedgerLost] {
            if mode == Mode::LedgerLost && !effect.marked {
                // No marker to recover from: a lost ledger loses a rollback block.
                continue;
            }
            let n = sweep(effect, mode);
            assert!(n >= 2, "{}: {n} checkpoint(s)", effect.experiment);
            kills += n;
            sizes.push(format!("{} ({mode:?}): {n}", effect.experiment));
        }
    }
    eprintln!(
        "crash-point sweep: {kills} kills, no residue: {}",
        sizes.join("; ")
    );
}

#[test]
fn every_checkpoint_of_every_effect_recovers_by_guardian_next_start_and_markers() {
    sweep_all(&EFFECTS.iter().collect::<Vec<_>>());
}

#[cfg(feature = "aws")]
#[test]
fn every_checkpoint_of_an_ec2_stop_recovers_by_guardian_next_start_and_tags() {
    sweep_all(&[&EC2_STOP]);
}

#[test]
fn kills_from_outside_at_random_times_recover() {
    use chaos_harness::SeededRng;
    let tmp = tempfile::tempdir().expect("tempdir").keep();
    let c = cluster(&tmp, false);
    // Seeded: a failing delay can be replayed (`CHAOS_SWEEP_SEED` tries others).
    let seed = std::env::var("CHAOS_SWEEP_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(11);
    let mut rng = SeededRng::new(seed);
    let mut killed = 0;
    for (i, effect) in EFFECTS.iter().cycle().take(24).enumerate() {
        let delay = Duration::from_micros(rng.below(60_000));
        let run_dir = tmp.join(format!("{i}"));
        let case = format!("{} killed after {delay:?} (seed {seed})", effect.experiment);
        let (mut cmd, _, cd) = harness(&c, &run_dir, Mode::Guardian);
        let before = (effect.counts)(&c, &cd);
        let mut child = cmd
            .args(["--exact", effect.experiment])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the harness starts");
        std::thread::sleep(delay);
        let _ = child.kill();
        let status = child.wait().expect("the harness ends");
        killed += usize::from(status.signal() == Some(9));
        after_kill(effect, &c, &run_dir, Mode::Guardian, before, &case, false);
    }
    assert!(killed > 0, "no run was killed: the delays are too long");
}

#[test]
fn guards_and_dry_run_apply_to_a_recovery_and_keep_what_it_did_not_undo() {
    let tmp = tempfile::tempdir().expect("tempdir").keep();
    let c = cluster(&tmp, false);
    // A run killed from outside while it holds web at 1 replica; no guardian.
    let (mut cmd, jd, _) = harness(&c, &tmp, Mode::NextStart);
    let ledger = jd.join("ledger");
    let mut child = cmd
        .args(["--exact", "k8s_fixtures::sweep::scale_and_hold"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the harness starts");
    let applied = || {
        std::fs::read_dir(&ledger).is_ok_and(|d| {
            d.flatten()
                .any(|e| std::fs::read_to_string(e.path()).is_ok_and(|t| t.contains("\"applied\"")))
        })
    };
    assert!(wait(Duration::from_secs(30), || web_replicas(&c) == 1
        && applied()));
    child.kill().expect("SIGKILL");
    child.wait().expect("the harness ends");
    let marker = || marked(&c);
    assert_eq!(marker(), ["deployments \"web\""]);

    // Dry run: the recovery says what it would undo, touches nothing, keeps the entry.
    let (mut cmd, jd, cd) = harness(&c, &tmp, Mode::NextStart);
    let r = result(
        cmd.arg("--recover")
            .env("CHAOS_DRY_RUN", "1")
            .output()
            .expect("runs"),
        jd,
        cd,
    );
    assert_eq!(r.code, Some(0), "{}", r.all_output());
    assert!(r.stderr.contains("in dry run"), "{}", r.all_output());
    assert_eq!(web_replicas(&c), 1);
    assert_eq!(entries(&ledger), 1);
    assert_eq!(marker(), ["deployments \"web\""]);
    let journal: Value = serde_json::from_str(
        &std::fs::read_to_string(&recovered_journals(&tmp.join("journals"))[0]).expect("journal"),
    )
    .expect("JSON");
    assert_eq!(journal["recovered"]["dry_run"], true, "{journal:#}");

    // A guard refuses the undo: it fails (after its retries), and the entry and marker stay.
    let guarded = tmp.join("guarded.toml");
    let settings = std::fs::read_to_string(&c.settings).expect("settings");
    std::fs::write(
        &guarded,
        settings.replace(
            "[targets.k8s]\n",
            "[targets.k8s]\nallowed_namespaces = [\"elsewhere\"]\n",
        ),
    )
    .expect("settings");
    let (mut cmd, jd, cd) = harness(&c, &tmp, Mode::NextStart);
    let r = result(
        cmd.arg("--recover")
            .env("CHAOS_SETTINGS", &guarded)
            .output()
            .expect("runs"),
        jd,
        cd,
    );
    assert_eq!(r.code, Some(101), "{}", r.all_output());
    assert!(
        r.stderr
            .contains("1 undo(s) failed, kept for the next recovery"),
        "{}",
        r.all_output()
    );
    assert_eq!(web_replicas(&c), 1);
    assert_eq!(entries(&ledger), 1);
    assert_eq!(marker(), ["deployments \"web\""]);
    let journal: Value = serde_json::from_str(
        &std::fs::read_to_string(&recovered_journals(&tmp.join("journals"))[0]).expect("journal"),
    )
    .expect("JSON");
    assert_eq!(journal["outcome"], "rollback-failed", "{journal:#}");
    assert!(
        journal["recovered"]["undos"][0]["outcome"]["failed"]
            .as_str()
            .is_some_and(|w| w.contains("allowed_namespaces")),
        "{journal:#}"
    );

    // Allowed again: the recovery restores web, removes the marker and closes the entry.
    let r = recover(&c, &tmp);
    assert_eq!(r.code, Some(0), "{}", r.all_output());
    assert_eq!(web_replicas(&c), 3);
    assert_eq!(entries(&ledger), 0);
    assert_eq!(marker(), Vec::<String>::new());
}
