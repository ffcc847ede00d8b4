//! The format-independent tree the TOML and YAML readers build, and the primitives of the
//! [`Parser`] that validates it (strings, durations, paths, errors naming the file, line and
//! key). Each section's module adds its own method; `Parser::settings` (in `mod.rs`) goes
//! over the sections.

use super::duration::{parse_duration, secs_to_duration, DURATION_HELP};
use super::SettingsError;
use crate::redact::Secret;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A settings value with its line, whatever the file's format.
pub(super) struct Node {
    pub(super) line: usize,
    pub(super) value: NodeValue,
}

/// A settings value, whatever the file's format.
pub(super) enum NodeValue {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Array(Vec<Node>),
    Table(Vec<Entry>),
    Other(&'static str),
}

/// A key of a table, with its line.
pub(super) struct Entry {
    pub(super) key: String,
    pub(super) line: usize,
    pub(super) node: Node,
}

impl Node {
    pub(super) fn type_name(&self) -> &'static str {
        match self.value {
            NodeValue::Str(_) => "a string",
            NodeValue::Int(_) => "an integer",
            NodeValue::Float(_) => "a float",
            NodeValue::Bool(_) => "a boolean",
            NodeValue::Array(_) => "an array",
            NodeValue::Table(_) => "a table",
            NodeValue::Other(what) => what,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
/// The format of the settings file.
pub(super) enum Format {
    Toml,
    Yaml,
}

/// `prefix.key`, quoting keys that are not bare words.
pub(super) fn join(prefix: &str, key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let key = if bare {
        key.to_owned()
    } else {
        format!("{key:?}")
    };
    if prefix.is_empty() {
        key
    } else {
        format!("{prefix}.{key}")
    }
}

/// Validates the format-independent tree into [`Settings`].
pub(super) struct Parser<'a> {
    /// The file, named in errors.
    pub(super) file: &'a Path,
    /// Its directory: relative paths in the file are resolved against it.
    pub(super) dir: PathBuf,
    pub(super) format: Format,
    /// `[variables]`, once read: `${variables.NAME}` refers to them.
    pub(super) variables: BTreeMap<String, String>,
    /// `[secrets]`, once read: `${secrets.NAME}` and `{ secret = "NAME" }` refer to them.
    pub(super) secrets: BTreeMap<String, Secret>,
}

pub(super) type Res<T> = std::result::Result<T, SettingsError>;

impl<'a> Parser<'a> {
    pub(super) fn new(file: &'a Path, format: Format) -> Self {
        Parser {
            file,
            dir: file.parent().map(Path::to_path_buf).unwrap_or_default(),
            format,
            variables: BTreeMap::new(),
            secrets: BTreeMap::new(),
        }
    }

    pub(super) fn err(&self, line: usize, key: &str, message: impl Into<String>) -> SettingsError {
        SettingsError::invalid(self.file, line, key, message)
    }

    pub(super) fn expected(&self, node: &Node, key: &str, what: &str) -> SettingsError {
        self.err(
            node.line,
            key,
            format!("expected {what}, found {}", node.type_name()),
        )
    }

    pub(super) fn unknown_key(&self, entry: &Entry, prefix: &str, valid: &[&str]) -> SettingsError {
        self.err(
            entry.line,
            &join(prefix, &entry.key),
            format!("unknown key; valid keys: {}", valid.join(", ")),
        )
    }

    pub(super) fn table<'n>(&self, node: &'n Node, key: &str) -> Res<&'n [Entry]> {
        match &node.value {
            NodeValue::Table(entries) => Ok(entries),
            _ => Err(self.expected(node, key, "a table")),
        }
    }

    pub(super) fn string(&self, node: &Node, key: &str) -> Res<String> {
        match &node.value {
            NodeValue::Str(s) => Ok(s.clone()),
            _ => Err(self.expected(node, key, "a string")),
        }
    }

    pub(super) fn non_empty_string(&self, node: &Node, key: &str) -> Res<String> {
        let s = self.string(node, key)?;
        if s.trim().is_empty() {
            return Err(self.err(node.line, key, "must not be empty"));
        }
        Ok(s)
    }

    pub(super) fn boolean(&self, node: &Node, key: &str) -> Res<bool> {
        match node.value {
            NodeValue::Bool(b) => Ok(b),
            _ => Err(self.expected(node, key, "true or false")),
        }
    }

    pub(super) fn count(&self, node: &Node, key: &str) -> Res<u32> {
        match node.value {
            NodeValue::Int(i) => u32::try_from(i).map_err(|_| {
                self.err(
                    node.line,
                    key,
                    format!("{i} is out of range: expected 0 to {}", u32::MAX),
                )
            }),
            _ => Err(self.expected(node, key, "a whole number")),
        }
    }

    pub(super) fn duration(&self, node: &Node, key: &str) -> Res<Duration> {
        let parsed = match &node.value {
            NodeValue::Str(s) => parse_duration(s),
            NodeValue::Int(i) => secs_to_duration(*i as f64)
                .ok_or_else(|| format!("malformed duration {i}: {DURATION_HELP}")),
            NodeValue::Float(f) => secs_to_duration(*f)
                .ok_or_else(|| format!("malformed duration {f}: {DURATION_HELP}")),
            _ => return Err(self.expected(node, key, "a duration such as \"5s\"")),
        };
        parsed.map_err(|message| self.err(node.line, key, message))
    }

    /// A path, relative to the settings file's directory.
    pub(super) fn path(&self, node: &Node, key: &str) -> Res<PathBuf> {
        let s = self.non_empty_string(node, key)?;
        Ok(self.dir.join(s))
    }
}
