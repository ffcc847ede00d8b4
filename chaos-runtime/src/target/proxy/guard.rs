//! How a fault leaves a proxy by itself: with the run's rollbacks ([`Proxy::add`]) or when its
//! guard drops ([`Proxy::apply`]).

use super::{Fault, Proxy, ProxyError, ToxicStats};
use crate::target::TargetContext;
use serde_json::json;

/// A fault in place until this guard is dropped or [`FaultGuard::remove`]d
/// ([`Proxy::apply`]). Removing never waits on the traffic the fault was slowing.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use chaos_runtime::target::proxy::{Proxy, Toxic};
/// let proxy = Proxy::listen("doc", "127.0.0.1:9").await.unwrap();
/// let guard = proxy.apply(Toxic::limit_data(10)).unwrap();
/// assert_eq!(guard.name(), "limit_data_downstream");
/// let stats = guard.remove().unwrap();
/// assert_eq!(stats.affected, 0);
/// assert!(proxy.toxics().is_empty());
/// # });
/// ```
#[derive(Debug)]
#[must_use = "the fault is removed when the guard is dropped"]
pub struct FaultGuard {
    proxy: Proxy,
    name: String,
    armed: bool,
}

impl FaultGuard {
    pub(super) fn new(proxy: Proxy, name: String) -> FaultGuard {
        FaultGuard {
            proxy,
            name,
            armed: true,
        }
    }

    /// The fault's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The fault's counters now.
    pub fn stats(&self) -> Option<ToxicStats> {
        self.proxy.toxic_stats(&self.name)
    }

    /// Removes the fault now and returns its final counters.
    ///
    /// # Errors
    /// The fault was already removed by name.
    pub fn remove(mut self) -> Result<ToxicStats, ProxyError> {
        self.armed = false;
        remove_counted(&self.proxy, &self.name)
    }
}

impl Drop for FaultGuard {
    fn drop(&mut self) {
        if self.armed {
            let _ = self.proxy.remove(&self.name);
        }
    }
}

/// Removes `name`, returning its counters as they were at the end.
fn remove_counted(proxy: &Proxy, name: &str) -> Result<ToxicStats, ProxyError> {
    let stats = proxy.toxic_stats(name);
    let fault = proxy.remove(name)?;
    Ok(stats.unwrap_or_else(|| ToxicStats {
        name: fault.name(),
        kind: "",
        connections: 0,
        affected: 0,
        bytes: 0,
        resets: 0,
        closes: 0,
    }))
}

/// [`Proxy::add`]: the fault with the run's seed, recorded in the journal, and undone with the
/// run's rollbacks.
pub(super) fn add_for_run(
    proxy: &Proxy,
    cx: &crate::Context,
    fault: Fault,
) -> Result<String, ProxyError> {
    let name = fault.name();
    let description = fault.to_json();
    proxy.insert(fault, cx.seed())?;
    let at = proxy
        .added_at(&name)
        .map(crate::time::rfc3339)
        .unwrap_or_default();
    tracing::info!(proxy = %proxy.name(), toxic = %name, "fault added");
    cx.record_targets(json!({
        "target": "proxy",
        "proxy": proxy.name(),
        "listen": proxy.addr().to_string(),
        "upstream": proxy.upstream(),
        "added": description,
        "at": at,
        "seed": cx.seed(),
    }));
    let owner = proxy.clone();
    let added = name.clone();
    cx.on_rollback(
        format!("proxy `{}`: remove `{name}`", proxy.name()),
        move || async move {
            let at = crate::time::rfc3339(std::time::SystemTime::now());
            match remove_counted(&owner, &name) {
                Ok(stats) => {
                    tracing::info!(proxy = %owner.name(), toxic = %name, "fault removed");
                    Ok(json!({ "removed": name, "at": at, "stats": stats }))
                }
                // Removed by hand meanwhile: undoing twice does no harm.
                Err(e) if matches!(e.kind(), super::ProxyErrorKind::NoSuchToxic) => {
                    Ok(json!({ "removed": name, "at": at, "already_gone": true }))
                }
                Err(e) => Err(e.into()),
            }
        },
    );
    Ok(added)
}
