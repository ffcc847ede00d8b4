//! Support for the integration tests: running a harness binary as a subprocess and reading what
//! it left (exit code, output, journal, rollback counters).

pub mod moto;
pub mod receiver;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Appends one line to `<CHAOS_COUNT_DIR>/<what>.count`; fixtures call it from activities so
/// the tests can count how many times each ran.
pub fn count(cx: &chaos_harness::Context, what: &str) -> Result<(), chaos_harness::BoxError> {
    use std::io::Write;
    let dir = cx.var("CHAOS_COUNT_DIR")?;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(Path::new(&dir).join(format!("{what}.count")))?;
    writeln!(f, "{}", cx.experiment())?;
    Ok(())
}

/// What one run of a harness binary left behind.
#[derive(Debug)]
pub struct RunResult {
    /// The exit code (`None` when killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// The journal directory.
    pub journal_dir: PathBuf,
    /// The counter directory.
    pub count_dir: PathBuf,
}

impl RunResult {
    /// The journal of experiment `name`.
    pub fn journal(&self, name: &str) -> Value {
        let path = self
            .journal_dir
            .join(format!("{}.json", name.replace("::", "__")));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "journal {} missing: {e}\n{}",
                path.display(),
                self.all_output()
            )
        });
        serde_json::from_str(&text).expect("journal is JSON")
    }

    /// How many times counter `what` was bumped.
    pub fn count(&self, what: &str) -> usize {
        std::fs::read_to_string(self.count_dir.join(format!("{what}.count")))
            .map(|s| s.lines().count())
            .unwrap_or(0)
    }

    /// All counters.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        if let Ok(rd) = std::fs::read_dir(&self.count_dir) {
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if let Some(stem) = name.strip_suffix(".count") {
                    m.insert(stem.to_owned(), self.count(stem));
                }
            }
        }
        m
    }

    /// Stdout and stderr together, for assertion messages.
    pub fn all_output(&self) -> String {
        format!("--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr)
    }
}

/// A command for harness binary `exe`, with fresh journal and counter directories under `tmp`.
pub fn command(exe: &str, tmp: &Path) -> (Command, PathBuf, PathBuf) {
    let journal_dir = tmp.join("journals");
    let count_dir = tmp.join("counts");
    std::fs::create_dir_all(&count_dir).expect("count dir");
    let mut cmd = Command::new(exe);
    cmd.env("CHAOS_JOURNAL_DIR", &journal_dir)
        .env("CHAOS_COUNT_DIR", &count_dir)
        .env_remove("CHAOS_SEED")
        .env("RUST_BACKTRACE", "0");
    (cmd, journal_dir, count_dir)
}

/// Collects a finished process's result.
pub fn result(out: Output, journal_dir: PathBuf, count_dir: PathBuf) -> RunResult {
    RunResult {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        journal_dir,
        count_dir,
    }
}

/// Runs exactly one experiment of harness binary `exe` with extra arguments.
pub fn run_exact(exe: &str, tmp: &Path, name: &str, extra_env: &[(&str, &str)]) -> RunResult {
    let (mut cmd, j, c) = command(exe, tmp);
    cmd.args(["--exact", name, "--test-threads", "1"]);
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("harness binary runs");
    result(out, j, c)
}
