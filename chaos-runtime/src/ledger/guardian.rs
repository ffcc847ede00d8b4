//! The guardian hook: another process that watches a run's entry and recovers it the moment
//! the run's process dies, instead of at the next harness start.

use std::path::Path;

/// Watches this process's ledger entries from another process, to recover them at once if
/// this one dies without closing them. The harness gives its runner one (a process of the
/// same binary, see the README's "Rollbacks that survive `kill -9`"); a runner without one
/// leaves dead runs to the next recovery.
///
/// A run asks its guardian to watch its entry once: when the run reaches its method with a
/// rollback block to run, or before the first change a target records, whichever comes first.
/// A run with neither never starts one.
///
/// ```
/// use chaos_runtime::ledger::Guardian;
/// use std::path::Path;
/// use std::sync::Mutex;
///
/// /// Remembers what it was asked to watch (a real guardian tells a process).
/// #[derive(Default)]
/// struct Remember(Mutex<Vec<String>>);
///
/// impl Guardian for Remember {
///     fn watch(&self, entry: &Path) -> Result<(), String> {
///         self.0.lock().unwrap().push(entry.display().to_string());
///         Ok(())
///     }
/// }
/// let g = Remember::default();
/// g.watch(Path::new("/tmp/ledger/run.entry")).unwrap();
/// assert_eq!(g.0.lock().unwrap().len(), 1);
/// ```
pub trait Guardian: Send + Sync {
    /// Starts watching the entry at `entry`, starting the watching process if need be. An
    /// error is logged and the run goes on: the next recovery still finds the entry.
    fn watch(&self, entry: &Path) -> Result<(), String>;
}

/// A test-only crash point: with the `crash-points` feature and `CHAOS_CRASH_AT=N`, the
/// process kills itself with SIGKILL right after the Nth record a live run made durable (the
/// entry's header is the first). The crash-point sweep uses it to die at every step.
pub(super) fn crash_point() {
    #[cfg(all(feature = "crash-points", unix))]
    {
        use std::sync::atomic::{AtomicU64, Ordering};
        static PASSED: AtomicU64 = AtomicU64::new(0);
        let Some(at) = crate::env::var(CRASH_AT).and_then(|v| v.parse::<u64>().ok()) else {
            return;
        };
        if PASSED.fetch_add(1, Ordering::SeqCst) + 1 == at {
            // SAFETY: kill(2) on this process; nothing is dereferenced.
            unsafe {
                libc::kill(libc::getpid(), libc::SIGKILL);
            }
        }
    }
}

/// The variable that sets the crash point (with the `crash-points` feature only).
pub const CRASH_AT: &str = "CHAOS_CRASH_AT";
