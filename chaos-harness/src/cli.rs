//! `chaos`, the command that runs Chaos Toolkit experiment files as `chaos run` and checks
//! them as `chaos validate`, with the options people script; the run goes through the same
//! path as a harness trial (settings, notifications, the write-ahead ledger and its guardian).

use crate::chaostoolkit::FileTrial;
use crate::harness::{journal_dir, ledger_dir, run_experiment, Spec};
use crate::setup::Harness;
use chaos_runtime::ctk::{ExperimentFile, Inputs, RunOptions};
use chaos_runtime::journal::JournalRecorder;
use clap::{Arg, ArgAction, ArgMatches, Command};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Exit code of a command line that could not be used (as click's usage errors).
const USAGE: u8 = 2;

fn command() -> Command {
    let source = Arg::new("source")
        .value_name("SOURCE")
        .required(true)
        .help("the experiment file: .json, .yaml, .yml, or a ConfigMap manifest holding one");
    let tls = Arg::new("no-verify-tls")
        .long("no-verify-tls")
        .action(ArgAction::SetTrue)
        .help("accepted for compatibility (sources are local files)");
    Command::new("chaos")
        .about("Runs Chaos Toolkit experiment files, with chaos-harness's verdicts")
        .version(env!("CARGO_PKG_VERSION"))
        .subcommand_required(true)
        .arg(
            Arg::new("verbose")
                .long("verbose")
                .action(ArgAction::SetTrue)
                .global(true)
                .help("every step on stderr"),
        )
        .arg(
            Arg::new("settings")
                .long("settings")
                .value_name("PATH")
                .global(true)
                .help("chaos.toml, or Chaos Toolkit's settings.yaml"),
        )
        .arg(
            Arg::new("change-dir")
                .long("change-dir")
                .value_name("DIR")
                .global(true)
                .help("work in DIR"),
        )
        .arg(
            Arg::new("no-version-check")
                .long("no-version-check")
                .action(ArgAction::SetTrue)
                .global(true)
                .hide(true),
        )
        .arg(
            Arg::new("no-log-file")
                .long("no-log-file")
                .action(ArgAction::SetTrue)
                .global(true)
                .hide(true),
        )
        .arg(
            Arg::new("log-file")
                .long("log-file")
                .value_name("PATH")
                .global(true)
                .hide(true),
        )
        .arg(
            Arg::new("log-format")
                .long("log-format")
                .value_name("FORMAT")
                .global(true)
                .hide(true),
        )
        .subcommand(
            Command::new("run")
                .about("Runs an experiment; exits 0 when it passed")
                .arg(
                    Arg::new("journal-path")
                        .long("journal-path")
                        .value_name("PATH")
                        .default_value("./journal.json"),
                )
                .arg(
                    Arg::new("var")
                        .long("var")
                        .value_name("NAME[:TYPE]=VALUE")
                        .action(ArgAction::Append)
                        .help("a configuration value (types: str, int, float, bool, json, bytes)"),
                )
                .arg(
                    Arg::new("var-file")
                        .long("var-file")
                        .value_name("PATH")
                        .action(ArgAction::Append)
                        .help("configuration values (JSON, YAML) or environment variables (.env)"),
                )
                .arg(
                    Arg::new("rollback-strategy")
                        .long("rollback-strategy")
                        .value_parser(["default", "always", "never", "deviated"]),
                )
                .arg(
                    Arg::new("hypothesis-strategy")
                        .long("hypothesis-strategy")
                        .value_parser([
                            "default",
                            "before-method-only",
                            "after-method-only",
                            "during-method-only",
                            "continuously",
                            "continously",
                        ]),
                )
                .arg(
                    Arg::new("hypothesis-frequency")
                        .long("hypothesis-frequency")
                        .value_name("SECONDS")
                        .value_parser(clap::value_parser!(f64)),
                )
                .arg(
                    Arg::new("fail-fast")
                        .long("fail-fast")
                        .action(ArgAction::SetTrue),
                )
                .arg(Arg::new("dry").long("dry").value_parser([
                    "probes",
                    "actions",
                    "activities",
                    "pause",
                ]))
                .arg(
                    Arg::new("no-validation")
                        .long("no-validation")
                        .action(ArgAction::SetTrue)
                        .help("accepted for compatibility: a file is always validated"),
                )
                .arg(
                    Arg::new("control-file")
                        .long("control-file")
                        .value_name("PATH")
                        .action(ArgAction::Append)
                        .hide(true),
                )
                .arg(tls.clone())
                .arg(source.clone()),
        )
        .subcommand(crate::history_cmd::command())
        .subcommand(crate::report_cmd::command())
        .subcommand(Command::new("recover").about(
            "Rolls back the runs that were killed before their rollbacks (as a harness's \
             --recover); exits 0 when everything was recovered",
        ))
        .subcommand(
            Command::new("validate")
                .about("Checks an experiment; exits 0 when it is valid")
                .arg(tls)
                .arg(source),
        )
}

/// The `chaos` command's `main`.
pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    // The guardian of a run of this command (see `guardian`).
    if args.get(1).map(String::as_str) == Some(crate::guardian::GUARDIAN_FLAG) {
        crate::harness::install_logging();
        let harness = Harness::new(None);
        return crate::guardian::serve(&args[2..], &harness);
    }
    let matches = match command().try_get_matches_from(&args) {
        Ok(m) => m,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { USAGE } else { 0 });
        }
    };
    if let Some(dir) = matches.get_one::<String>("change-dir") {
        if let Err(e) = std::env::set_current_dir(dir) {
            eprintln!("chaos: --change-dir {dir}: {e}");
            return ExitCode::from(USAGE);
        }
    }
    if let Some(s) = matches.get_one::<String>("settings") {
        // Read by the settings loader, as CHAOS_SETTINGS is (one thread so far).
        std::env::set_var(chaos_runtime::env::SETTINGS, s);
    }
    crate::harness::install_logging();
    chaos_runtime::redact::install_panic_hook();
    match matches.subcommand() {
        Some(("validate", m)) => validate(m),
        Some(("run", m)) => run(m, matches.get_flag("verbose")),
        Some(("recover", _)) => crate::harness::recover_only(&Harness::new(None)),
        Some(("history", m)) => match chaos_runtime::settings::Settings::load() {
            Ok(settings) => crate::history_cmd::run(m, crate::run_history::path(&settings)),
            Err(e) => {
                eprintln!("chaos history: {e}");
                ExitCode::from(USAGE)
            }
        },
        Some(("report", m)) => match chaos_runtime::settings::Settings::load() {
            Ok(settings) => crate::report_cmd::run(m, crate::run_history::path(&settings)),
            Err(e) => {
                eprintln!("chaos report: {e}");
                ExitCode::from(USAGE)
            }
        },
        _ => ExitCode::from(USAGE),
    }
}

fn source(m: &ArgMatches) -> PathBuf {
    PathBuf::from(m.get_one::<String>("source").cloned().unwrap_or_default())
}

fn validate(m: &ArgMatches) -> ExitCode {
    let path = source(m);
    let file = match ExperimentFile::load(&path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    match file.validate() {
        Ok(()) => {
            eprintln!(
                "{}: experiment syntax and semantic look valid",
                file.display_name()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}

fn run(m: &ArgMatches, verbose: bool) -> ExitCode {
    let path = source(m);
    let mut inputs = Inputs::from_process();
    for f in m.get_many::<String>("var-file").into_iter().flatten() {
        if let Err(e) = inputs.add_var_file(Path::new(f)) {
            eprintln!("chaos: --var-file {f}: {e}");
            return ExitCode::from(USAGE);
        }
    }
    // As Chaos Toolkit does: a `.env` file's variables go to the process's environment, so
    // that the experiment's processes see them too (one thread so far).
    for (k, v) in &inputs.env_over {
        std::env::set_var(k, v);
    }
    for v in m.get_many::<String>("var").into_iter().flatten() {
        if let Err(e) = inputs.add_var(v) {
            eprintln!("chaos: {e}");
            return ExitCode::from(USAGE);
        }
    }
    if m.get_many::<String>("control-file").is_some() {
        eprintln!("chaos: --control-file: Chaos Toolkit controls are Python modules and cannot run here; ignored");
    }
    let options = RunOptions {
        inputs,
        hypothesis_strategy: m.get_one::<String>("hypothesis-strategy").cloned(),
        hypothesis_frequency: m.get_one::<f64>("hypothesis-frequency").copied(),
        fail_fast: m.get_flag("fail-fast"),
        rollback_strategy: m.get_one::<String>("rollback-strategy").cloned(),
        dry: m.get_one::<String>("dry").cloned(),
    };
    let journal_path = PathBuf::from(
        m.get_one::<String>("journal-path")
            .cloned()
            .unwrap_or_else(|| "./journal.json".into()),
    );
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "experiment".into());
    let harness = Harness::new(None);
    if !crate::harness::ledger_off() {
        crate::recovery::at_start(&ledger_dir(), &journal_dir(), &harness);
    }
    let spec = Spec::Command(
        FileTrial {
            name: name.clone(),
            path,
            ignored: false,
        },
        Box::new(options),
    );
    let recorder = JournalRecorder::new(&name);
    let ended = run_experiment(&spec, &name, &recorder, verbose, &harness, &journal_path);
    if let Err(why) = &ended {
        recorder.with(|j| j.finish_broken(why));
    }
    let journal = recorder.journal();
    match journal.write_atomic(&journal_path) {
        Ok(()) => {
            let path = std::fs::canonicalize(&journal_path).unwrap_or(journal_path.clone());
            crate::run_history::append(&harness.settings, &journal.to_value(), path);
        }
        Err(e) => eprintln!("chaos: {e}"),
    }
    let outcome = journal.outcome;
    let text = match &ended {
        Ok(r) => crate::report::verdict::render(r, &journal_path),
        Err(why) => crate::report::verdict::render_broken(&name, why, &journal_path),
    };
    eprintln!("{}", chaos_runtime::redact::redact(&text));
    ExitCode::from(outcome.exit_code())
}

#[cfg(test)]
mod tests {
    use super::command;

    #[test]
    fn the_options_chaos_toolkit_users_script_parse() {
        let m = command()
            .try_get_matches_from([
                "chaos",
                "--no-version-check",
                "--settings",
                "s.yaml",
                "run",
                "--journal-path",
                "j.json",
                "--var",
                "a=1",
                "--var",
                "b:int=2",
                "--var-file",
                "v.env",
                "--rollback-strategy",
                "always",
                "--hypothesis-strategy",
                "continuously",
                "--hypothesis-frequency",
                "0.5",
                "--fail-fast",
                "--dry",
                "probes",
                "--no-validation",
                "exp.json",
            ])
            .expect("parses");
        let (_, run) = m.subcommand().expect("run");
        assert_eq!(run.get_many::<String>("var").expect("vars").count(), 2);
        assert_eq!(run.get_one::<f64>("hypothesis-frequency"), Some(&0.5));
        assert_eq!(
            run.get_one::<String>("settings").map(String::as_str),
            Some("s.yaml")
        );
        let e = command()
            .try_get_matches_from([
                "chaos",
                "run",
                "--rollback-strategy",
                "sometimes",
                "exp.json",
            ])
            .expect_err("bad choice");
        assert_eq!(e.kind(), clap::error::ErrorKind::InvalidValue);
        assert!(command()
            .try_get_matches_from(["chaos", "validate"])
            .is_err());
    }
}
