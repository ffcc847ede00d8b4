//! Recovery at every harness start, before its trials: the ledger's entries whose run died
//! before its rollbacks are claimed (one process per entry) and their undo records run.

use crate::setup::Harness;
use chaos_runtime::ledger::{Claimed, Ledger};
use chaos_runtime::recovery::run_undos;
use chaos_runtime::Context;
use std::path::Path;

/// Recovers what runs that died left in the ledger at `dir`; quick when there is nothing: a
/// directory listing. What it did is printed to stderr, a line per run.
pub(crate) fn at_start(dir: &Path, harness: &Harness) {
    if !dir.is_dir() {
        return;
    }
    let orphans = match Ledger::open(dir) {
        Ok(ledger) => ledger.orphans(),
        Err(e) => {
            eprintln!("chaos: recovery: {e}");
            return;
        }
    };
    for e in &orphans.errors {
        eprintln!("chaos: recovery: {e}");
    }
    if orphans.claimed.is_empty() {
        return;
    }
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("chaos: recovery: could not start the tokio runtime: {e}");
            return;
        }
    };
    for claimed in orphans.claimed {
        rt.block_on(recover(claimed, harness));
    }
}

/// Runs one dead run's undo records and closes its entry, or keeps it when one failed.
async fn recover(mut claimed: Claimed, harness: &Harness) {
    let header = claimed.state().header.clone();
    let path = claimed.path().display().to_string();
    if let Some(d) = claimed.damage() {
        eprintln!("chaos: recovery: {path}: {d}; the records before it are recovered");
    }
    let settings = &harness.settings;
    let cx = Context::builder()
        .experiment(&header.experiment)
        .seed(header.seed)
        .vars(settings.variables.clone())
        .secrets(settings.secrets.clone())
        .credentials(harness.credentials.clone())
        .target_settings(settings.targets.clone())
        .build();
    let ran = run_undos(&mut claimed, &cx).await;
    let failed: Vec<String> = ran
        .iter()
        .filter_map(|u| match &u.outcome {
            chaos_runtime::ledger::UndoOutcome::Failed(why) => {
                Some(format!("`{}`: {why}", u.label))
            }
            chaos_runtime::ledger::UndoOutcome::Done => None,
        })
        .collect();
    let who = format!(
        "run {} of `{}` (process {} on {}, gone)",
        header.run_id, header.experiment, header.owner.pid, header.owner.host
    );
    if failed.is_empty() {
        if let Err(e) = claimed.finish() {
            eprintln!("chaos: recovery: {e}");
        }
        eprintln!("chaos: recovered {who}: {} undo(s) ran", ran.len());
    } else {
        eprintln!(
            "chaos: recovery of {who}: {} of {} undo(s) failed, kept for the next recovery ({path}): {}",
            failed.len(),
            ran.len(),
            failed.join("; ")
        );
    }
}
