//! Recovery at every harness start, before its trials: the ledger's entries whose run died
//! before its rollbacks are claimed (one process per entry), rolled back, and given the
//! journal their run never wrote.

use crate::setup::Harness;
use chaos_runtime::journal::JournalRecorder;
use chaos_runtime::ledger::{Claimed, Ledger, Owner, UndoOutcome};
use chaos_runtime::notify::NotificationSink;
use chaos_runtime::registry::registered;
use chaos_runtime::run::Runner;
use chaos_runtime::Context;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Recovers what runs that died left in the ledger at `dir`, writing their journals to
/// `journals`; quick when there is nothing: a directory listing. What it did is printed to
/// stderr, a line per run. `false` when something could not be recovered (an entry that
/// cannot be read, an undo that failed: the entry is kept for the next recovery).
pub(crate) fn at_start(dir: &Path, journals: &Path, harness: &Harness) -> bool {
    if !dir.is_dir() {
        return true;
    }
    let orphans = match Ledger::open(dir) {
        Ok(ledger) => ledger.orphans(),
        Err(e) => {
            eprintln!("chaos: recovery: {e}");
            return false;
        }
    };
    let mut all_well = orphans.errors.is_empty();
    for e in &orphans.errors {
        eprintln!("chaos: recovery: {e}");
    }
    if orphans.claimed.is_empty() {
        return all_well;
    }
    let Some(rt) = runtime() else {
        return false;
    };
    for claimed in orphans.claimed {
        all_well &= rt.block_on(recover(claimed, journals, harness));
    }
    all_well
}

/// The guardian's recovery: waits for each of `entries` to be let go of by its run (closed, or
/// its process gone), and recovers those left open. Exit code 0, or 101 when something could
/// not be recovered.
pub(crate) fn entries(entries: &[PathBuf], journals: &Path, harness: &Harness) -> ExitCode {
    let mut all_well = true;
    let mut rt = None;
    for path in entries {
        match Ledger::wait_for(path) {
            Ok(None) => {}
            Ok(Some(claimed)) => {
                if rt.is_none() {
                    rt = runtime();
                }
                let Some(rt) = &rt else {
                    return ExitCode::from(101);
                };
                all_well &= rt.block_on(recover(claimed, journals, harness));
            }
            Err(e) => {
                eprintln!("chaos: recovery: {e}");
                all_well = false;
            }
        }
    }
    if all_well {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(101)
    }
}

/// Recovery from markers (recovery-only mode): the markers on the targets the settings
/// configure (`[targets.k8s]`, `[targets.aws]`) whose lease expired, of runs this machine's
/// ledger does not hold, become entries of the ledger, one per run, which [`at_start`] then
/// recovers like any other (without the rollback block: what it was to undo is not known).
/// `false` when a target could not be scanned.
pub(crate) fn from_markers(dir: &Path, harness: &Harness) -> bool {
    use chaos_runtime::target::marker;
    if !["k8s", "aws"]
        .iter()
        .any(|t| harness.settings.targets.contains_key(*t))
    {
        return true;
    }
    let Some(rt) = runtime() else {
        return false;
    };
    let cx = context(harness, "recovery from markers", 0, Default::default());
    let (found, errors) = rt.block_on(marker::scan(&cx));
    for e in &errors {
        eprintln!("chaos: recovery: {e}");
    }
    let ledger = match Ledger::open(dir) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("chaos: recovery: {e}");
            return false;
        }
    };
    let now = std::time::SystemTime::now();
    // Per run: its experiment and its undos, each once (several objects may carry one).
    let mut runs: std::collections::BTreeMap<String, (String, Vec<(String, marker::Marker)>)> =
        Default::default();
    for f in found {
        if !f.marker.expired(now) || ledger.has_entry(&f.marker.run) {
            // Its run may be alive, or this machine's ledger recovers it.
            continue;
        }
        let run = runs
            .entry(f.marker.run.clone())
            .or_insert_with(|| (f.marker.experiment.clone(), Vec::new()));
        if !run
            .1
            .iter()
            .any(|(_, m)| m.kind == f.marker.kind && m.data == f.marker.data)
        {
            run.1.push((f.object, f.marker));
        }
    }
    let mut all_well = errors.is_empty();
    for (run_id, (experiment, undos)) in runs {
        let mut header = chaos_runtime::ledger::Header::new(experiment, 0);
        header.run_id = run_id;
        header.from_markers = true;
        let written = ledger.begin(&header).and_then(|entry| {
            for (object, m) in &undos {
                entry.intend(&m.record(object))?;
            }
            Ok(())
        });
        if let Err(e) = written {
            eprintln!("chaos: recovery: {e}");
            all_well = false;
        }
    }
    all_well
}

/// The context a recovery runs with: the settings', and the variables `vars` over them.
fn context(
    harness: &Harness,
    experiment: &str,
    seed: u64,
    vars: std::collections::BTreeMap<String, String>,
) -> Context {
    let settings = &harness.settings;
    let mut all = settings.variables.clone();
    all.extend(vars);
    Context::builder()
        .experiment(experiment)
        .seed(seed)
        .vars(all)
        .secrets(settings.secrets.clone())
        .credentials(harness.credentials.clone())
        .target_settings(settings.targets.clone())
        .build()
}

/// Whether the recovery runs in dry run (`CHAOS_DRY_RUN`, or `dry_run = true` in a target's
/// settings): its undos touch nothing, so the entries are kept.
fn dry_run(harness: &Harness) -> bool {
    chaos_runtime::env::dry_run()
        || harness
            .settings
            .targets
            .values()
            .any(|t| t.get("dry_run").and_then(|v| v.as_bool()) == Some(true))
}

/// A runtime for the recoveries, or `None` (said on stderr).
fn runtime() -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => Some(rt),
        Err(e) => {
            eprintln!("chaos: recovery: could not start the tokio runtime: {e}");
            None
        }
    }
}

/// Where the journal of a recovered run goes: beside the experiment's own journal, named
/// after the run, so that a later run of the experiment does not overwrite it.
fn journal_path(journals: &Path, experiment: &str, run_id: &str) -> PathBuf {
    journals.join(format!(
        "{}.recovered-{run_id}.json",
        experiment.replace("::", "__")
    ))
}

/// Rolls back one dead run, writes its journal, and closes its entry, or keeps it when an
/// undo failed (then `false`).
async fn recover(claimed: Claimed, journals: &Path, harness: &Harness) -> bool {
    let header = claimed.state().header.clone();
    let entry_path = claimed.path().display().to_string();
    let damage = claimed.damage().map(|d| d.to_string());
    if let Some(d) = &damage {
        eprintln!("chaos: recovery: {entry_path}: {d}; the records before it are recovered");
    }
    // From markers, the rollback block is not run: what it was to undo is not known here.
    let settings = &harness.settings;
    let exp = registered()
        .filter(|_| !header.from_markers)
        .find(|r| r.name() == header.experiment)
        .and_then(|r| (r.build)().ok())
        .or_else(|| {
            // A Chaos Toolkit file's run: rebuilt from the file, if it is still there.
            let path = header.variables.get(crate::chaostoolkit::FILE_VAR)?;
            let trial = crate::chaostoolkit::FileTrial {
                name: header.experiment.clone(),
                path: path.into(),
                ignored: false,
            };
            trial
                .build(&settings.variables)
                .map_err(|e| eprintln!("chaos: recovery: {path}: {e}"))
                .ok()
        });
    // The variables the run resolved, over the settings' (a hook may have changed them).
    let cx = context(
        harness,
        &header.experiment,
        header.seed,
        header.variables.clone(),
    );
    let journal_path = journal_path(journals, &header.experiment, &header.run_id);
    let recorder = JournalRecorder::new(&header.experiment);
    let mut runner = Runner::new().sink(recorder.clone());
    let mut deliveries = None;
    if let Some(notifier) = &harness.notifier {
        let sink = NotificationSink::new(
            &recorder,
            notifier.clone(),
            harness.setup.channels.clone(),
            Some(journal_path.clone()),
        );
        deliveries = Some(sink.deliveries());
        runner = runner.sink(sink);
    }
    for extension in &harness.setup.extensions {
        runner = runner.extension(extension.clone());
    }
    let (report, claimed) = runner.recover(claimed, exp.as_ref(), cx).await;
    if let Some(d) = deliveries {
        d.flush(settings.journal.flush_timeout);
    }

    let undos: Vec<_> = claimed
        .state()
        .undos
        .iter()
        .map(|u| {
            json!({
                "seq": u.seq,
                "label": u.undo.label,
                "kind": u.undo.kind,
                "applied": u.applied,
                "outcome": match &u.outcome {
                    Some(UndoOutcome::Done) => json!("done"),
                    Some(UndoOutcome::Failed(why)) => json!({ "failed": why }),
                    None => json!(null),
                },
            })
        })
        .collect();
    let failed = claimed.state().pending().count();
    // `ran`, `none-declared` or `strategy-never`, as the journal's other runs say it.
    let rollback_block = match &exp {
        None if header.from_markers => {
            json!("not run: recovered from the markers on the targets, without the run's ledger")
        }
        None => json!("not available: the experiment is no longer in this binary"),
        Some(_) => json!(report.rollback_decision),
    };
    recorder.with(|j| {
        j.recovered = Some(json!({
            "at": chaos_runtime::time::rfc3339(std::time::SystemTime::now()),
            "by": Owner::this_process(),
            "run_id": header.run_id,
            "from_markers": header.from_markers,
            "owner": header.owner,
            "started": header.started,
            "entry": entry_path,
            "damage": damage,
            "undos": undos,
            "rollback_block": rollback_block,
            "dry_run": dry_run(harness),
        }));
    });
    let journal = recorder.journal();
    if let Err(e) = journal.write_atomic(&journal_path) {
        eprintln!("chaos: recovery: {e}");
    }

    let who = format!(
        "run {} of `{}` (process {} on {}, gone)",
        header.run_id, header.experiment, header.owner.pid, header.owner.host
    );
    let ran = report.rollbacks.len();
    if dry_run(harness) {
        // Nothing was touched: the entry (and any marker) stays for a recovery that acts.
        eprintln!(
            "chaos: recovery of {who} in dry run: {ran} rollback(s) resolved, nothing touched; the entry is kept ({entry_path}); journal {}",
            journal_path.display()
        );
        true
    } else if failed == 0 {
        if let Err(e) = claimed.finish() {
            eprintln!("chaos: recovery: {e}");
        }
        eprintln!(
            "chaos: recovered {who}: {ran} rollback(s) ran, outcome `{}`, by process {}; journal {}",
            report.outcome,
            std::process::id(),
            journal_path.display()
        );
        true
    } else {
        eprintln!(
            "chaos: recovery of {who}: {failed} undo(s) failed, kept for the next recovery ({entry_path}); journal {}",
            journal_path.display()
        );
        false
    }
}
