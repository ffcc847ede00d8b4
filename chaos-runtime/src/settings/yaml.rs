//! Reading Chaos Toolkit's `settings.yaml`: its `notifications`, into the tree [`Parser`]
//! validates. `serde_norway` keeps no positions, so [`YamlLocator`] finds the lines.

use super::parse::{Entry, Format, Node, NodeValue, Parser};
use super::{Settings, SettingsError};
use std::path::Path;

impl Settings {
    /// Parses `text`, Chaos Toolkit's `settings.yaml` at `path`: its `notifications` list
    /// (`type: http` entries; `type: plugin` entries are Python modules, skipped with a
    /// warning). Other top-level keys are ignored.
    ///
    /// ```
    /// use chaos_runtime::settings::{ChannelSettings, Settings};
    /// let text = "notifications:\n  - type: http\n    url: http://127.0.0.1:9000/events\n";
    /// let settings = Settings::from_yaml_str(text, "settings.yaml".as_ref())?;
    /// let ChannelSettings::Http(http) = &settings.notifications[0] else { unreachable!() };
    /// assert_eq!(http.url.expose(), "http://127.0.0.1:9000/events");
    /// # Ok::<(), chaos_runtime::settings::SettingsError>(())
    /// ```
    pub fn from_yaml_str(text: &str, path: &Path) -> Result<Settings, SettingsError> {
        let value: serde_norway::Value = serde_norway::from_str(text).map_err(|e| {
            SettingsError::syntax(
                path,
                e.location().map_or(1, |l| l.line()),
                "YAML",
                e.to_string(),
            )
        })?;
        let mut parser = Parser::new(path, Format::Yaml);
        let mapping = match value {
            serde_norway::Value::Null => serde_norway::Mapping::new(),
            serde_norway::Value::Mapping(m) => m,
            other => {
                return Err(parser.err(
                    1,
                    "(top level)",
                    format!("expected a mapping, found {}", yaml_type(&other)),
                ))
            }
        };
        let locator = YamlLocator::new(text);
        let mut entries = Vec::new();
        if let Some(notifications) = mapping.get("notifications") {
            let line = locator.find_top_key("notifications").unwrap_or(0);
            let inline = locator.flow_after_key(line, "notifications");
            let mut cursor = line + 1;
            entries.push(Entry {
                key: "notifications".to_owned(),
                line: line + 1,
                node: locator.node(notifications, line, inline, &mut cursor),
            });
        }
        parser.settings(&entries)
    }
}

fn yaml_type(v: &serde_norway::Value) -> &'static str {
    use serde_norway::Value;
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a sequence",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

/// Finds the lines of YAML keys and sequence items, for messages. `serde_norway` keeps no
/// positions, so this follows the block-style text in document order; flow collections
/// (`[a, b]`, `{k: v}`) take the line they start on. Lines here are 0-based.
struct YamlLocator<'a> {
    lines: Vec<&'a str>,
}

impl<'a> YamlLocator<'a> {
    fn new(text: &'a str) -> Self {
        YamlLocator {
            lines: text.lines().collect(),
        }
    }

    /// The line's content without its indentation and sequence markers (`- `).
    fn content(line: &str) -> &str {
        let mut s = line.trim_start();
        while let Some(rest) = s.strip_prefix('-') {
            if rest.is_empty() || rest.starts_with([' ', '\t']) {
                s = rest.trim_start();
            } else {
                break;
            }
        }
        s
    }

    /// What follows `key:` in `content`, if `content` starts with that key.
    fn after_key<'s>(content: &'s str, key: &str) -> Option<&'s str> {
        [key.to_owned(), format!("\"{key}\""), format!("'{key}'")]
            .iter()
            .find_map(|k| content.strip_prefix(k.as_str()))
            .and_then(|rest| rest.trim_start().strip_prefix(':'))
            .filter(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
    }

    fn find_top_key(&self, key: &str) -> Option<usize> {
        self.lines
            .iter()
            .position(|l| !l.starts_with([' ', '\t']) && Self::after_key(l, key).is_some())
    }

    fn find_key(&self, from: usize, key: &str) -> Option<usize> {
        (from..self.lines.len())
            .find(|&i| Self::after_key(Self::content(self.lines[i]), key).is_some())
    }

    fn find_item(&self, from: usize) -> Option<usize> {
        (from..self.lines.len()).find(|&i| {
            let t = self.lines[i].trim_start();
            t.strip_prefix('-')
                .is_some_and(|r| r.is_empty() || r.starts_with([' ', '\t']))
        })
    }

    fn is_flow(rest: &str) -> bool {
        rest.trim_start().starts_with(['[', '{'])
    }

    fn flow_after_key(&self, line: usize, key: &str) -> bool {
        self.lines
            .get(line)
            .and_then(|l| Self::after_key(Self::content(l), key))
            .is_some_and(Self::is_flow)
    }

    fn flow_item(&self, line: usize) -> bool {
        self.lines
            .get(line)
            .is_some_and(|l| Self::is_flow(Self::content(l)))
    }

    /// Converts `v`, which starts on `line`; `cursor` is where the search for its keys and
    /// items begins, and moves forward.
    fn node(&self, v: &serde_norway::Value, line: usize, inline: bool, cursor: &mut usize) -> Node {
        use serde_norway::Value;
        let value = match v {
            Value::Null => NodeValue::Other("null"),
            Value::Bool(b) => NodeValue::Bool(*b),
            Value::Number(n) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => NodeValue::Int(i),
                (None, Some(f)) => NodeValue::Float(f),
                (None, None) => NodeValue::Other("a number out of range"),
            },
            Value::String(s) => NodeValue::Str(s.clone()),
            Value::Tagged(_) => NodeValue::Other("a tagged value"),
            Value::Sequence(items) => {
                let mut nodes = Vec::with_capacity(items.len());
                for item in items {
                    let item_line = if inline {
                        line
                    } else {
                        self.find_item(*cursor).unwrap_or(line)
                    };
                    let item_inline = inline || self.flow_item(item_line);
                    *cursor = (*cursor).max(item_line);
                    nodes.push(self.node(item, item_line, item_inline, cursor));
                    *cursor = (*cursor).max(item_line + 1);
                }
                NodeValue::Array(nodes)
            }
            Value::Mapping(map) => {
                let mut entries = Vec::with_capacity(map.len());
                for (k, val) in map {
                    let key = match k {
                        Value::String(s) => s.clone(),
                        Value::Bool(b) => b.to_string(),
                        Value::Number(n) => n.to_string(),
                        other => format!("<{}>", yaml_type(other)),
                    };
                    let key_line = if inline {
                        line
                    } else {
                        self.find_key(*cursor, &key).unwrap_or(line)
                    };
                    let child_inline = inline || self.flow_after_key(key_line, &key);
                    *cursor = (*cursor).max(key_line + 1);
                    let node = self.node(val, key_line, child_inline, cursor);
                    entries.push(Entry {
                        key,
                        line: key_line + 1,
                        node,
                    });
                }
                NodeValue::Table(entries)
            }
        };
        Node {
            line: line + 1,
            value,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_lines_follow_block_and_flow_style() {
        let text = "\
controls:
  x:
    type: http
notifications:
  - type: http
    url: http://a.test/
    events:
      - run-started
      - run-failed
  - {type: http, url: 'http://b.test/', events: [run-failed]}
  -
    type: plugin
    module: chaostoolkit_slack.notifier
";
        let value: serde_norway::Value = serde_norway::from_str(text).unwrap();
        let loc = YamlLocator::new(text);
        let line = loc.find_top_key("notifications").unwrap();
        assert_eq!(line, 3);
        let mut cursor = line + 1;
        let node = loc.node(&value["notifications"], line, false, &mut cursor);
        let NodeValue::Array(items) = &node.value else {
            panic!()
        };
        let lines = |n: &Node| match &n.value {
            NodeValue::Table(es) => es.iter().map(|e| (e.key.clone(), e.line)).collect(),
            _ => vec![],
        };
        assert_eq!(items[0].line, 5);
        assert_eq!(
            lines(&items[0]),
            [("type".into(), 5), ("url".into(), 6), ("events".into(), 7)]
        );
        let NodeValue::Table(first) = &items[0].value else {
            panic!()
        };
        let NodeValue::Array(events) = &first[2].node.value else {
            panic!()
        };
        assert_eq!((events[0].line, events[1].line), (8, 9));
        assert_eq!(items[1].line, 10);
        assert_eq!(
            lines(&items[1]),
            [
                ("type".into(), 10),
                ("url".into(), 10),
                ("events".into(), 10)
            ]
        );
        assert_eq!(items[2].line, 11);
        assert_eq!(
            lines(&items[2]),
            [("type".into(), 12), ("module".into(), 13)]
        );
    }
}
