//! Running one activity's future (its timeout, caught panics) and turning the result into the
//! journal's record and the verdict's finding.

use crate::context::Context;
use crate::error::ActivityFailure;
use crate::event::{ActivityRecord, ActivityStatus, Finding, Phase};
use crate::model::{Activity, ActivityKind, Produced};
use crate::time::rfc3339;
use futures_util::FutureExt;
use serde_json::Value;
use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant, SystemTime};

/// What running an activity's future gave, with its timing.
pub(super) struct Executed {
    pub(super) result: Result<Produced, ActivityFailure>,
    pub(super) start: SystemTime,
    pub(super) end: SystemTime,
    pub(super) elapsed: Duration,
}

impl Executed {
    /// An activity that ended with `failure` without running (cancelled, or its task died).
    pub(super) fn failed(failure: ActivityFailure, start: SystemTime, started: Instant) -> Self {
        Executed {
            result: Err(failure),
            start,
            end: SystemTime::now(),
            elapsed: started.elapsed(),
        }
    }
}

/// Runs an activity's future under its timeout, catching panics.
pub(super) async fn execute(activity: &Activity, cx: Context) -> Executed {
    let start = SystemTime::now();
    let started = Instant::now();
    let result = match (&activity.run, activity.pause) {
        (_, Some(d)) => {
            tokio::time::sleep(d).await;
            Ok(Produced {
                output: Value::Null,
                tolerance_met: None,
            })
        }
        (Some(run), None) => {
            let guarded = async {
                let fut = std::panic::catch_unwind(AssertUnwindSafe(|| run(cx)))
                    .map_err(ActivityFailure::from_panic)?;
                match AssertUnwindSafe(fut).catch_unwind().await {
                    Ok(Ok(p)) => Ok(p),
                    Ok(Err(e)) => Err(ActivityFailure::from_error(e)),
                    Err(panic) => Err(ActivityFailure::from_panic(panic)),
                }
            };
            match activity.options.timeout {
                Some(t) => tokio::time::timeout(t, guarded)
                    .await
                    .unwrap_or(Err(ActivityFailure::Timeout(t))),
                None => guarded.await,
            }
        }
        (None, None) => Err(ActivityFailure::Error(
            "the activity has nothing to run".into(),
        )),
    };
    Executed {
        result,
        start,
        end: SystemTime::now(),
        elapsed: started.elapsed(),
    }
}

/// The journal's record of an activity.
pub(super) fn record(activity: &Activity, executed: Executed) -> ActivityRecord {
    let (output, tolerance_met, failure) = match executed.result {
        Ok(p) => (p.output, p.tolerance_met, None),
        Err(f) => (
            Value::Null,
            activity.tolerance.as_ref().map(|_| false),
            Some(f),
        ),
    };
    ActivityRecord {
        activity: activity.to_json(),
        output,
        status: if failure.is_some() {
            ActivityStatus::Failed
        } else {
            ActivityStatus::Succeeded
        },
        start: rfc3339(executed.start),
        end: rfc3339(executed.end),
        duration: executed.elapsed.as_secs_f64(),
        exception: failure.as_ref().map(|f| vec![f.to_string()]),
        tolerance_met,
        name: activity.name.clone(),
        kind: activity.kind,
        tolerance: activity.tolerance.clone(),
        failure,
        elapsed: executed.elapsed,
    }
}

/// The verdict's line for a record that went wrong.
pub(super) fn finding(phase: Phase, record: &ActivityRecord) -> Finding {
    Finding {
        phase,
        activity: format!(
            "{} \"{}\"",
            match record.kind {
                ActivityKind::Probe => "probe",
                ActivityKind::Action => "action",
                ActivityKind::Pause => "pause",
            },
            record.name
        ),
        value: record.failure.is_none().then(|| record.output.clone()),
        tolerance: record.tolerance.clone(),
        failure: record.failure.as_ref().map(|f| f.to_string()),
    }
}
