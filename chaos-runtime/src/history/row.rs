//! One run of the history, read from its journal: ours, or Chaos Toolkit's.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::PathBuf;

/// One experiment run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// The experiment (`module::function`; a Chaos Toolkit journal's experiment title).
    pub experiment: String,
    /// One of the eight outcomes (`passed`, `deviated`...).
    pub outcome: String,
    /// When it started (RFC 3339).
    pub start: String,
    /// How long it took, in milliseconds.
    pub duration_ms: Option<i64>,
    /// The run's seed (Chaos Toolkit's journals have none).
    pub seed: Option<u64>,
    /// What went wrong, in words: missed tolerances and failed activities, with their phase.
    pub findings: Vec<String>,
    /// The git revision of the code that ran (`-dirty` appended with uncommitted changes).
    pub revision: Option<String>,
    /// The journal file.
    pub journal: Option<PathBuf>,
    /// Probes with a tolerance that were evaluated.
    pub probes: i64,
    /// Those that met their tolerance.
    pub probes_met: i64,
    /// How long the steady state took to hold again after the sampled hypothesis first
    /// missed it during the method, in milliseconds (`None` when it was not sampled or never
    /// missed).
    pub recovery_ms: Option<i64>,
    /// The experiment's weight in the resilience score (1 to 10; `weight = N`).
    pub weight: i64,
    /// `chaos-harness`, or `chaostoolkit` for an imported journal.
    pub source: String,
}

/// The phases of a journal, with where their activity records are.
fn records(j: &Value) -> Vec<(&'static str, &Value)> {
    let mut out = Vec::new();
    let ss = &j["steady_states"];
    for p in ss["before"]["probes"].as_array().into_iter().flatten() {
        out.push(("before the method", p));
    }
    for s in ss["during"].as_array().into_iter().flatten() {
        for p in s["probes"].as_array().into_iter().flatten() {
            out.push(("during the method", p));
        }
    }
    for p in ss["after"]["probes"].as_array().into_iter().flatten() {
        out.push(("after the method", p));
    }
    for a in j["run"].as_array().into_iter().flatten() {
        out.push(("method", a));
    }
    for a in j["rollbacks"].as_array().into_iter().flatten() {
        out.push(("rollbacks", a));
    }
    out
}

fn short(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(80).collect::<String>())
    } else {
        s
    }
}

fn millis(t: &str) -> Option<i64> {
    t.parse::<jiff::Timestamp>()
        .ok()
        .map(|t| t.as_millisecond())
}

/// When the sampled steady state first missed, to when it held again.
fn recovery(j: &Value) -> Option<i64> {
    let samples = j["steady_states"]["during"].as_array()?;
    let at = |s: &Value| {
        s["probes"]
            .as_array()
            .and_then(|p| p.first())
            .and_then(|p| p["start"].as_str())
            .and_then(millis)
    };
    let missed = samples
        .iter()
        .position(|s| s["steady_state_met"] == false)?;
    let held = samples[missed..]
        .iter()
        .find(|s| s["steady_state_met"] == true)?;
    Some((at(held)? - at(&samples[missed])?).max(0))
}

/// Our outcome for a Chaos Toolkit journal.
fn ctk_outcome(j: &Value) -> &'static str {
    let baseline_missed = j["steady_states"]["before"]["steady_state_met"] == false;
    let failed_action = j["run"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|a| a["status"] == "failed");
    match j["status"].as_str() {
        Some("completed") | Some("failed") if baseline_missed => "baseline-not-met",
        Some("completed") | Some("failed") if j["deviated"] == true => "deviated",
        Some("completed") if failed_action => "activity-failed",
        Some("completed") => "passed",
        Some("failed") => "activity-failed",
        Some("aborted") => "aborted",
        Some("interrupted") => "interrupted",
        _ => "error",
    }
}

impl Run {
    /// The run a journal records (this framework's, or Chaos Toolkit's, whose status becomes
    /// one of our outcomes and whose experiment title names it), with the file it came from
    /// and the git revision that ran.
    pub fn from_journal(journal: &Value, path: Option<PathBuf>, revision: Option<String>) -> Run {
        let ours = journal["outcome"].is_string();
        let (mut probes, mut met) = (0, 0);
        let mut findings = Vec::new();
        for (phase, a) in records(journal) {
            let name = a["activity"]["name"].as_str().unwrap_or("?");
            let kind = a["activity"]["type"].as_str().unwrap_or("activity");
            match a["tolerance_met"].as_bool() {
                Some(true) => {
                    probes += 1;
                    met += 1;
                }
                Some(false) => {
                    probes += 1;
                    findings.push(format!(
                        "{phase}: probe `{name}` missed its tolerance (value {})",
                        short(&a["output"])
                    ));
                }
                None => {}
            }
            if a["status"] == "failed" {
                let why = a["exception"]
                    .as_array()
                    .and_then(|e| e.first())
                    .map(short)
                    .unwrap_or_default();
                findings.push(format!("{phase}: {kind} `{name}` failed: {why}"));
            }
        }
        if let Some(e) = journal["error"].as_str() {
            findings.push(format!("error: {e}"));
        }
        Run {
            experiment: if ours {
                journal["name"].as_str().unwrap_or("?").to_owned()
            } else {
                journal["experiment"]["title"]
                    .as_str()
                    .unwrap_or("?")
                    .to_owned()
            },
            outcome: if ours {
                journal["outcome"].as_str().unwrap_or("error").to_owned()
            } else {
                ctk_outcome(journal).to_owned()
            },
            start: journal["start"].as_str().unwrap_or_default().to_owned(),
            duration_ms: journal["duration"]
                .as_f64()
                .map(|s| (s * 1000.0).round() as i64),
            seed: journal["seed"].as_u64(),
            findings,
            revision,
            journal: path,
            probes,
            probes_met: met,
            recovery_ms: recovery(journal),
            weight: journal["experiment"]["runtime"]["weight"]
                .as_i64()
                .unwrap_or(1),
            source: if ours {
                "chaos-harness"
            } else {
                "chaostoolkit"
            }
            .to_owned(),
        }
    }

    /// The probe success percentage, as Litmus computes it: 100 for a passed run; otherwise
    /// the share of probes that met their tolerance, in whole percent (rounded down), or 0
    /// without probes.
    ///
    /// ```
    /// # use chaos_runtime::history::Run;
    /// # let mut run = Run::from_journal(&serde_json::json!({"outcome": "deviated"}), None, None);
    /// (run.probes, run.probes_met) = (3, 2);
    /// assert_eq!(run.probe_success(), 66);
    /// run.outcome = "passed".into();
    /// assert_eq!(run.probe_success(), 100);
    /// ```
    pub fn probe_success(&self) -> i64 {
        match (self.outcome.as_str(), self.probes) {
            ("passed", _) => 100,
            (_, 0) => 0,
            (_, n) => self.probes_met * 100 / n,
        }
    }
}
