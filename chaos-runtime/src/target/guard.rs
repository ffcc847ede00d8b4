//! Blast-radius guards and dry runs, shared by every target: the refusal a guard gives, and
//! the one place that decides an action touches nothing.

/// A guard refused an action; nothing was touched.
///
/// ```
/// use chaos_runtime::target::Guard;
/// let g = Guard::new("aws", "terminate", 3, "instance(s)");
/// let err = g.max_count("max_instances", Some(2)).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "refused to terminate 3 instance(s): max_instances = 2 in [targets.aws]; nothing was touched"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("refused to {action} {count} {kind}: {reason}; nothing was touched")]
pub struct Refusal {
    /// The action (`terminate`, `drain`...).
    pub action: &'static str,
    /// How many objects it would have touched.
    pub count: usize,
    /// What they are: `pod(s)`, `node(s)`, `instance(s)`...
    pub kind: &'static str,
    /// Which guard refused, and why.
    pub reason: String,
}

/// The guards of one action about to touch `count` objects of one target.
#[derive(Clone, Copy, Debug)]
pub struct Guard {
    target: &'static str,
    action: &'static str,
    count: usize,
    kind: &'static str,
}

impl Guard {
    /// Guards for `action` on `count` objects of `kind` (`pod(s)`) of `target` (`k8s`), whose
    /// limits come from `[targets.<target>]`.
    pub fn new(
        target: &'static str,
        action: &'static str,
        count: usize,
        kind: &'static str,
    ) -> Self {
        Guard {
            target,
            action,
            count,
            kind,
        }
    }

    /// A refusal for `reason`.
    pub fn refuse(&self, reason: impl Into<String>) -> Refusal {
        Refusal {
            action: self.action,
            count: self.count,
            kind: self.kind,
            reason: reason.into(),
        }
    }

    /// Refuses more than `max` objects (the settings key `key`).
    pub fn max_count(&self, key: &str, max: Option<usize>) -> Result<(), Refusal> {
        match max {
            Some(max) if self.count > max => {
                Err(self.refuse(format!("{key} = {max} in [targets.{}]", self.target)))
            }
            _ => Ok(()),
        }
    }

    /// Refuses more than `max` percent of the `matched` objects (the settings key `key`).
    pub fn max_percent(&self, key: &str, max: Option<f64>, matched: usize) -> Result<(), Refusal> {
        let Some(max) = max else { return Ok(()) };
        if matched == 0 {
            return Ok(());
        }
        let share = self.count as f64 * 100.0 / matched as f64;
        if share > max + 1e-9 {
            return Err(self.refuse(format!(
                "that is {share:.1}% of the {matched} matching, over {key} = {max} in [targets.{}]",
                self.target
            )));
        }
        Ok(())
    }

    /// Refuses unless `ok`, with the reason `why` gives.
    pub fn require(&self, ok: bool, why: impl FnOnce() -> String) -> Result<(), Refusal> {
        if ok {
            Ok(())
        } else {
            Err(self.refuse(why()))
        }
    }
}

/// An action that touches nothing: a dry run, or nothing was chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Untouched {
    /// The action.
    pub action: &'static str,
    /// What it would have touched.
    pub targets: Vec<String>,
    /// Whether because of a dry run (else nothing was chosen).
    pub dry_run: bool,
}

/// `Some` when `action` on `targets` must touch nothing (a dry run, or no targets), logged for
/// a dry run; `None` when it goes ahead. Every target asks this before its first effect.
///
/// ```
/// use chaos_runtime::target::touches_nothing;
/// assert!(touches_nothing("stop", &["i-1".into()], false).is_none());
/// assert!(touches_nothing("stop", &["i-1".into()], true).unwrap().dry_run);
/// assert!(!touches_nothing("stop", &[], false).unwrap().dry_run);
/// ```
pub fn touches_nothing(
    action: &'static str,
    targets: &[String],
    dry_run: bool,
) -> Option<Untouched> {
    if !dry_run && !targets.is_empty() {
        return None;
    }
    if dry_run {
        tracing::info!(action, ?targets, "dry run: nothing touched");
    }
    Some(Untouched {
        action,
        targets: targets.to_vec(),
        dry_run,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_allow_noise_but_not_more() {
        let g = Guard::new("k8s", "terminate", 5, "pod(s)");
        assert!(g.max_percent("max_percent", Some(10.0), 50).is_ok());
        let err = g.max_percent("max_percent", Some(9.0), 50).unwrap_err();
        assert_eq!(
            err.reason,
            "that is 10.0% of the 50 matching, over max_percent = 9 in [targets.k8s]"
        );
        assert!(g.max_percent("max_percent", Some(1.0), 0).is_ok());
        assert!(g.max_count("max_count", None).is_ok());
        assert!(g.max_count("max_count", Some(5)).is_ok());
    }
}
