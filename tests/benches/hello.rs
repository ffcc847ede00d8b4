//! FIGURE 2: the hello-world experiment as a whole process, and Chaos Toolkit side by side.
//!
//! `cargo bench -p chaos-tests --bench hello` (`CHAOS_BENCH_RUNS=N` for N runs, default 30).
//!
//! The driver starts the demo HTTP service in-process and runs, N times each and interleaved:
//! - the release binary `bench-hello` (only the hello-world experiment: steady state `GET` the
//!   service answers 200 with a 3 s timeout, checked before and after; method `echo hello`),
//!   with `service_url` in its environment and a fresh `CHAOS_JOURNAL_DIR`;
//! - when available, Chaos Toolkit's `chaos run` on the same experiment in its format
//!   (`shared/reference/chaostoolkit-experiment-hello.json`, its URL pointed at the service),
//!   from a venv that `scripts/bench-chaostoolkit-venv.sh` creates under the target directory.
//!   Without python3/pip/Chaos Toolkit that part is skipped with a note.
//!
//! Wall time is from `spawn` to `wait4`; peak RSS is `wait4`'s `ru_maxrss` (which includes the
//! waited-for `echo`). Every run must pass; nothing asserts a timing.

mod common;

use common::{max, median, ms, percentile, run_measured, runs, target_dir, Measured};
use std::path::{Path, PathBuf};
use std::process::Command;

const EXE: &str = env!("CARGO_BIN_EXE_bench-hello");
const WORKSPACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

fn run_ours(url: &str, dir: &Path, ledger: bool) -> Measured {
    let journals = dir.join("journals");
    let mut cmd = Command::new(EXE);
    if !ledger {
        cmd.env("CHAOS_LEDGER", "off");
    }
    cmd.env("service_url", url)
        .env("CHAOS_JOURNAL_DIR", &journals)
        .env_remove("CHAOS_SEED")
        .env_remove("CHAOS_PROGRESS");
    let m = run_measured(&mut cmd, dir);
    assert_eq!(m.code, Some(0), "bench-hello failed\n{}", m.output());
    let text = std::fs::read_to_string(journals.join("bench_hello__hello_world.json"))
        .expect("the journal is written");
    let j: serde_json::Value = serde_json::from_str(&text).expect("journal is JSON");
    assert_eq!(j["outcome"], "passed", "{text}");
    m
}

/// Chaos Toolkit's `chaos` and the experiment adapted to `url`, or why not.
fn chaostoolkit(url: &str, dir: &Path) -> Result<(PathBuf, PathBuf), String> {
    let reference = std::env::var_os("CHAOS_CTK_EXPERIMENT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(WORKSPACE).join("../shared/reference/chaostoolkit-experiment-hello.json")
        });
    let text = std::fs::read_to_string(&reference)
        .map_err(|e| format!("cannot read {}: {e}", reference.display()))?;
    let mut exp: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", reference.display()))?;
    let probe_url = exp
        .pointer_mut("/steady-state-hypothesis/probes/0/provider/url")
        .ok_or("the reference experiment has no probe URL")?;
    *probe_url = serde_json::json!(format!("{url}/"));
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let exp_path = dir.join("experiment.json");
    std::fs::write(&exp_path, exp.to_string()).map_err(|e| e.to_string())?;

    let venv = target_dir().join("bench-chaostoolkit-venv");
    let out = Command::new("bash")
        .arg(Path::new(WORKSPACE).join("scripts/bench-chaostoolkit-venv.sh"))
        .arg(&venv)
        .output()
        .map_err(|e| format!("cannot run scripts/bench-chaostoolkit-venv.sh: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "scripts/bench-chaostoolkit-venv.sh failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let chaos = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let version = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    println!("chaos toolkit: {version} ({})", chaos.display());
    Ok((chaos, exp_path))
}

fn run_chaostoolkit(chaos: &Path, exp: &Path, dir: &Path) -> Result<Measured, String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let journal = dir.join("journal.json");
    let mut cmd = Command::new(chaos);
    cmd.current_dir(dir)
        .arg("--no-version-check")
        .arg("--log-file")
        .arg(dir.join("chaostoolkit.log"))
        .arg("run")
        .arg("--journal-path")
        .arg(&journal)
        .arg(exp);
    let m = run_measured(&mut cmd, dir);
    if m.code != Some(0) {
        return Err(format!("chaos run failed\n{}", m.output()));
    }
    let text = std::fs::read_to_string(&journal).map_err(|e| format!("no journal: {e}"))?;
    let j: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    if j["status"] != "completed" {
        return Err(format!("chaos run ended `{}`", j["status"]));
    }
    Ok(m)
}

struct Series {
    walls: Vec<f64>,
    rss: Vec<f64>,
    cpu: Vec<f64>,
}

impl Series {
    fn new() -> Self {
        Series {
            walls: Vec::new(),
            rss: Vec::new(),
            cpu: Vec::new(),
        }
    }
    fn push(&mut self, m: &Measured) {
        self.walls.push(ms(m.wall));
        self.rss.push(m.rss_mib());
        self.cpu.push(ms(m.user + m.sys));
    }
    fn line(&self, label: &str) -> String {
        format!(
            "{label:<14} wall median {:>7.1} ms  p90 {:>7.1}  max {:>7.1}   CPU median {:>7.1} ms   peak RSS median {:>5.1} MiB  max {:>5.1} MiB",
            median(&self.walls),
            percentile(&self.walls, 90.0),
            max(&self.walls),
            median(&self.cpu),
            median(&self.rss),
            max(&self.rss)
        )
    }
}

fn main() {
    let n = runs(30);
    let svc = chaos_examples::demo::DemoService::start().expect("the demo service starts");
    let url = svc.url();
    // On the disk of the target directory, where journals and the ledger live by default.
    let tmp = tempfile::Builder::new()
        .prefix("bench-hello-")
        .tempdir_in(target_dir())
        .expect("tempdir");

    let ctk = match chaostoolkit(&url, &tmp.path().join("ctk")) {
        Ok(c) => Some(c),
        Err(why) => {
            println!("note: Chaos Toolkit skipped: {why}");
            None
        }
    };
    let mut ctk = ctk.and_then(|(chaos, exp)| {
        // Warm-up run, which also checks that it works at all.
        match run_chaostoolkit(&chaos, &exp, &tmp.path().join("ctk-warm")) {
            Ok(_) => Some((chaos, exp, Series::new())),
            Err(why) => {
                println!("note: Chaos Toolkit skipped: {why}");
                None
            }
        }
    });

    for w in 0..2 {
        run_ours(&url, &tmp.path().join(format!("warm{w}")), true);
    }
    let mut ours = Series::new();
    let mut off = Series::new();
    for i in 0..n {
        let m = run_ours(&url, &tmp.path().join(format!("ours{i}")), true);
        ours.push(&m);
        off.push(&run_ours(&url, &tmp.path().join(format!("off{i}")), false));
        let mut failed = false;
        if let Some((chaos, exp, series)) = &mut ctk {
            match run_chaostoolkit(chaos, exp, &tmp.path().join(format!("ctk{i}"))) {
                Ok(m) => series.push(&m),
                Err(why) => {
                    println!("note: Chaos Toolkit run {i} failed, dropped: {why}");
                    failed = true;
                }
            }
        }
        if failed {
            ctk = None;
        }
    }

    let requests = svc.requests();
    println!();
    println!("== FIGURE 2: the hello-world experiment as a whole process ==");
    println!(
        "binary: {EXE} (release); service: demo service at {url} ({requests} requests served)"
    );
    println!(
        "runs: {n} of each, interleaved, after warm-up; every run passed and wrote its journal"
    );
    println!("{}", ours.line("chaos-harness"));
    println!("{}", off.line("CHAOS_LEDGER=off"));
    println!(
        "FIGURE (issue 11, 1): the ledger costs hello world {:+.2} ms median wall, {:+.2} ms CPU (target: under 1 ms)",
        median(&ours.walls) - median(&off.walls),
        median(&ours.cpu) - median(&off.cpu)
    );
    let wall = median(&ours.walls);
    let p90 = percentile(&ours.walls, 90.0);
    let rss = median(&ours.rss);
    let rss_max = max(&ours.rss);
    match &ctk {
        Some((_, _, s)) => {
            println!("{}", s.line("chaos toolkit"));
            println!(
                "FIGURE 2 (Chaos Toolkit, same run): {:.0} ms median (p90 {:.0} ms), peak RSS {:.1} MiB median (max {:.1} MiB); chaos-harness is {:.0}x faster and uses {:.1}x less memory",
                median(&s.walls),
                percentile(&s.walls, 90.0),
                median(&s.rss),
                max(&s.rss),
                median(&s.walls) / wall,
                median(&s.rss) / rss
            );
        }
        None => println!("chaos toolkit: not measured (see the note above)"),
    }
    println!(
        "FIGURE 2: hello world in {wall:.1} ms median (p90 {p90:.1} ms), peak RSS {rss:.1} MiB median (max {rss_max:.1} MiB) (targets < 20 ms, < 15 MB = {:.1} MiB)",
        15e6 / (1024.0 * 1024.0)
    );
}
