//! Validation of a Chaos Toolkit experiment as `chaos validate` does it, every problem at
//! once, each with the file, the line and the key path; and stricter where Chaos Toolkit is
//! silently wrong: unknown or misplaced keys, keys given twice, functions and arguments that do
//! not exist, providers and secrets that cannot run here.
//!
//! A problem that `chaos validate` reports too keeps its message (and is marked so); ours say
//! what Chaos Toolkit would have done instead of failing.

mod activity;

pub(crate) use activity::find_program;
mod experiment;
mod keys;

use super::doc::Node;
use super::ExperimentFile;
use std::collections::BTreeMap;
use std::fmt;

/// One thing wrong in an experiment file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The line, in the file (1-based).
    pub line: usize,
    /// The key path: `method[0].provider.arguments`.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// Whether `chaos validate` refuses the file for it too (otherwise, Chaos Toolkit runs the
    /// file and does something other than what it says).
    pub chaos_toolkit: bool,
    /// Whether it is a key Chaos Toolkit ignores without a word (unknown, misplaced or given
    /// twice): a warning only with `CHAOS_CTK_UNKNOWN_KEYS=warn`.
    pub ignored_key: bool,
}

/// An experiment file that is not valid: every problem found, in file order.
#[derive(Clone, Debug, thiserror::Error)]
pub struct ValidationError {
    /// The file (and where in it, for a manifest).
    pub file: String,
    /// The problems, in line order.
    pub problems: Vec<Problem>,
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(
            f,
            "{}: not a valid Chaos Toolkit experiment ({n} problem{}):",
            self.file,
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            write!(f, "\n  line {}: {}: {}", p.line, p.path, p.message)?;
        }
        Ok(())
    }
}

/// What validation reads besides the file: the environment (for `type: env` configuration
/// and secrets) and the configuration values given on the command line.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    /// Environment variables the process's own override (a manifest's `spec.pod.env`).
    pub env: BTreeMap<String, String>,
    /// Environment variables that override the process's own (`.env` var files).
    pub env_over: BTreeMap<String, String>,
    /// Configuration values that replace the file's (`--var`, var-files), by key.
    pub vars: BTreeMap<String, serde_json::Value>,
    /// Whether to read the process environment too (`true` outside tests).
    pub process_env: bool,
    /// Whether keys Chaos Toolkit ignores are warnings rather than errors
    /// (`CHAOS_CTK_UNKNOWN_KEYS=warn`).
    pub lenient_keys: bool,
}

impl Inputs {
    /// The process environment over nothing.
    pub fn from_process() -> Inputs {
        Inputs {
            process_env: true,
            lenient_keys: crate::env::var(crate::env::CTK_UNKNOWN_KEYS)
                .is_some_and(|v| v.eq_ignore_ascii_case("warn")),
            ..Inputs::default()
        }
    }

    /// Environment variable `key`: a `.env` file's, else the process's, else the manifest's.
    pub(crate) fn env_var(&self, key: &str) -> Option<String> {
        self.env_over.get(key).cloned().or_else(|| {
            self.process_env
                .then(|| std::env::var(key).ok())
                .flatten()
                .or_else(|| self.env.get(key).cloned())
        })
    }
}

impl ExperimentFile {
    /// Validates the experiment with the process environment (and the manifest's).
    ///
    /// ```
    /// use chaos_runtime::ctk::ExperimentFile;
    /// let file = ExperimentFile::from_text(
    ///     "exp.yaml".as_ref(),
    ///     "title: t\ndescription: d\nsteady-state-hypotesis:\n  title: h\nmethod: []\n",
    /// )?;
    /// let e = file.validate().unwrap_err();
    /// assert_eq!(e.problems[0].line, 3);
    /// assert!(e.problems[0].message.contains("did you mean `steady-state-hypothesis`?"));
    /// # Ok::<(), chaos_runtime::ctk::LoadError>(())
    /// ```
    pub fn validate(&self) -> Result<(), ValidationError> {
        let mut inputs = Inputs::from_process();
        inputs.env = self.env().clone();
        self.validate_with(&inputs)
    }

    /// Validates the experiment with `inputs`.
    pub fn validate_with(&self, inputs: &Inputs) -> Result<(), ValidationError> {
        let mut c = Checker::new(inputs);
        c.experiment(&self.root);
        let mut problems = c.problems;
        problems.sort_by_key(|p| p.line);
        problems.dedup();
        if inputs.lenient_keys {
            problems.retain(|p| {
                if p.ignored_key {
                    tracing::warn!(
                        file = %self.display_name(),
                        "line {}: {}: {} (run as Chaos Toolkit would: CHAOS_CTK_UNKNOWN_KEYS=warn)",
                        p.line,
                        p.path,
                        p.message
                    );
                }
                !p.ignored_key
            });
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ValidationError {
                file: self.display_name(),
                problems,
            })
        }
    }
}

/// Collects problems while walking the tree.
pub(crate) struct Checker<'a> {
    inputs: &'a Inputs,
    problems: Vec<Problem>,
    /// The names `ref` may point at: method activities and steady-state probes.
    refs: Vec<String>,
}

impl<'a> Checker<'a> {
    fn new(inputs: &'a Inputs) -> Self {
        Checker {
            inputs,
            problems: Vec::new(),
            refs: Vec::new(),
        }
    }

    /// A problem `chaos validate` reports too, with its message.
    fn ctk(&mut self, node_line: usize, path: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            line: node_line,
            path: path.to_owned(),
            message: message.into(),
            chaos_toolkit: true,
            ignored_key: false,
        });
    }

    /// A key Chaos Toolkit ignores without a word.
    fn ignored_key(&mut self, node_line: usize, path: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            line: node_line,
            path: path.to_owned(),
            message: message.into(),
            chaos_toolkit: false,
            ignored_key: true,
        });
    }

    /// A problem Chaos Toolkit does not see.
    fn ours(&mut self, node_line: usize, path: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            line: node_line,
            path: path.to_owned(),
            message: message.into(),
            chaos_toolkit: false,
            ignored_key: false,
        });
    }

    /// `node` must be a mapping; otherwise a problem, and `false`.
    fn mapping(&mut self, node: &Node, path: &str, what: &str) -> bool {
        if matches!(node.value, super::doc::Value::Map(_)) {
            true
        } else {
            self.ours(
                node.line,
                path,
                format!("{what} must be a mapping, found {}", node.kind()),
            );
            false
        }
    }
}

/// `parent.key` (or `key` at the top).
pub(crate) fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// `parent[i]`.
pub(crate) fn index(parent: &str, i: usize) -> String {
    format!("{parent}[{i}]")
}

#[cfg(test)]
mod tests;
