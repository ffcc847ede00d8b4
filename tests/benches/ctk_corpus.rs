//! FIGURE (issue 12, 2): the corpus of public Chaos Toolkit experiments (`tests/ctk/corpus/`,
//! sources in `tests/ctk/SOURCES.tsv`) through Chaos Toolkit's `chaos validate` (with
//! chaostoolkit-kubernetes and chaostoolkit-aws installed) and through ours.
//!
//! `cargo bench -p chaos-tests --bench ctk_corpus`
//!
//! For each file: whether each calls it valid; the kinds of problems ours reports where the
//! verdicts differ; whether ours would run it, given the environment variables its
//! configuration reads (problems that are only a missing environment variable do not count).
//! Both validate with an empty environment for the files' variables.
//!
//! Then the runnable files run through both `chaos run`s, each on targets of its own seeded
//! alike ([`run`]), and their verdicts are compared: passed for both, or for neither.
//! `CHAOS_CORPUS_RUN=0` skips the runs.

mod common;
#[path = "ctk_corpus/run.rs"]
mod run;

use chaos_runtime::ctk::{ExperimentFile, Inputs};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const WORKSPACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

fn chaostoolkit() -> Result<PathBuf, String> {
    let out = Command::new("bash")
        .arg(Path::new(WORKSPACE).join("scripts/bench-chaostoolkit-venv.sh"))
        .arg(common::target_dir().join("bench-chaostoolkit-venv"))
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_owned());
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// The kind of one of our problems, for the table.
fn kind(message: &str) -> &'static str {
    if message.contains("has no native equivalent here") {
        "Python module with no native equivalent"
    } else if message.contains("does not expose a function") {
        "function that does not exist"
    } else if message.contains("environment key that does not exist") {
        "environment variable not set"
    } else if message.starts_with("unknown key") {
        "unknown or misplaced key"
    } else if message.contains("given twice") {
        "key given twice"
    } else if message.contains("cannot be found, in activity") {
        "process path not found"
    } else if message.contains("dynamic configuration") {
        "dynamic configuration"
    } else if message.contains("Vault") {
        "Vault secret"
    } else if message.contains("argument '") {
        "unknown or missing argument"
    } else {
        "other"
    }
}

fn main() {
    let dir = Path::new(WORKSPACE).join("tests/ctk/corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("the corpus")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("json" | "yaml" | "yml")
            )
        })
        .collect();
    files.sort();
    let ctk = chaostoolkit();
    if let Err(why) = &ctk {
        println!("note: Chaos Toolkit skipped: {why}");
    }
    let empty = tempfile::tempdir().expect("tempdir");
    let inputs = Inputs::default();
    let (mut same, mut ours_only, mut theirs_only, mut runnable, mut both_valid) = (0, 0, 0, 0, 0);
    let mut why_ours: BTreeMap<&str, usize> = BTreeMap::new();
    let mut theirs_messages: Vec<String> = Vec::new();
    let mut runnable_files: Vec<PathBuf> = Vec::new();
    for f in &files {
        let (ours_valid, problems) = match ExperimentFile::load(f) {
            Ok(file) => match file.validate_with(&inputs) {
                Ok(()) => (true, Vec::new()),
                Err(e) => (false, e.problems),
            },
            Err(e) => {
                println!("not loaded: {e}");
                (false, Vec::new())
            }
        };
        if problems
            .iter()
            .all(|p| kind(&p.message) == "environment variable not set")
        {
            runnable += 1;
            runnable_files.push(f.clone());
        }
        let Ok(chaos) = &ctk else { continue };
        let out = Command::new(chaos)
            .current_dir(empty.path())
            .args(["--no-version-check", "--no-log-file", "validate"])
            .arg(f)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", empty.path())
            .output()
            .expect("chaos validate runs");
        let theirs_valid = out.status.success();
        match (ours_valid, theirs_valid) {
            (a, b) if a == b => {
                same += 1;
                both_valid += usize::from(a);
            }
            (false, true) => {
                ours_only += 1;
                let mut kinds: Vec<&str> = problems.iter().map(|p| kind(&p.message)).collect();
                kinds.sort();
                kinds.dedup();
                for k in kinds {
                    *why_ours.entry(k).or_default() += 1;
                }
            }
            _ => {
                theirs_only += 1;
                let err = String::from_utf8_lossy(&out.stderr);
                theirs_messages.push(format!(
                    "{}: {}",
                    f.file_name().unwrap_or_default().to_string_lossy(),
                    err.lines().last().unwrap_or_default()
                ));
            }
        }
    }
    println!();
    println!(
        "== FIGURE (issue 12, 2): the corpus, {} files ==",
        files.len()
    );
    println!(
        "runnable here given their environment variables: {runnable} of {}",
        files.len()
    );
    if ctk.is_ok() {
        println!(
            "validated identically to `chaos validate`: {same} of {} ({both_valid} valid for both)",
            files.len()
        );
        println!("refused here, accepted by Chaos Toolkit: {ours_only}");
        for (k, n) in &why_ours {
            println!("  {k}: {n} file(s)");
        }
        println!("refused by Chaos Toolkit, accepted here: {theirs_only}");
        for m in &theirs_messages {
            println!("  {m}");
        }
    }
    let Ok(theirs) = &ctk else { return };
    if std::env::var("CHAOS_CORPUS_RUN").is_ok_and(|v| v == "0") {
        return;
    }
    let ours = ours();
    let http = run::http_server();
    let results: Vec<run::Compared> = runnable_files
        .iter()
        .map(|f| run::compare(f, theirs, &ours, &http))
        .collect();
    let same = results.iter().filter(|r| r.same).count();
    let both_passed = results.iter().filter(|r| r.both_passed).count();
    println!(
        "run through both `chaos run`s on the same targets: {} files; the same verdict: {same} \
         ({both_passed} passed by both); different: {}",
        results.len(),
        results.len() - same
    );
    for r in &results {
        println!(
            "  {} {}: Chaos Toolkit {}; ours {}",
            if r.same { "same" } else { "DIFF" },
            r.file,
            r.theirs,
            r.ours
        );
    }
}

/// Our `chaos`, with the Kubernetes and EC2 targets (a debug build: the verdicts, not the
/// speed, are compared here).
fn ours() -> PathBuf {
    common::chaos_binary(false, "k8s-latest,aws")
}
