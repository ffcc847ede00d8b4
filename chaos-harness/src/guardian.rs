//! The guardian: a process of the harness's own binary that watches the ledger entries of the
//! harness's runs and, the moment the harness dies without closing one, recovers it (its undo
//! records, then the experiment's rollback block, and the journal the run never wrote).
//!
//! One guardian serves a harness process, started the first time a run needs one. The harness
//! holds the write end of the guardian's stdin for as long as it lives and sends it the path of
//! each entry to watch; the kernel closes that pipe however the harness ends, so end of input
//! is the guardian's signal. It then waits for each entry's lock (free once its owner is gone),
//! recovers those still open, and exits. The guardian runs in a process group of its own, so
//! that a signal to the harness's group (nextest's timeout, a terminal's Ctrl-C) does not reach
//! it, and writes what it did to `guardian.log` in the ledger directory.

use crate::setup::Harness;
use chaos_runtime::ledger::Guardian;
use std::io::{BufRead, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, ExitCode, Stdio};
use std::sync::{Arc, Mutex, OnceLock};

/// The argument that runs a harness binary as a guardian: `--chaos-guardian <journal dir>`
/// (where the journals of the runs it recovers go).
pub(crate) const GUARDIAN_FLAG: &str = "--chaos-guardian";

/// The file in the ledger directory where guardians write what they recovered.
const LOG: &str = "guardian.log";

/// This process's guardian, started at its first `watch`.
#[derive(Debug)]
pub(crate) struct ProcessGuardian {
    ledger: PathBuf,
    journals: PathBuf,
    /// The write end of the guardian's stdin: open as long as this process lives.
    pipe: Mutex<Option<ChildStdin>>,
}

/// The guardian of this process's runs, unless `CHAOS_GUARDIAN` turns it off.
pub(crate) fn for_this_process(ledger: &Path, journals: &Path) -> Option<Arc<dyn Guardian>> {
    static ONE: OnceLock<Option<Arc<ProcessGuardian>>> = OnceLock::new();
    let g = ONE.get_or_init(|| {
        let off = chaos_runtime::env::off(chaos_runtime::env::GUARDIAN);
        (!off).then(|| {
            Arc::new(ProcessGuardian {
                ledger: ledger.to_owned(),
                journals: journals.to_owned(),
                pipe: Mutex::new(None),
            })
        })
    });
    g.clone().map(|g| g as Arc<dyn Guardian>)
}

impl ProcessGuardian {
    fn spawn(&self) -> Result<ChildStdin, String> {
        let exe = std::env::current_exe()
            .map_err(|e| format!("cannot find this program to start its guardian: {e}"))?;
        std::fs::create_dir_all(&self.ledger)
            .map_err(|e| format!("cannot create {}: {e}", self.ledger.display()))?;
        let log_path = self.ledger.join(LOG);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| format!("cannot open {}: {e}", log_path.display()))?;
        let mut child = Command::new(&exe)
            .arg(GUARDIAN_FLAG)
            .arg(&self.journals)
            .env_remove(chaos_runtime::ledger::CRASH_AT)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(log)
            .process_group(0)
            .spawn()
            .map_err(|e| format!("cannot start the guardian ({}): {e}", exe.display()))?;
        tracing::debug!(pid = child.id(), "guardian started");
        child
            .stdin
            .take()
            .ok_or_else(|| "the guardian has no stdin".to_owned())
    }
}

impl Guardian for ProcessGuardian {
    fn watch(&self, entry: &Path) -> Result<(), String> {
        let line = entry
            .to_str()
            .filter(|p| !p.contains('\n'))
            .ok_or_else(|| format!("{} cannot be sent to the guardian", entry.display()))?;
        let mut pipe = self.pipe.lock().unwrap_or_else(|p| p.into_inner());
        if pipe.is_none() {
            *pipe = Some(self.spawn()?);
        }
        let Some(stdin) = pipe.as_mut() else {
            return Err("the guardian is not running".to_owned());
        };
        writeln!(stdin, "{line}")
            .and_then(|()| stdin.flush())
            .map_err(|e| format!("the guardian is gone: {e}"))
    }
}

/// The guardian's `main`: reads the entries to watch until the harness is gone, then recovers
/// those it left open. Exit code 0, or 101 when something could not be recovered.
pub(crate) fn serve(args: &[String], harness: &Harness) -> ExitCode {
    let [journals] = args else {
        eprintln!("chaos guardian: usage: {GUARDIAN_FLAG} <journal dir>");
        return ExitCode::from(2);
    };
    let mut entries: Vec<PathBuf> = Vec::new();
    for line in std::io::stdin().lock().lines() {
        match line {
            Ok(path) if !path.is_empty() => {
                if !entries.iter().any(|p| p.as_os_str() == path.as_str()) {
                    entries.push(PathBuf::from(path));
                }
            }
            Ok(_) => {}
            // The harness is gone (or its end of the pipe is): time to look.
            Err(_) => break,
        }
    }
    crate::recovery::entries(&entries, Path::new(journals), harness)
}
