//! The run history of a harness process: each experiment run appended to the SQLite file of
//! `[report] history` (default `history.sqlite` in the journal directory; `CHAOS_HISTORY=off`
//! keeps none), with the git revision that ran. A history that cannot be opened or written
//! makes the run warn, never fail.

use chaos_runtime::history::{Run, Store};
use chaos_runtime::settings::Settings;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

/// The history file `settings` name, or `None` when `CHAOS_HISTORY=off`.
pub(crate) fn path(settings: &Settings) -> Option<PathBuf> {
    match &settings.report.history {
        Some(p) if p.as_os_str() == "off" => None,
        Some(p) => Some(p.clone()),
        None => Some(crate::harness::journal_dir().join("history.sqlite")),
    }
}

/// The revision that runs: `CHAOS_REVISION`, else git's `HEAD` (`-dirty` with uncommitted
/// changes), else none.
pub(crate) fn revision() -> Option<String> {
    static REVISION: OnceLock<Option<String>> = OnceLock::new();
    REVISION
        .get_or_init(|| {
            if let Some(r) = chaos_runtime::env::var(chaos_runtime::env::REVISION) {
                return Some(r);
            }
            // Under nextest every experiment is a process of its own: the first of the run
            // asks git (a few milliseconds), the others read its answer.
            let cached = std::env::var("NEXTEST_RUN_ID")
                .ok()
                .filter(|r| {
                    !r.is_empty() && r.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                })
                .map(|r| std::env::temp_dir().join(format!("chaos-revision-{r}")));
            if let Some(text) = cached
                .as_ref()
                .and_then(|c| std::fs::read_to_string(c).ok())
            {
                return Some(text).filter(|t| !t.is_empty());
            }
            let revision = from_git();
            if let Some(c) = &cached {
                let tmp = c.with_extension(std::process::id().to_string());
                if std::fs::write(&tmp, revision.as_deref().unwrap_or_default()).is_ok() {
                    let _ = std::fs::rename(&tmp, c);
                }
            }
            revision
        })
        .clone()
}

/// git's `HEAD`, with `-dirty` when tracked files have uncommitted changes.
fn from_git() -> Option<String> {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let head = git(&["rev-parse", "HEAD"])?;
    let dirty =
        git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    Some(if dirty { format!("{head}-dirty") } else { head })
}

/// Appends the run `journal` records (written at `journal_path`) to the history.
pub(crate) fn append(settings: &Settings, journal: &serde_json::Value, journal_path: PathBuf) {
    static STORE: Mutex<Option<Store>> = Mutex::new(None);
    static WARNED: OnceLock<()> = OnceLock::new();
    let Some(path) = path(settings) else { return };
    let run = Run::from_journal(journal, Some(journal_path), revision());
    let mut store = STORE.lock().unwrap_or_else(|p| p.into_inner());
    let result = match &mut *store {
        Some(s) if s.path() == path => s.append(&run),
        slot => Store::open(&path).and_then(|mut s| {
            let r = s.append(&run);
            *slot = Some(s);
            r
        }),
    };
    if let Err(e) = result {
        if WARNED.set(()).is_ok() {
            tracing::warn!("{e}; the run is not in the history (the experiments go on)");
        }
    }
}
