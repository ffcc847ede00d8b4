//! Chaos Toolkit experiment files as trials: `main!(chaostoolkit = ["experiments/"])` finds the
//! files (a directory's `.json`, `.yaml` and `.yml` files, or glob patterns), relative to the
//! test crate's directory, and each becomes a trial named after its path
//! (`experiments/kill-pods.yaml` → `experiments::kill-pods`).

use chaos_runtime::ctk::{ExperimentFile, RunOptions};
use chaos_runtime::Experiment;
use std::path::{Path, PathBuf};

/// The run variable that names a Chaos Toolkit run's file (kept in its ledger entry, so that a
/// recovery rebuilds the experiment and runs its rollbacks).
pub(crate) const FILE_VAR: &str = "chaos.chaostoolkit_file";

/// A Chaos Toolkit file, as a trial.
#[derive(Clone, Debug)]
pub(crate) struct FileTrial {
    /// The trial's name.
    pub name: String,
    /// The file.
    pub path: PathBuf,
    /// Whether it runs only with `--ignored`.
    pub ignored: bool,
}

/// The files `patterns` name, relative to `base` (the test crate's directory), sorted by
/// trial name. A pattern that names nothing, or a file whose name is taken, is an error.
pub(crate) fn find(patterns: &[&str], base: &Path) -> Result<Vec<FileTrial>, String> {
    let mut found: Vec<FileTrial> = Vec::new();
    for pattern in patterns {
        // `!` first: ignored trials (`main!(chaostoolkit_ignored = [...])`).
        let (pattern, ignored) = match pattern.strip_prefix('!') {
            Some(p) => (p, true),
            None => (*pattern, false),
        };
        let full = base.join(pattern);
        let paths: Vec<PathBuf> = if full.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(&full)
                .map_err(|e| {
                    format!(
                        "chaostoolkit = {pattern:?}: cannot read {}: {e}",
                        full.display()
                    )
                })?
                .flatten()
                .map(|e| e.path())
                .filter(|p| is_experiment_file(p))
                .collect();
            v.sort();
            v
        } else {
            let text = full.to_string_lossy();
            let mut v: Vec<PathBuf> = glob::glob(&text)
                .map_err(|e| format!("chaostoolkit = {pattern:?}: not a valid pattern: {e}"))?
                .flatten()
                .filter(|p| p.is_file())
                .collect();
            v.sort();
            v
        };
        if paths.is_empty() {
            return Err(format!(
                "chaostoolkit = {pattern:?}: no .json, .yaml or .yml file there ({})",
                full.display()
            ));
        }
        for path in paths {
            let name = trial_name(&path, base);
            if let Some(other) = found.iter().find(|f| f.name == name) {
                if other.path != path {
                    return Err(format!(
                        "two Chaos Toolkit files make the trial `{name}`: {} and {}",
                        other.path.display(),
                        path.display()
                    ));
                }
                continue;
            }
            found.push(FileTrial {
                name,
                path,
                ignored,
            });
        }
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

fn is_experiment_file(p: &Path) -> bool {
    p.is_file()
        && p.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "json" | "yaml" | "yml"))
}

/// `experiments/kill-pods.yaml` (relative to `base`) → `experiments::kill-pods`.
fn trial_name(path: &Path, base: &Path) -> String {
    let rel = path.strip_prefix(base).unwrap_or(path);
    let rel = rel.with_extension("");
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .filter(|c| c != "." && c != "/")
        .collect::<Vec<_>>()
        .join("::")
}

impl FileTrial {
    /// Reads, validates and builds the file's experiment, with the variables of the settings
    /// as configuration values and the environment (the manifest's under the process's).
    pub(crate) fn build(
        &self,
        vars: &std::collections::BTreeMap<String, String>,
    ) -> Result<Experiment, String> {
        let file = ExperimentFile::load(&self.path).map_err(|e| e.to_string())?;
        let mut options = RunOptions {
            inputs: chaos_runtime::ctk::Inputs::from_process(),
            ..RunOptions::default()
        };
        options.inputs.env = file.env().clone();
        // The settings' [variables] are the configuration values a `--var` would give.
        let declared = file.to_json();
        for (k, v) in vars {
            if declared.pointer(&format!("/configuration/{k}")).is_some() {
                options
                    .inputs
                    .vars
                    .insert(k.clone(), serde_json::Value::String(v.clone()));
            }
        }
        file.to_experiment(&self.name, &options)
            .map_err(|e| e.to_string())
    }

    /// Reads, validates and builds the file's experiment with `options` (the `chaos`
    /// command's), the manifest's environment under them.
    pub(crate) fn build_with(&self, options: &RunOptions) -> Result<Experiment, String> {
        let file = ExperimentFile::load(&self.path).map_err(|e| e.to_string())?;
        let mut options = options.clone();
        for (k, v) in file.env() {
            options
                .inputs
                .env
                .entry(k.clone())
                .or_insert_with(|| v.clone());
        }
        file.to_experiment(&self.name, &options)
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_by_directory_or_pattern_named_after_their_paths() {
        let dir = tempfile::tempdir().expect("tempdir");
        let exp = dir.path().join("experiments");
        std::fs::create_dir_all(exp.join("more")).expect("dirs");
        for f in ["kill-pods.yaml", "b.json", "notes.txt", "more/c.yml"] {
            std::fs::write(exp.join(f), "title: t\n").expect("write");
        }
        let found = find(&["experiments"], dir.path()).expect("found");
        let names: Vec<&str> = found.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["experiments::b", "experiments::kill-pods"]);
        let found =
            find(&["experiments/**/*.yml", "experiments/b.json"], dir.path()).expect("found");
        let names: Vec<&str> = found.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["experiments::b", "experiments::more::c"]);
        let e = find(&["nothing/*.json"], dir.path()).expect_err("nothing");
        assert!(e.contains("no .json, .yaml or .yml file there"), "{e}");
        std::fs::write(exp.join("b.yaml"), "title: t\n").expect("write");
        let e = find(&["experiments"], dir.path()).expect_err("clash");
        assert!(
            e.contains("two Chaos Toolkit files make the trial `experiments::b`"),
            "{e}"
        );
    }
}
