//! What the bench drivers share: running a child process while measuring its wall time and peak
//! RSS (`wait4`'s rusage), and order statistics.
//!
//! Machines are shared and noisy: drivers measure side by side in one run and report medians
//! (and worst values); nothing here asserts a timing.

#![allow(dead_code)] // Each bench uses its own part.

use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What one measured child process did.
#[derive(Debug)]
pub struct Measured {
    /// From just before `spawn` to the return of `wait4`.
    pub wall: Duration,
    /// Peak resident set size, in KiB (`ru_maxrss`; includes the child's waited-for children).
    pub maxrss_kib: u64,
    /// User CPU time (`ru_utime`, with the waited-for children's).
    pub user: Duration,
    /// System CPU time (`ru_stime`, with the waited-for children's).
    pub sys: Duration,
    /// The exit code, `None` when killed by a signal.
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Measured {
    /// Peak RSS in MiB.
    pub fn rss_mib(&self) -> f64 {
        self.maxrss_kib as f64 / 1024.0
    }
    /// Both outputs, for error messages.
    pub fn output(&self) -> String {
        format!("--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr)
    }
}

/// Runs `cmd` to completion with its outputs sent to files in `out_dir`, and measures it.
///
/// # Panics
/// If the process cannot be started or waited for.
pub fn run_measured(cmd: &mut Command, out_dir: &Path) -> Measured {
    std::fs::create_dir_all(out_dir).expect("output dir");
    let out_path = out_dir.join("stdout.txt");
    let err_path = out_dir.join("stderr.txt");
    cmd.stdin(Stdio::null())
        .stdout(File::create(&out_path).expect("stdout file"))
        .stderr(File::create(&err_path).expect("stderr file"));
    let started = Instant::now();
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero `rusage` is a valid value; `wait4` fills it in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `pid` is our child, not yet reaped (`Child` never waited for it); the
        // pointers are to live locals.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            break;
        }
        let err = std::io::Error::last_os_error();
        assert_eq!(
            err.kind(),
            std::io::ErrorKind::Interrupted,
            "wait4({pid}) failed: {err}"
        );
    }
    let wall = started.elapsed();
    // The child is reaped: dropping `Child` neither waits nor kills.
    drop(child);
    let code = if libc::WIFEXITED(status) {
        Some(libc::WEXITSTATUS(status))
    } else {
        None
    };
    Measured {
        wall,
        maxrss_kib: usage.ru_maxrss.max(0) as u64,
        user: timeval(usage.ru_utime),
        sys: timeval(usage.ru_stime),
        code,
        stdout: std::fs::read_to_string(&out_path).unwrap_or_default(),
        stderr: std::fs::read_to_string(&err_path).unwrap_or_default(),
    }
}

fn timeval(t: libc::timeval) -> Duration {
    Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
}

/// The `p`-th percentile (0..=100) of `values`, by nearest rank; `NaN` when empty.
pub fn percentile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

/// The median (the mean of the two middle values for an even count); `NaN` when empty.
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The smallest value; `NaN` when empty.
pub fn min(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::NAN, f64::min)
}

/// The largest value; `NaN` when empty.
pub fn max(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::NAN, f64::max)
}

/// The value of largest magnitude, sign kept; `NaN` when empty.
pub fn worst(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::NAN, |w, v| {
        if w.is_nan() || v.abs() > w.abs() {
            v
        } else {
            w
        }
    })
}

/// Milliseconds of a duration.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// How many runs: `CHAOS_BENCH_RUNS` when set, else `default`.
pub fn runs(default: usize) -> usize {
    std::env::var("CHAOS_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(default)
}

/// Counts the finished journals (`*.json`, not the atomic-write temporaries) in `dir`.
pub fn count_journals(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter(|e| {
                    let n = e.file_name();
                    let n = n.to_string_lossy();
                    n.ends_with(".json") && !n.starts_with('.')
                })
                .count()
        })
        .unwrap_or(0)
}

/// Where the workspace's target directory is: `CARGO_TARGET_DIR`, else `<workspace>/target`.
pub fn target_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

/// The `chaos` binary of chaos-harness, built with `features` (a release build when
/// `release`); its path.
pub fn chaos_binary(release: bool, features: &str) -> std::path::PathBuf {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .args(["build", "--quiet", "-p", "chaos-harness", "--bin", "chaos"]);
    if release {
        cmd.arg("--release");
    }
    if !features.is_empty() {
        cmd.args(["--features", features]);
    }
    let status = cmd.status().expect("cargo runs");
    assert!(status.success(), "cargo build of `chaos` failed");
    target_dir().join(if release {
        "release/chaos"
    } else {
        "debug/chaos"
    })
}
