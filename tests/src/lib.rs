//! Support for the integration tests: running a harness binary as a subprocess and reading what
//! it left (exit code, output, journal, rollback counters). The HTTP receiver and moto's server
//! live in the shared `chaos-test-support` crate (`tests/support`).

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
    // One write: appends of processes running at once never interleave.
    f.write_all(format!("{}\n", cx.experiment()).as_bytes())?;
    Ok(())
}

/// Appends `<experiment> <what> <unix time in µs>` to `<CHAOS_COUNT_DIR>/timeline.log`; fixtures
/// call it so the tests can tell whether two runs overlapped (also across processes: the
/// wall clock is shared).
pub fn stamp(cx: &chaos_harness::Context, what: &str) -> Result<(), chaos_harness::BoxError> {
    use std::io::Write;
    let dir = cx.var("CHAOS_COUNT_DIR")?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?;
    let line = format!("{} {what} {}\n", cx.experiment(), now.as_micros());
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(Path::new(&dir).join("timeline.log"))?
        .write_all(line.as_bytes())?;
    Ok(())
}

/// Waits until experiment `other` has stamped `what` (see [`stamp`]), for at most `limit`;
/// fails if it never does. Two fixtures that wait for each other prove they overlapped.
pub async fn wait_for_stamp(
    cx: &chaos_harness::Context,
    other: &str,
    what: &str,
    limit: std::time::Duration,
) -> Result<(), chaos_harness::BoxError> {
    let path = Path::new(&cx.var("CHAOS_COUNT_DIR")?).join("timeline.log");
    let deadline = std::time::Instant::now() + limit;
    let prefix = format!("{other} {what} ");
    loop {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        if text.lines().any(|l| l.starts_with(&prefix)) {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err(
                format!("`{other}` did not {what} within {limit:?} of this experiment").into(),
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
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

    /// The `[start, end]` wall-clock interval (µs) of each experiment that [`stamp`]ed both a
    /// `start` and an `end`, by name.
    pub fn intervals(&self) -> BTreeMap<String, (u128, u128)> {
        let text = std::fs::read_to_string(self.count_dir.join("timeline.log")).unwrap_or_default();
        let mut starts = BTreeMap::new();
        let mut out = BTreeMap::new();
        for line in text.lines() {
            let mut parts = line.split(' ');
            let (Some(name), Some(what), Some(t)) = (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let Ok(t) = t.parse::<u128>() else { continue };
            match what {
                "start" => {
                    starts.insert(name.to_owned(), t);
                }
                "end" => {
                    if let Some(&s) = starts.get(name) {
                        out.insert(name.to_owned(), (s, t));
                    }
                }
                _ => {}
            }
        }
        out
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

/// A command for harness binary `exe`, with fresh journal, counter and lock directories under
/// `tmp`.
pub fn command(exe: &str, tmp: &Path) -> (Command, PathBuf, PathBuf) {
    let journal_dir = tmp.join("journals");
    let count_dir = tmp.join("counts");
    std::fs::create_dir_all(&count_dir).expect("count dir");
    let mut cmd = Command::new(exe);
    // A lock dir of its own: the runs of one test wait for each other (experiments of one
    // exclusion group run one at a time), not for those of the tests running alongside.
    cmd.env("CHAOS_JOURNAL_DIR", &journal_dir)
        .env("CHAOS_COUNT_DIR", &count_dir)
        .env("CHAOS_LOCK_DIR", tmp.join("locks"))
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
