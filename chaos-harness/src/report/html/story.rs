//! A journal (this framework's or Chaos Toolkit's) read as the report draws it: the run's
//! facts, one timeline row per activity, and the findings in words.

use chaos_runtime::history::Run;
use serde_json::Value;

/// Where in the run an activity ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Phase {
    Before,
    Method,
    During,
    After,
    Rollbacks,
}

impl Phase {
    /// The short label of the timeline's rows.
    pub(super) fn label(self) -> &'static str {
        match self {
            Phase::Before => "before",
            Phase::Method => "method",
            Phase::During => "during",
            Phase::After => "after",
            Phase::Rollbacks => "rollback",
        }
    }

    /// How verdicts name the phase.
    pub(super) fn describe(self) -> &'static str {
        match self {
            Phase::Before => "steady state before the method",
            Phase::Method => "method",
            Phase::During => "steady state during the method",
            Phase::After => "steady state after the method",
            Phase::Rollbacks => "rollbacks",
        }
    }
}

/// How one activity run ended, as the marks show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Result {
    /// An action or pause that succeeded, or a probe without a tolerance.
    Done,
    /// A probe within its tolerance.
    Met,
    /// A probe outside its tolerance.
    Missed,
    /// The activity failed (an error, a timeout, a cancellation).
    Failed,
}

/// One run of an activity: a mark on its row.
#[derive(Clone, Debug)]
pub(super) struct Mark {
    /// Milliseconds from the run's start.
    pub start: f64,
    pub end: f64,
    pub result: Result,
    /// The value, as JSON text cut to a readable length.
    pub value: Option<String>,
    /// Why it failed, its first line.
    pub failure: Option<String>,
    /// Milliseconds paused before and after it (`pauses`).
    pub pause_before: f64,
    pub pause_after: f64,
}

/// One row of the timeline: an activity, with each of its runs (several for a probe sampled
/// during the method).
#[derive(Clone, Debug)]
pub(super) struct Row {
    pub phase: Phase,
    pub name: String,
    /// `probe`, `action` or `pause`.
    pub kind: String,
    pub tolerance: Option<String>,
    pub background: bool,
    pub marks: Vec<Mark>,
}

/// What went wrong, in words, and where it is drawn.
#[derive(Clone, Debug)]
pub(super) struct Finding {
    pub text: String,
    /// Its row and mark.
    pub at: (usize, usize),
}

/// A journal as the report shows it.
#[derive(Clone, Debug)]
pub(super) struct Story {
    /// `module::function`, or a Chaos Toolkit experiment's title.
    pub name: String,
    pub title: Option<String>,
    /// One of the eight outcomes.
    pub outcome: String,
    /// `chaos-harness`, or `chaostoolkit`.
    pub source: String,
    /// The run's start, RFC 3339 as the journal has it.
    pub start: String,
    pub duration_ms: Option<f64>,
    pub seed: Option<u64>,
    pub stopped_by: Option<String>,
    pub error: Option<String>,
    /// The selected targets, each in words.
    pub targets: Vec<String>,
    pub rows: Vec<Row>,
    /// In the order they happened: the first is highlighted.
    pub findings: Vec<Finding>,
    /// Milliseconds from the start to the last thing recorded.
    pub span: f64,
    /// Milliseconds from the start to where the run was stopped, when it was.
    pub stop_at: Option<f64>,
}

/// The longest value the report shows, in characters.
const VALUE_CHARS: usize = 120;

/// `v` as short text: a string as it is, anything else as JSON, cut to [`VALUE_CHARS`].
pub(super) fn short(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let s = chaos_runtime::redact::redact(&s).into_owned();
    if s.chars().count() > VALUE_CHARS {
        format!("{}…", s.chars().take(VALUE_CHARS).collect::<String>())
    } else {
        s
    }
}

/// Milliseconds since the epoch of an RFC 3339 time, or of Chaos Toolkit's times without an
/// offset (UTC).
pub(super) fn millis(t: &str) -> Option<f64> {
    if let Ok(ts) = t.parse::<jiff::Timestamp>() {
        return Some(ts.as_microsecond() as f64 / 1000.0);
    }
    let civil = t.parse::<jiff::civil::DateTime>().ok()?;
    let ts = civil.to_zoned(jiff::tz::TimeZone::UTC).ok()?.timestamp();
    Some(ts.as_microsecond() as f64 / 1000.0)
}

fn seconds(v: &Value) -> f64 {
    v.as_f64().map_or(0.0, |s| (s * 1000.0).max(0.0))
}

/// The records of a journal, in phase order.
fn records(j: &Value) -> Vec<(Phase, &Value)> {
    fn list(v: &Value) -> Option<Vec<&Value>> {
        v.as_array().map(|a| a.iter().collect())
    }
    let mut out = Vec::new();
    let ss = &j["steady_states"];
    for p in list(&ss["before"]["probes"]).unwrap_or_default() {
        out.push((Phase::Before, p));
    }
    for a in list(&j["run"]).unwrap_or_default() {
        out.push((Phase::Method, a));
    }
    for s in list(&ss["during"]).unwrap_or_default() {
        for p in list(&s["probes"]).unwrap_or_default() {
            out.push((Phase::During, p));
        }
    }
    for p in list(&ss["after"]["probes"]).unwrap_or_default() {
        out.push((Phase::After, p));
    }
    for a in list(&j["rollbacks"]).unwrap_or_default() {
        out.push((Phase::Rollbacks, a));
    }
    out
}

/// A target the journal records, in words: its keys and values.
fn target(t: &Value) -> String {
    match t {
        // What kind of target first, then the rest.
        Value::Object(m) => m
            .get_key_value("target")
            .into_iter()
            .chain(m.iter().filter(|(k, _)| *k != "target"))
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| format!("{k} {}", short(v)))
            .collect::<Vec<_>>()
            .join(", "),
        other => short(other),
    }
}

impl Story {
    /// Reads `journal`.
    pub(super) fn read(journal: &Value) -> Story {
        let run = Run::from_journal(journal, None, None);
        let t0 = journal["start"].as_str().and_then(millis);
        let mut rows: Vec<Row> = Vec::new();
        let mut span: f64 = 0.0;
        let mut findings: Vec<(f64, Finding)> = Vec::new();
        for (phase, rec) in records(journal) {
            let a = &rec["activity"];
            let name = a["name"].as_str().unwrap_or("?").to_owned();
            let kind = a["type"].as_str().unwrap_or("activity").to_owned();
            let tolerance = match &a["tolerance"] {
                Value::Null => None,
                t => Some(short(t)),
            };
            let at = |key: &str| {
                let t = rec[key].as_str().and_then(millis);
                match (t, t0) {
                    (Some(t), Some(t0)) => Some((t - t0).max(0.0)),
                    _ => None,
                }
            };
            let start = at("start").unwrap_or(span);
            let end = at("end")
                .unwrap_or(start + seconds(&rec["duration"]))
                .max(start);
            let failed = rec["status"] == "failed";
            let result = match rec["tolerance_met"].as_bool() {
                _ if failed => Result::Failed,
                Some(true) => Result::Met,
                Some(false) => Result::Missed,
                None => Result::Done,
            };
            let failure = rec["exception"]
                .as_array()
                .and_then(|e| {
                    e.iter()
                        .rev()
                        .find(|l| l.as_str().is_some_and(|s| !s.trim().is_empty()))
                })
                .map(|l| {
                    short(&Value::String(
                        l.as_str().unwrap_or_default().trim().to_owned(),
                    ))
                });
            let mark = Mark {
                start,
                end,
                result,
                value: (!failed && kind != "pause").then(|| short(&rec["output"])),
                failure,
                pause_before: seconds(&a["pauses"]["before"]),
                pause_after: seconds(&a["pauses"]["after"]),
            };
            span = span.max(mark.end + mark.pause_after);
            // A probe sampled during the method: one row, a mark per sample.
            let row = match rows
                .iter()
                .position(|r| phase == Phase::During && r.phase == phase && r.name == name)
            {
                Some(i) => i,
                None => {
                    rows.push(Row {
                        phase,
                        name: name.clone(),
                        kind: kind.clone(),
                        tolerance: tolerance.clone(),
                        background: a["background"] == true,
                        marks: Vec::new(),
                    });
                    rows.len() - 1
                }
            };
            let text = match result {
                Result::Missed => Some(format!(
                    "{}: probe `{name}` missed its tolerance{} (value {})",
                    phase.describe(),
                    tolerance
                        .as_ref()
                        .map(|t| format!(" `{t}`"))
                        .unwrap_or_default(),
                    mark.value.as_deref().unwrap_or("none"),
                )),
                Result::Failed => Some(format!(
                    "{}: {kind} `{name}` failed{}",
                    phase.describe(),
                    mark.failure
                        .as_ref()
                        .map(|f| format!(": {f}"))
                        .unwrap_or_default()
                )),
                _ => None,
            };
            if let Some(text) = text {
                let at = (row, rows[row].marks.len());
                // By when they were known; at a tie a missed tolerance first (an activity
                // cancelled by a fail-fast miss ends when the miss is known).
                let key = mark.end + if result == Result::Failed { 0.001 } else { 0.0 };
                findings.push((key, Finding { text, at }));
            }
            rows[row].marks.push(mark);
        }
        // Rows in the order of the run: by phase, then by when they first ran.
        let mut order: Vec<usize> = (0..rows.len()).collect();
        let first = |r: &Row| r.marks.first().map_or(0.0, |m| m.start);
        order.sort_by(|&a, &b| {
            (rows[a].phase as u8)
                .cmp(&(rows[b].phase as u8))
                .then(first(&rows[a]).total_cmp(&first(&rows[b])))
                .then(a.cmp(&b))
        });
        let mut new_index = vec![0; rows.len()];
        for (new, &old) in order.iter().enumerate() {
            new_index[old] = new;
        }
        let rows: Vec<Row> = order.iter().map(|&i| rows[i].clone()).collect();
        findings.sort_by(|a, b| a.0.total_cmp(&b.0));
        let findings: Vec<Finding> = findings
            .into_iter()
            .map(|(_, mut f)| {
                f.at.0 = new_index[f.at.0];
                f
            })
            .collect();
        let duration_ms = run.duration_ms.map(|d| d as f64);
        if let Some(d) = duration_ms {
            span = span.max(d);
        }
        let stopped_by = journal["stopped_by"].as_str().map(str::to_owned);
        let stop_at = (stopped_by.is_some()
            || matches!(run.outcome.as_str(), "interrupted" | "aborted"))
        .then(|| {
            rows.iter()
                .filter(|r| r.phase == Phase::Method)
                .flat_map(|r| r.marks.iter().map(|m| m.end))
                .fold(None, |acc: Option<f64>, e| {
                    Some(acc.map_or(e, |a| a.max(e)))
                })
                .unwrap_or(span)
        });
        Story {
            name: run.experiment,
            title: journal["experiment"]["title"].as_str().map(str::to_owned),
            outcome: run.outcome,
            source: run.source,
            start: run.start,
            duration_ms,
            seed: run.seed,
            stopped_by,
            error: journal["error"].as_str().map(str::to_owned),
            targets: journal["targets"]
                .as_array()
                .map(|t| t.iter().map(target).collect())
                .unwrap_or_default(),
            rows,
            findings,
            span: span.max(1.0),
            stop_at,
        }
    }
}
