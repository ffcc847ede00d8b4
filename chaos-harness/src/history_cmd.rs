//! `chaos history`: what the run history says per experiment (the last outcomes, pass rate,
//! flakiness, time to recover, probe success, weight) and the resilience score as Litmus
//! computes it; `chaos history import` adds journals (ours or Chaos Toolkit's) to it.

use chaos_runtime::history::{score, summarize, Run, Store};
use clap::{value_parser, Arg, ArgAction, ArgMatches, Command};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The `history` subcommand's definition.
pub(crate) fn command() -> Command {
    Command::new("history")
        .about("What the run history says per experiment, and the resilience score")
        .arg(
            Arg::new("last")
                .long("last")
                .value_name("N")
                .value_parser(value_parser!(usize))
                .default_value("10")
                .help("how many of the last outcomes to show"),
        )
        .arg(
            Arg::new("experiment")
                .long("experiment")
                .value_name("NAME")
                .help("only this experiment"),
        )
        .arg(
            Arg::new("json")
                .long("json")
                .action(ArgAction::SetTrue)
                .help("JSON, for tools"),
        )
        .arg(
            Arg::new("db")
                .long("db")
                .value_name("PATH")
                .help("the history file (default: [report] history, or history.sqlite in the journal directory)"),
        )
        .subcommand(
            Command::new("import")
                .about("Adds journals (this framework's or Chaos Toolkit's) to the history")
                .arg(
                    Arg::new("journals")
                        .value_name("JOURNAL")
                        .num_args(1..)
                        .required(true),
                ),
        )
}

/// Runs `chaos history` with `m`, against the history `default` names.
pub(crate) fn run(m: &ArgMatches, default: Option<PathBuf>) -> ExitCode {
    let Some(path) = m.get_one::<String>("db").map(PathBuf::from).or(default) else {
        eprintln!("chaos history: CHAOS_HISTORY=off: no history is kept");
        return ExitCode::from(2);
    };
    if let Some(("import", i)) = m.subcommand() {
        return import(
            &path,
            i.get_many::<String>("journals").into_iter().flatten(),
        );
    }
    if !path.exists() {
        eprintln!(
            "chaos history: {} does not exist yet: no run was recorded",
            path.display()
        );
        return ExitCode::from(1);
    }
    let store = match Store::open(&path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("chaos history: {e}");
            return ExitCode::from(1);
        }
    };
    let runs = match store.runs(m.get_one::<String>("experiment").map(String::as_str)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("chaos history: {e}");
            return ExitCode::from(1);
        }
    };
    let last = m.get_one::<usize>("last").copied().unwrap_or(10);
    let summaries = summarize(&runs, last);
    let resilience = score(
        &summaries
            .iter()
            .map(|s| (s.weight, s.probe_success))
            .collect::<Vec<_>>(),
    );
    if m.get_flag("json") {
        let v = serde_json::json!({
            "history": path.display().to_string(),
            "runs": runs.len(),
            "resilience_score": resilience,
            "experiments": summaries.iter().map(|s| serde_json::json!({
                "experiment": s.experiment,
                "runs": s.runs,
                "last": s.last,
                "pass_rate": s.pass_rate,
                "flaky": {"changes": s.flaky.0, "pairs": s.flaky.1},
                "recovery_ms": s.recovery_ms,
                "probe_success": s.probe_success,
                "weight": s.weight,
                "findings": s.findings,
            })).collect::<Vec<_>>(),
        });
        println!("{v:#}");
        return ExitCode::SUCCESS;
    }
    print!("{}", render(&path, runs.len(), &summaries, resilience));
    ExitCode::SUCCESS
}

fn render(
    path: &Path,
    runs: usize,
    summaries: &[chaos_runtime::history::Summary],
    resilience: f64,
) -> String {
    let width = summaries
        .iter()
        .map(|s| s.experiment.len())
        .max()
        .unwrap_or(10)
        .max(10);
    let mut out = format!(
        "{runs} run(s) in {}\n\n{:width$}  {:>4}  {:>6}  {:>7}  {:>8}  {:>6}  {:>6}  last outcomes (newest first)\n",
        path.display(),
        "experiment",
        "runs",
        "passed",
        "flaky",
        "recovery",
        "probes",
        "weight"
    );
    for s in summaries {
        let recovery = s.recovery_ms.map_or_else(
            || "-".to_owned(),
            |ms| format!("{:.1}s", ms as f64 / 1000.0),
        );
        out.push_str(&format!(
            "{:width$}  {:>4}  {:>5.0}%  {:>7}  {:>8}  {:>5}%  {:>6}  {}\n",
            s.experiment,
            s.runs,
            s.pass_rate * 100.0,
            format!("{}/{}", s.flaky.0, s.flaky.1),
            recovery,
            s.probe_success,
            s.weight,
            s.last.join(" ")
        ));
    }
    out.push_str(&format!(
        "\nresilience score (Litmus: weights × probe success of each experiment's latest run): {resilience:.2}\n"
    ));
    out
}

fn import<'a>(path: &Path, journals: impl Iterator<Item = &'a String>) -> ExitCode {
    let mut store = match Store::open(path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("chaos history: {e}");
            return ExitCode::from(1);
        }
    };
    let (mut added, mut skipped) = (0, 0);
    for j in journals {
        let file = PathBuf::from(j);
        let value = std::fs::read(&file)
            .map_err(|e| e.to_string())
            .and_then(|b| {
                serde_json::from_slice::<serde_json::Value>(&b).map_err(|e| e.to_string())
            })
            .and_then(|v| {
                if v["start"].is_string() && (v["outcome"].is_string() || v["status"].is_string()) {
                    Ok(v)
                } else {
                    Err("not a journal (no `start` with an `outcome` or `status`)".into())
                }
            });
        match value {
            Ok(v) => {
                let path = std::fs::canonicalize(&file).unwrap_or(file);
                match store.append(&Run::from_journal(&v, Some(path), None)) {
                    Ok(()) => added += 1,
                    Err(e) => {
                        eprintln!("chaos history: {e}");
                        return ExitCode::from(1);
                    }
                }
            }
            Err(why) => {
                eprintln!("chaos history: {}: {why}; skipped", file.display());
                skipped += 1;
            }
        }
    }
    eprintln!(
        "chaos history: {added} journal(s) added to {}, {skipped} skipped",
        path.display()
    );
    ExitCode::SUCCESS
}
