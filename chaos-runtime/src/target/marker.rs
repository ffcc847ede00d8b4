//! Markers: the undo of a change written on the changed object itself (a Kubernetes
//! annotation, an EC2 tag), so that a machine that never saw the run's ledger can still undo
//! it. A marker names its run, the experiment, the [undo kind](super::UndoKind) and its data,
//! and when it expires: a recovery-only run (`--recover`) with the settings of a cluster or an
//! account restores the objects whose marker has expired, and whose run this machine's ledger
//! does not show alive. The undo removes the marker; so do the rollback helpers, in the run.

use crate::ledger::UndoRecord;
use crate::Context;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The annotation that holds a marker on a Kubernetes object.
pub const ANNOTATION: &str = "chaos-harness.dev/undo";
/// The tag that holds a marker on an EC2 instance (like AWS FIS's `managedByFIS`).
pub const TAG: &str = "chaos-harness:undo";
/// How long a marker is taken for its run's when a target's settings do not say
/// (`marker_lease`): past it, a recovery from markers undoes the change.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(3600);

/// What a marker says.
///
/// ```
/// use chaos_runtime::target::marker::Marker;
/// use serde_json::json;
/// let m = Marker {
///     run: "1a2b-3c-0".into(),
///     experiment: "shop::scale_down".into(),
///     kind: "k8s.scale".into(),
///     data: json!({"namespace": "shop", "name": "web", "replicas": 3}),
///     expires: 1_800_000_000,
/// };
/// let text = m.to_text();
/// assert_eq!(Marker::parse(&text).unwrap(), m);
/// assert!(!m.expired(std::time::UNIX_EPOCH));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Marker {
    /// The run that made the change.
    pub run: String,
    /// Its experiment.
    pub experiment: String,
    /// The undo kind that reverses the change.
    pub kind: String,
    /// The undo's data.
    pub data: Value,
    /// When the marker expires, in seconds since the Unix epoch.
    pub expires: u64,
}

impl Marker {
    /// The marker of a change `undo` reverses, made by the run `cx` belongs to, expiring
    /// `lease` from now; `None` for a run that keeps no ledger entry (there is no run to name).
    #[cfg_attr(not(any(feature = "k8s", feature = "aws")), allow(dead_code))]
    pub(crate) fn of(cx: &Context, undo: &UndoRecord, lease: Duration) -> Option<Marker> {
        let entry = cx.ledger_entry()?;
        let expires = SystemTime::now()
            .checked_add(lease)
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(u64::MAX, |d| d.as_secs());
        Some(Marker {
            run: entry.run_id().to_owned(),
            experiment: entry.experiment().to_owned(),
            kind: undo.kind.clone(),
            data: undo.data.clone(),
            expires,
        })
    }

    /// The marker as the annotation's or the tag's value (compact JSON).
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a marker from an annotation's or a tag's value.
    pub fn parse(text: &str) -> Result<Marker, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// Whether it has expired at `now`.
    pub fn expired(&self, now: SystemTime) -> bool {
        now.duration_since(UNIX_EPOCH)
            .is_ok_and(|d| d.as_secs() >= self.expires)
    }

    /// The undo record a recovery runs for it.
    pub fn record(&self, object: &str) -> UndoRecord {
        UndoRecord::new(
            self.kind.clone(),
            format!("undo `{}` on {object} (from its marker)", self.kind),
            self.data.clone(),
        )
    }
}

/// A marker found on a target.
#[derive(Clone, Debug, PartialEq)]
pub struct Found {
    /// The object that carries it (`deployment demo/web`, `node node-2`, `instance i-0abc`).
    pub object: String,
    /// The marker.
    pub marker: Marker,
}

/// Every marker on the targets the context's settings configure (`[targets.k8s]`,
/// `[targets.aws]`, with their cargo features): what a recovery from markers looks at. A
/// target whose scan fails gives its error (naming the target); the others are still scanned.
pub async fn scan(cx: &Context) -> (Vec<Found>, Vec<String>) {
    #[allow(unused_mut)]
    let mut found = Vec::new();
    #[allow(unused_mut)]
    let mut errors = Vec::new();
    #[cfg(feature = "k8s")]
    if crate::target::TargetContext::target_settings(cx, "k8s").is_some() {
        match super::k8s::markers(cx).await {
            Ok(f) => found.extend(f),
            Err(e) => errors.push(format!("Kubernetes markers: {e}")),
        }
    }
    #[cfg(feature = "aws")]
    if crate::target::TargetContext::target_settings(cx, "aws").is_some() {
        match super::aws::markers(cx).await {
            Ok(f) => found.extend(f),
            Err(e) => errors.push(format!("EC2 markers: {e}")),
        }
    }
    let _ = cx;
    (found, errors)
}
