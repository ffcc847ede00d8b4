//! Reading `chaos.toml`: TOML text into the tree [`Parser`] validates, with lines from the
//! spans; `[targets]` is kept as TOML for the targets to read.

use super::parse::{Entry, Format, Node, NodeValue, Parser};
use super::{Settings, SettingsError};
use std::path::Path;

impl Settings {
    /// Parses `text`, the TOML settings file at `path` (`path` names the file in errors, and
    /// relative paths in the file are resolved against its directory). Secrets are read (from
    /// the environment and files) and registered with the redactor.
    ///
    /// ```
    /// use chaos_runtime::settings::Settings;
    /// let text = "[secrets]\ndoc_token = { env = \"DOC_EXAMPLE_TOKEN\" }\n";
    /// std::env::set_var("DOC_EXAMPLE_TOKEN", "doc-example-token-value");
    /// let settings = Settings::from_toml_str(text, "chaos.toml".as_ref())?;
    /// assert_eq!(settings.secrets["doc_token"].expose(), "doc-example-token-value");
    /// assert_eq!(chaos_runtime::redact::redact("doc-example-token-value"), "***");
    /// # Ok::<(), chaos_runtime::settings::SettingsError>(())
    /// ```
    pub fn from_toml_str(text: &str, path: &Path) -> Result<Settings, SettingsError> {
        let lines = LineIndex::new(text);
        let doc = toml::de::DeTable::parse(text).map_err(|e| syntax_error(path, &lines, e))?;
        let entries: Vec<Entry> = doc
            .get_ref()
            .iter()
            .map(|(k, v)| Entry {
                key: k.get_ref().to_string(),
                line: lines.line(k.span().start),
                node: toml_node(v, &lines),
            })
            .collect();
        let mut parser = Parser::new(path, Format::Toml);
        let mut settings = parser.settings(&entries)?;
        if entries.iter().any(|e| e.key == "targets") {
            let mut table: toml::Table =
                toml::from_str(text).map_err(|e| syntax_error(path, &lines, e))?;
            if let Some(toml::Value::Table(targets)) = table.remove("targets") {
                settings.targets = targets;
            }
        }
        Ok(settings)
    }
}

/// Byte offsets to 1-based line numbers.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { starts }
    }

    fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset).max(1)
    }
}

fn toml_node(v: &toml::Spanned<toml::de::DeValue<'_>>, lines: &LineIndex) -> Node {
    use toml::de::DeValue;
    let value = match v.get_ref() {
        DeValue::String(s) => NodeValue::Str(s.to_string()),
        DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
            .map_or(NodeValue::Other("an integer out of range"), NodeValue::Int),
        DeValue::Float(f) => f
            .as_str()
            .parse()
            .map_or(NodeValue::Other("a float"), NodeValue::Float),
        DeValue::Boolean(b) => NodeValue::Bool(*b),
        DeValue::Datetime(_) => NodeValue::Other("a datetime"),
        DeValue::Array(a) => NodeValue::Array(a.iter().map(|v| toml_node(v, lines)).collect()),
        DeValue::Table(t) => NodeValue::Table(
            t.iter()
                .map(|(k, v)| Entry {
                    key: k.get_ref().to_string(),
                    line: lines.line(k.span().start),
                    node: toml_node(v, lines),
                })
                .collect(),
        ),
    };
    Node {
        line: lines.line(v.span().start),
        value,
    }
}

fn syntax_error(path: &Path, lines: &LineIndex, e: toml::de::Error) -> SettingsError {
    SettingsError::syntax(
        path,
        e.span().map_or(1, |s| lines.line(s.start)),
        "TOML",
        e.message().to_owned(),
    )
}
