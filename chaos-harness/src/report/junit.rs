//! The JUnit XML file of a harness run (`[report] junit`, `CHAOS_JUNIT`): one testsuite per
//! experiment (its properties: outcome, expected outcome, seed, journal) holding one testcase,
//! classname the experiment's module path and name its function (or file) name.
//!
//! Outcomes map as CI systems read them: `passed` (or the outcome an experiment `expect`s) is a
//! success; `deviated`, a snapshot that differs, or an outcome other than the expected one is a
//! `<failure>` (the system missed its hypothesis); `baseline-not-met`, `activity-failed`,
//! `rollback-failed`, `aborted`, `interrupted` and `error` are an `<error>` (the experiment could
//! not test its hypothesis); an ignored experiment is `<skipped>`. The verdict is the message
//! (its first line) and the body.
//!
//! The file validates against the JUnit schema Jenkins' xUnit plugin ships (`junit-10.xsd`),
//! which GitLab reads too; quick-junit (nextest's writer) is not used because it writes
//! attributes that schema refuses (`skipped` on `<testsuites>`).
//!
//! Under nextest each experiment runs in a process of its own: each process leaves its case in
//! `<file>.parts/<NEXTEST_RUN_ID>/` and rewrites the file from every case of the run, under a
//! lock, so the file is whole when the run ends.

use chaos_runtime::Outcome;
use quick_xml::events::BytesText;
use quick_xml::Writer;
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
}

/// How CI systems read a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Success,
    Failure,
    Error,
    Skipped,
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
        }
    }

    fn status(&self) -> Status {
        match self.outcome {
            None => Status::Skipped,
            Some(_) if self.problems.is_empty() => Status::Success,
            Some(o) if o == self.expected => Status::Failure, // a snapshot that differs
            Some(Outcome::Deviated) | Some(Outcome::Passed) => Status::Failure,
            Some(_) if self.expected != Outcome::Passed => Status::Failure,
            Some(_) => Status::Error,
        }
    }

    /// `(classname, name)`: the module path and the last segment.
    fn names(&self, target: &str) -> (String, String) {
        match self.name.rsplit_once("::") {
            Some((module, f)) => (module.to_owned(), f.to_owned()),
            None => (target.to_owned(), self.name.clone()),
        }
    }
}

/// The cases of this process, for the file written when its trials are over.
static CASES: Mutex<Vec<Case>> = Mutex::new(Vec::new());

/// Records `case`; under nextest (one experiment per process), also rewrites `file` at once
/// from every case of the run.
pub(crate) fn record(file: Option<&Path>, target: &str, case: Case) {
    let Some(file) = file else { return };
    match std::env::var("NEXTEST_RUN_ID") {
        Ok(run) if !run.is_empty() => {
            if let Err(e) = record_shared(file, target, &run, &case) {
                eprintln!("chaos: JUnit file {}: {e}", file.display());
            }
        }
        _ => CASES.lock().unwrap_or_else(|p| p.into_inner()).push(case),
    }
}

/// Writes this process's cases and `skipped` (the ignored experiments it listed) to `file`;
/// under nextest, adds `skipped` to the run's cases (the others are in already).
pub(crate) fn finish(file: Option<&Path>, target: &str, skipped: Vec<Case>) {
    let Some(file) = file else { return };
    if std::env::var("NEXTEST_RUN_ID").is_ok_and(|r| !r.is_empty()) {
        for case in skipped {
            record(Some(file), target, case);
        }
        return;
    }
    let mut cases = std::mem::take(&mut *CASES.lock().unwrap_or_else(|p| p.into_inner()));
    cases.extend(skipped);
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    if let Err(e) = write_atomic(file, &render(target, &cases)) {
        eprintln!("chaos: JUnit file {}: {e}", file.display());
    }
}

fn parts_dir(file: &Path) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push(".parts");
    file.with_file_name(name)
}

fn record_shared(file: &Path, target: &str, run: &str, case: &Case) -> io::Result<()> {
    let parts = parts_dir(file);
    let dir = parts.join(sanitize(run));
    std::fs::create_dir_all(&dir)?;
    let part = dir.join(format!("{}.json", sanitize(&case.name)));
    let json = serde_json::to_vec(case).map_err(io::Error::other)?;
    write_atomic(&part, &json)?;
    let mut lock_name = file.file_name().unwrap_or_default().to_os_string();
    lock_name.push(".lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(file.with_file_name(lock_name))?;
    lock.lock()?;
    // Earlier runs' parts go once they are an hour old.
    for entry in std::fs::read_dir(&parts)?.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age > Duration::from_secs(3600));
        if old && entry.path() != dir {
            let _ = std::fs::remove_dir_all(entry.path());
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
                    "chaos: JUnit part {} is unreadable; left out",
                    path.display()
                ),
            }
        }
    }
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    write_atomic(file, &render(target, &cases))
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

/// Text as XML may hold it: no control characters but tab and newlines.
fn xml_text(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t' | '\r'))
        .collect()
}

/// The JUnit XML of `cases`, for the test target `target`.
pub(crate) fn render(target: &str, cases: &[Case]) -> Vec<u8> {
    let count = |s: Status| cases.iter().filter(|c| c.status() == s).count();
    let total: f64 = cases.iter().map(|c| c.seconds).sum();
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    let result = (|| -> io::Result<()> {
        w.write_event(quick_xml::events::Event::Decl(
            quick_xml::events::BytesDecl::new("1.0", Some("UTF-8"), None),
        ))?;
        w.create_element("testsuites")
            .with_attribute(("name", target))
            .with_attribute(("tests", cases.len().to_string().as_str()))
            .with_attribute(("failures", count(Status::Failure).to_string().as_str()))
            .with_attribute(("errors", count(Status::Error).to_string().as_str()))
            .with_attribute(("time", format!("{total:.3}").as_str()))
            .write_inner_content(|w| {
                for case in cases {
                    suite(w, target, case)?;
                }
                Ok(())
            })?;
        Ok(())
    })();
    // Writing to a Vec cannot fail.
    debug_assert!(result.is_ok());
    let mut out = w.into_inner();
    out.push(b'\n');
    out
}

fn suite(w: &mut Writer<Vec<u8>>, target: &str, case: &Case) -> io::Result<()> {
    let status = case.status();
    let one = |s: Status| if status == s { "1" } else { "0" };
    let time = format!("{:.3}", case.seconds.max(0.0));
    let mut el = w
        .create_element("testsuite")
        .with_attribute(("name", case.name.as_str()))
        .with_attribute(("tests", "1"))
        .with_attribute(("failures", one(Status::Failure)))
        .with_attribute(("errors", one(Status::Error)))
        .with_attribute(("skipped", one(Status::Skipped)))
        .with_attribute(("time", time.as_str()));
    if let Some(start) = &case.start {
        el = el.with_attribute(("timestamp", start.as_str()));
    }
    el.write_inner_content(|w| {
        w.create_element("properties").write_inner_content(|w| {
            let outcome = case.outcome.map_or("not run", |o| o.as_str());
            let seed = case.seed.map(|s| s.to_string());
            let journal = case.journal.as_ref().map(|j| j.display().to_string());
            let props = [
                ("outcome", Some(outcome)),
                ("expected", Some(case.expected.as_str())),
                ("seed", seed.as_deref()),
                ("journal", journal.as_deref()),
            ];
            for (name, value) in props {
                if let Some(value) = value {
                    w.create_element("property")
                        .with_attribute(("name", name))
                        .with_attribute(("value", xml_text(value).as_str()))
                        .write_empty()?;
                }
            }
            Ok(())
        })?;
        let (classname, name) = case.names(target);
        let tc = w
            .create_element("testcase")
            .with_attribute(("name", name.as_str()))
            .with_attribute(("classname", classname.as_str()))
            .with_attribute(("time", time.as_str()));
        let body = xml_text(&case.problems.join("\n"));
        let message = body.lines().next().unwrap_or_default().to_owned();
        let outcome = case.outcome.map_or("ignored", |o| o.as_str());
        match status {
            Status::Success => {
                tc.write_empty()?;
            }
            Status::Skipped => {
                tc.write_inner_content(|w| {
                    w.create_element("skipped")
                        .with_attribute(("message", "ignored"))
                        .write_empty()?;
                    Ok(())
                })?;
            }
            Status::Failure | Status::Error => {
                let element = if status == Status::Failure {
                    "failure"
                } else {
                    "error"
                };
                tc.write_inner_content(|w| {
                    w.create_element(element)
                        .with_attribute(("type", outcome))
                        .with_attribute(("message", message.as_str()))
                        .write_text_content(BytesText::new(&body))?;
                    Ok(())
                })?;
            }
        }
        Ok(())
    })?;
    Ok(())
}

#[cfg(test)]
mod tests;
