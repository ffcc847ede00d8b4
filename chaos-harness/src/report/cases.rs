//! The experiments of a harness run as the files written after it see them: each trial leaves
//! its case here, and the JUnit file ([`super::junit`], when asked for) and the HTML report
//! ([`super::html`], unless `off`) are written from every case of the run.
//!
//! Under `cargo test` the files are written once, when the trials are over. Under nextest each
//! experiment runs in a process of its own: each process leaves its case in
//! `.run-parts/<NEXTEST_RUN_ID>/` of the journal directory and rewrites the files from every
//! case of the run, under a lock, so that they are whole when the run ends.

use super::html::{read_journal, Entry, Recent, Report};
use chaos_runtime::history::{Run, Store};
use chaos_runtime::Outcome;
use serde::{Deserialize, Serialize};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// One experiment's result.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub(crate) struct Case {
    /// `module::function`, or the file's trial name.
    pub name: String,
    /// The outcome; `None` when it did not run (ignored).
    pub outcome: Option<Outcome>,
    /// The outcome it was expected to end with.
    pub expected: Outcome,
    pub seed: Option<u64>,
    pub journal: Option<PathBuf>,
    pub seconds: f64,
    /// When it started (RFC 3339).
    pub start: Option<String>,
    /// Why the trial failed (the verdict, redacted), empty when it did not.
    pub problems: Vec<String>,
    /// Whether the journal matched its snapshot (`None`: not snapshotted).
    #[serde(default)]
    pub snapshot: Option<bool>,
    /// Why it did not run, when the harness skipped it (outside its window, too soon after
    /// its last run); `None` for an ignored experiment, or one that ran.
    #[serde(default)]
    pub skipped: Option<String>,
}

impl Case {
    /// An experiment listed but not run (ignored).
    pub(crate) fn not_run(name: &str) -> Case {
        Case {
            name: name.to_owned(),
            outcome: None,
            expected: Outcome::Passed,
            seed: None,
            journal: None,
            seconds: 0.0,
            start: None,
            problems: Vec::new(),
            snapshot: None,
            skipped: None,
        }
    }

    /// An experiment the harness skipped, with why.
    pub(crate) fn skipped(name: &str, why: &str) -> Case {
        Case {
            skipped: Some(why.to_owned()),
            ..Case::not_run(name)
        }
    }
}

/// Where a run's files go.
#[derive(Clone, Debug)]
pub(crate) struct Outputs {
    /// The test target (its source file's stem).
    pub target: String,
    /// The JUnit file, when asked for.
    pub junit: Option<PathBuf>,
    /// The HTML report, unless `off`.
    pub html: Option<PathBuf>,
    /// The run history, for the report's recent outcomes.
    pub history: Option<PathBuf>,
    /// Where nextest's processes leave their cases.
    pub parts: PathBuf,
}

impl Outputs {
    fn any(&self) -> bool {
        self.junit.is_some() || self.html.is_some()
    }
}

/// The cases of this process, for the files written when its trials are over.
static CASES: Mutex<Vec<Case>> = Mutex::new(Vec::new());

fn nextest_run() -> Option<String> {
    std::env::var("NEXTEST_RUN_ID")
        .ok()
        .filter(|r| !r.is_empty())
}

/// Records `case`; under nextest (one experiment per process), also rewrites the files at
/// once from every case of the run.
pub(crate) fn record(out: &Outputs, case: Case) {
    if !out.any() {
        return;
    }
    match nextest_run() {
        Some(run) => {
            if let Err(e) = record_shared(out, &run, &case) {
                eprintln!("chaos: the run's reports (in {}): {e}", out.parts.display());
            }
        }
        None => CASES.lock().unwrap_or_else(|p| p.into_inner()).push(case),
    }
}

/// Writes the files from this process's cases and `skipped` (the ignored experiments it
/// listed); under nextest, adds `skipped` to the run's cases (the others are in already).
pub(crate) fn finish(out: &Outputs, skipped: Vec<Case>) {
    if !out.any() {
        return;
    }
    if nextest_run().is_some() {
        for case in skipped {
            record(out, case);
        }
        return;
    }
    let mut cases = std::mem::take(&mut *CASES.lock().unwrap_or_else(|p| p.into_inner()));
    cases.extend(skipped);
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    write_all(out, &cases);
}

fn record_shared(out: &Outputs, run: &str, case: &Case) -> io::Result<()> {
    let dir = out.parts.join(sanitize(run));
    let lock_path = out.parts.join(format!("{}.lock", sanitize(run)));
    std::fs::create_dir_all(&dir)?;
    let part = dir.join(format!("{}.json", sanitize(&case.name)));
    let json = serde_json::to_vec(case).map_err(io::Error::other)?;
    write_atomic(&part, &json)?;
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)?;
    lock.lock()?;
    // Earlier runs' parts go once they are an hour old.
    for entry in std::fs::read_dir(&out.parts)?.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age > Duration::from_secs(3600));
        let ours = entry.path() == dir || entry.path() == lock_path;
        if old && !ours {
            let path = entry.path();
            let _ = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
        }
    }
    let mut cases: Vec<Case> = Vec::new();
    for entry in std::fs::read_dir(&dir)?.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "json") {
            match std::fs::read(&path)
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
            {
                Some(c) => cases.push(c),
                None => eprintln!(
                    "chaos: the case {} is unreadable; left out of the reports",
                    path.display()
                ),
            }
        }
    }
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    write_all(out, &cases);
    Ok(())
}

/// Writes the JUnit file and the HTML report of `cases`; a file that cannot be written is
/// reported, not fatal.
fn write_all(out: &Outputs, cases: &[Case]) {
    if let Some(file) = &out.junit {
        if let Err(e) = write_atomic(file, &super::junit::render(&out.target, cases)) {
            eprintln!("chaos: JUnit file {}: {e}", file.display());
        }
    }
    if let Some(file) = &out.html {
        let inputs: Vec<(PathBuf, Option<bool>)> = cases
            .iter()
            .filter_map(|c| c.journal.clone().map(|j| (j, c.snapshot)))
            .collect();
        let title = format!("Chaos run of {}", out.target);
        let skipped: Vec<(String, String)> = cases
            .iter()
            .filter_map(|c| c.skipped.clone().map(|why| (c.name.clone(), why)))
            .collect();
        if let Err(e) = write_html(file, &title, &inputs, &skipped, out.history.as_deref()) {
            eprintln!("chaos: HTML report {}: {e}", file.display());
        }
    }
}

/// Writes the HTML report of the journals `inputs` (each with its snapshot state) and of the
/// experiments `skipped` (with why) to `file`, with each experiment's last outcomes from
/// `history` when it exists; returns the journals left out (not journals, or unreadable), each
/// reported on stderr.
pub(crate) fn write_html(
    file: &Path,
    title: &str,
    inputs: &[(PathBuf, Option<bool>)],
    skipped: &[(String, String)],
    history: Option<&Path>,
) -> io::Result<usize> {
    let store = history
        .filter(|h| h.is_file())
        .and_then(|h| match Store::open(h) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::warn!("{e}; the report shows no recent outcomes");
                None
            }
        });
    let dir = file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
    let mut report = Report::new(title).written_to(&dir);
    for (name, why) in skipped {
        report = report.skipped(name, why);
    }
    let mut left_out = 0;
    for (path, snapshot) in inputs {
        match read_journal(path) {
            Ok(journal) => {
                let name = Run::from_journal(&journal, None, None).experiment;
                let mut entry = Entry::new(journal);
                if let Some(store) = &store {
                    match store.recent(&name, 10) {
                        Ok(recent) => {
                            entry = entry.recent(
                                recent
                                    .into_iter()
                                    .map(|(outcome, start)| Recent { outcome, start })
                                    .collect(),
                            )
                        }
                        Err(e) => tracing::warn!("{e}; the report shows no recent outcomes"),
                    }
                }
                let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
                entry = entry.path(abs);
                if let Some(s) = snapshot {
                    entry = entry.snapshot(*s);
                }
                report = report.entry(entry);
            }
            Err(e) => {
                eprintln!("chaos: {e}; left out of the report");
                report = report.left_out(path, &e.to_string());
                left_out += 1;
            }
        }
    }
    write_atomic(file, report.render().as_bytes())?;
    Ok(left_out)
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut tmp = path.as_os_str().to_os_string();
    tmp.push(format!(".tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}
