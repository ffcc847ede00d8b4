//! `chaos report`: the HTML report of any journals, this framework's or Chaos Toolkit's. A
//! file that is not a journal is named on stderr and in the page, and left out.

use clap::{Arg, ArgAction, ArgMatches, Command};
use std::path::PathBuf;
use std::process::ExitCode;

/// The `report` subcommand's definition.
pub(crate) fn command() -> Command {
    Command::new("report")
        .about("Writes the HTML report of journals (files, or directories of them)")
        .arg(
            Arg::new("journals")
                .value_name("JOURNAL_OR_DIR")
                .num_args(0..)
                .help("journal files, or directories whose *.json files are journals (default: the journal directory)"),
        )
        .arg(
            Arg::new("output")
                .short('o')
                .long("output")
                .value_name("PATH")
                .default_value("report.html")
                .help("where to write the page"),
        )
        .arg(
            Arg::new("title")
                .long("title")
                .value_name("TEXT")
                .default_value("Chaos report")
                .help("the page's title"),
        )
        .arg(
            Arg::new("db")
                .long("db")
                .value_name("PATH")
                .help("the run history, for each experiment's recent outcomes (default: [report] history)"),
        )
        .arg(
            Arg::new("no-history")
                .long("no-history")
                .action(ArgAction::SetTrue)
                .help("show no recent outcomes"),
        )
}

/// The journal files `args` name: files as they are, and each directory's `*.json` files
/// (not its subdirectories), in name order.
fn journals(args: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for a in args {
        if a.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(a)
                .map_err(|e| format!("{}: {e}", a.display()))?
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "json"))
                .collect();
            files.sort();
            out.extend(files);
        } else {
            out.push(a.clone());
        }
    }
    Ok(out)
}

/// Runs `chaos report` with `m`; `history` is the settings' history file. Exits 0 when the
/// page was written with at least one journal, 1 when none could be read or it could not be
/// written.
pub(crate) fn run(m: &ArgMatches, history: Option<PathBuf>) -> ExitCode {
    let args: Vec<PathBuf> = match m.get_many::<String>("journals") {
        Some(v) => v.map(PathBuf::from).collect(),
        None => vec![crate::harness::journal_dir()],
    };
    let files = match journals(&args) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("chaos report: {e}");
            return ExitCode::from(1);
        }
    };
    let output = PathBuf::from(
        m.get_one::<String>("output")
            .cloned()
            .unwrap_or_else(|| "report.html".into()),
    );
    let history = if m.get_flag("no-history") {
        None
    } else {
        m.get_one::<String>("db").map(PathBuf::from).or(history)
    };
    let inputs: Vec<(PathBuf, Option<bool>)> = files.iter().map(|f| (f.clone(), None)).collect();
    let title = m
        .get_one::<String>("title")
        .cloned()
        .unwrap_or_else(|| "Chaos report".into());
    match crate::report::cases::write_html(&output, &title, &inputs, &[], history.as_deref()) {
        Ok(left_out) if left_out < files.len() => {
            eprintln!(
                "chaos report: {} written: {} journal(s){}",
                output.display(),
                files.len() - left_out,
                if left_out > 0 {
                    format!(", {left_out} file(s) left out")
                } else {
                    String::new()
                }
            );
            ExitCode::SUCCESS
        }
        Ok(_) => {
            eprintln!(
                "chaos report: no journal in {}; {} written empty",
                args.iter()
                    .map(|a| a.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                output.display()
            );
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("chaos report: {}: {e}", output.display());
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn directories_give_their_json_files_in_name_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        for f in ["b.json", "a.json", "history.sqlite", "report.html"] {
            std::fs::write(dir.path().join(f), "{}").expect("write");
        }
        std::fs::create_dir(dir.path().join(".run-parts")).expect("dir");
        let extra = Path::new("/x/one.json").to_path_buf();
        let got = journals(&[dir.path().to_path_buf(), extra.clone()]).expect("list");
        assert_eq!(
            got,
            [dir.path().join("a.json"), dir.path().join("b.json"), extra]
        );
    }
}
