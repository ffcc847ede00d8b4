//! Every `CHAOS_*` environment variable the framework reads, named once, and how each is read.
//!
//! A leaf module: it imports nothing of this crate.

/// Replays a run's random choices: the seed a verdict or journal printed.
pub const SEED: &str = "CHAOS_SEED";
/// The settings file (default: the nearest `chaos.toml` up to the workspace root); any path,
/// `.yaml` / `.yml` is read as Chaos Toolkit's settings.
///
/// ```
/// assert_eq!(chaos_runtime::env::SETTINGS, "CHAOS_SETTINGS");
/// ```
pub const SETTINGS: &str = "CHAOS_SETTINGS";
/// Where journals go; overrides the settings file's `journal.dir`.
pub const JOURNAL_DIR: &str = "CHAOS_JOURNAL_DIR";
/// Where the harness writes a JUnit XML file of its run; overrides the settings file's
/// `report.junit`.
pub const JUNIT: &str = "CHAOS_JUNIT";
/// Where the harness writes the HTML report of its run, or `off` for none; overrides the
/// settings file's `report.html`.
pub const HTML: &str = "CHAOS_HTML";
/// The run history's SQLite file, or `off` for none; overrides the settings file's
/// `report.history`.
pub const HISTORY: &str = "CHAOS_HISTORY";
/// The code revision recorded in the run history (default: `git rev-parse HEAD`, with
/// `-dirty` when the work tree has uncommitted changes).
pub const REVISION: &str = "CHAOS_REVISION";
/// Where the write-ahead ledger lives; overrides the settings file's `journal.ledger_dir`.
pub const LEDGER_DIR: &str = "CHAOS_LEDGER_DIR";
/// `off` (or `0`, `false`): no guardian process watches the harness's runs; a run killed
/// mid-way is then rolled back by the next harness start, not at once.
pub const GUARDIAN: &str = "CHAOS_GUARDIAN";
/// `off` (or `0`, `false`): runs keep no write-ahead ledger entry and a harness start looks
/// for no dead runs: no crash safety (for measuring what it costs). `--recover` still recovers.
pub const LEDGER: &str = "CHAOS_LEDGER";
/// How long the end of a run waits for notifications; overrides `journal.flush_timeout`.
pub const FLUSH_TIMEOUT: &str = "CHAOS_FLUSH_TIMEOUT";
/// `1` or `true`: every target resolves and records its selection and touches nothing.
pub const DRY_RUN: &str = "CHAOS_DRY_RUN";
/// `warn`: in Chaos Toolkit experiment files, unknown, misplaced and repeated keys (which Chaos
/// Toolkit ignores without a word) are warnings, and the file runs as Chaos Toolkit would run
/// it; by default they are errors.
pub const CTK_UNKNOWN_KEYS: &str = "CHAOS_CTK_UNKNOWN_KEYS";
/// Progress lines on stderr.
pub const PROGRESS: &str = "CHAOS_PROGRESS";
/// The level of the harness's log on stderr.
pub const LOG: &str = "CHAOS_LOG";
/// `off` (or `0`, `false`): experiments run outside their run windows (a deliberate run);
/// by default an experiment outside its window is skipped with the reason and the next
/// opening.
pub const WINDOWS: &str = "CHAOS_WINDOWS";
/// `off` (or `0`, `false`): experiments run however recently they last ran (a deliberate run);
/// by default `min_interval` skips an experiment the history shows started too recently.
pub const INTERVALS: &str = "CHAOS_INTERVALS";
/// The instant windows and intervals are checked at, RFC 3339 (`2026-12-07T10:00:00+01:00`):
/// to rehearse what a schedule would run then. Default: now.
pub const NOW: &str = "CHAOS_NOW";
/// The directory of the pod's service account (token, `ca.crt`, `namespace`) for
/// `[targets.k8s] in_cluster = true`; default `/var/run/secrets/kubernetes.io/serviceaccount`.
pub const K8S_SERVICE_ACCOUNT_DIR: &str = "CHAOS_K8S_SERVICE_ACCOUNT_DIR";
/// Set by the Job `--k8s-manifests` renders (from the downward API): the Job's name. With it,
/// each run leaves a result ConfigMap and an Event on the Job.
pub const K8S_JOB: &str = "CHAOS_K8S_JOB";
/// The Job's uid (owner of the result ConfigMaps, subject of the Events).
pub const K8S_JOB_UID: &str = "CHAOS_K8S_JOB_UID";
/// The Job's namespace.
pub const K8S_NAMESPACE: &str = "CHAOS_K8S_NAMESPACE";
/// The pod's name.
pub const K8S_POD: &str = "CHAOS_K8S_POD";
/// Where the exclusion groups' lock files live.
pub const LOCK_DIR: &str = "CHAOS_LOCK_DIR";

/// The variable's value, when it is set and not empty.
///
/// ```
/// assert_eq!(chaos_runtime::env::var("CHAOS_DOC_SURELY_UNSET"), None);
/// ```
pub fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The variable as a path, when it is set and not empty (any bytes).
pub fn path(name: &str) -> Option<std::path::PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(Into::into)
}

/// Whether [`DRY_RUN`] is on: `1` or `true` (any case).
pub fn dry_run() -> bool {
    var(DRY_RUN).is_some_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// Whether a switch such as [`LEDGER`] or [`WINDOWS`] is turned off: `off`, `0` or `false`
/// (any case).
///
/// ```
/// assert!(!chaos_runtime::env::off("CHAOS_DOC_SURELY_UNSET"));
/// ```
pub fn off(name: &str) -> bool {
    var(name).is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "off" | "0" | "false"))
}

/// Whether a switch such as [`PROGRESS`] is on: set, not empty and not `0`.
pub fn switch(name: &str) -> bool {
    var(name).is_some_and(|v| v != "0")
}
