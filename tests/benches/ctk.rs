//! FIGURE (issue 12, 1): the same Chaos Toolkit experiment file (the foundation's hello-world
//! benchmark in Chaos Toolkit's format, `shared/reference/chaostoolkit-experiment-hello.json`,
//! its URL pointed at the demo service) through Chaos Toolkit's `chaos run` and through this
//! framework's `chaos run`, side by side in one run.
//!
//! `cargo bench -p chaos-tests --bench ctk` (`CHAOS_BENCH_RUNS=N` runs of each, default 20).
//!
//! Ours is the release `chaos` binary of chaos-harness (built by the bench with `cargo build
//! --release -p chaos-harness --bin chaos`); Chaos Toolkit comes from the venv
//! `scripts/bench-chaostoolkit-venv.sh` makes (skipped with a note without pip). Runs are
//! interleaved after a warm-up; wall time from spawn to `wait4`, peak RSS from `wait4`. Every
//! run must pass; nothing asserts a timing.

mod common;

use common::{max, median, ms, percentile, run_measured, runs, target_dir};
use std::path::{Path, PathBuf};
use std::process::Command;

const WORKSPACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

fn experiment(url: &str, dir: &Path) -> PathBuf {
    let reference =
        Path::new(WORKSPACE).join("../shared/reference/chaostoolkit-experiment-hello.json");
    let text = std::fs::read_to_string(&reference)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", reference.display()));
    let mut exp: serde_json::Value = serde_json::from_str(&text).expect("the reference is JSON");
    exp["steady-state-hypothesis"]["probes"][0]["provider"]["url"] =
        serde_json::json!(format!("{url}/"));
    std::fs::create_dir_all(dir).expect("dir");
    let path = dir.join("experiment.json");
    std::fs::write(&path, exp.to_string()).expect("write");
    path
}

fn ours() -> PathBuf {
    common::chaos_binary(true, "")
}

fn chaostoolkit() -> Result<PathBuf, String> {
    let out = Command::new("bash")
        .arg(Path::new(WORKSPACE).join("scripts/bench-chaostoolkit-venv.sh"))
        .arg(target_dir().join("bench-chaostoolkit-venv"))
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_owned());
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

struct Series {
    walls: Vec<f64>,
    rss: Vec<f64>,
}

fn run(program: &Path, args: &[&str], exp: &Path, dir: &Path, series: &mut Series) {
    std::fs::create_dir_all(dir).expect("dir");
    let journal = dir.join("journal.json");
    let mut cmd = Command::new(program);
    cmd.current_dir(dir)
        .args(args)
        .arg("run")
        .arg("--journal-path")
        .arg(&journal)
        .arg(exp)
        .env("CHAOS_JOURNAL_DIR", dir.join("journals"))
        .env_remove("CHAOS_SETTINGS");
    let m = run_measured(&mut cmd, dir);
    assert_eq!(
        m.code,
        Some(0),
        "{} failed\n{}",
        program.display(),
        m.output()
    );
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&journal).expect("a journal")).expect("JSON");
    assert_eq!(j["status"], "completed", "{j:#}");
    series.walls.push(ms(m.wall));
    series.rss.push(m.rss_mib());
}

fn main() {
    let n = runs(20);
    let svc = chaos_examples::demo::DemoService::start().expect("the demo service starts");
    let tmp = tempfile::Builder::new()
        .prefix("bench-ctk-")
        .tempdir_in(target_dir())
        .expect("tempdir");
    let exp = experiment(&svc.url(), tmp.path());
    let ours = ours();
    let ctk = match chaostoolkit() {
        Ok(c) => Some(c),
        Err(why) => {
            println!("note: Chaos Toolkit skipped: {why}");
            None
        }
    };
    let ctk_args: &[&str] = &["--no-version-check", "--no-log-file"];
    let mut a = Series {
        walls: vec![],
        rss: vec![],
    };
    let mut b = Series {
        walls: vec![],
        rss: vec![],
    };
    let mut warm = Series {
        walls: vec![],
        rss: vec![],
    };
    run(&ours, &[], &exp, &tmp.path().join("warm-ours"), &mut warm);
    if let Some(c) = &ctk {
        run(c, ctk_args, &exp, &tmp.path().join("warm-ctk"), &mut warm);
    }
    for i in 0..n {
        run(
            &ours,
            &[],
            &exp,
            &tmp.path().join(format!("ours{i}")),
            &mut a,
        );
        if let Some(c) = &ctk {
            run(
                c,
                ctk_args,
                &exp,
                &tmp.path().join(format!("ctk{i}")),
                &mut b,
            );
        }
    }
    println!();
    println!("== FIGURE (issue 12, 1): one Chaos Toolkit file, `chaos run` of each, {n} runs interleaved ==");
    let line = |label: &str, s: &Series| {
        println!(
            "{label:<28} wall median {:>7.1} ms  p90 {:>7.1}  max {:>7.1}   peak RSS median {:>5.1} MiB  max {:>5.1}",
            median(&s.walls),
            percentile(&s.walls, 90.0),
            max(&s.walls),
            median(&s.rss),
            max(&s.rss)
        )
    };
    line("chaos-harness `chaos run`", &a);
    if ctk.is_some() {
        line("Chaos Toolkit `chaos run`", &b);
        println!(
            "FIGURE (issue 12, 1): {:.1} ms vs {:.0} ms median ({:.0}x faster), {:.1} MiB vs {:.1} MiB peak RSS ({:.1}x less)",
            median(&a.walls),
            median(&b.walls),
            median(&b.walls) / median(&a.walls),
            median(&a.rss),
            median(&b.rss),
            median(&b.rss) / median(&a.rss)
        );
    }
}
