//! `${name}` and `$name` in Chaos Toolkit experiments, replaced as chaoslib does it (Python's
//! `string.Template.safe_substitute`): a lone `"${name}"` keeps the value's type, anything else
//! becomes text; `$$` is a `$`; a name with no value stays as written. Mapping keys are never
//! substituted.

use serde_json::Value;
use std::collections::HashMap;

/// The values placeholders take: the configuration's, then the secrets' (all scopes; the
/// configuration wins, then the first scope).
#[derive(Clone, Debug, Default)]
pub(crate) struct Values(pub(crate) HashMap<String, Value>);

impl Values {
    /// Replaces the placeholders everywhere in `v` (strings in lists and mapping values too).
    pub(crate) fn apply(&self, v: &Value) -> Value {
        match v {
            Value::String(s) => self.string(s),
            Value::Array(items) => Value::Array(items.iter().map(|i| self.apply(i)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.apply(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// Replaces the placeholders of one string.
    pub(crate) fn string(&self, s: &str) -> Value {
        if let Some(name) = s.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
            if is_identifier(name) {
                if let Some(v) = self.0.get(name) {
                    return v.clone();
                }
            }
        }
        Value::String(self.text(s))
    }

    /// `s` with each known placeholder replaced by the value's text.
    pub(crate) fn text(&self, s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(i) = rest.find('$') {
            out.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            if let Some(tail) = after.strip_prefix('$') {
                out.push('$');
                rest = tail;
                continue;
            }
            let (name, len) = if let Some(braced) = after.strip_prefix('{') {
                match braced.find('}') {
                    Some(end) if is_identifier(&braced[..end]) => (&braced[..end], end + 2),
                    _ => ("", 0),
                }
            } else {
                let end = after
                    .char_indices()
                    .find(|(j, c)| {
                        !(c.is_ascii_alphanumeric() || *c == '_') || (*j == 0 && c.is_ascii_digit())
                    })
                    .map_or(after.len(), |(j, _)| j);
                (&after[..end], end)
            };
            match (name.is_empty(), self.0.get(name)) {
                (false, Some(v)) => {
                    out.push_str(&python_str(v));
                    rest = &after[len..];
                }
                _ => {
                    out.push('$');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }
}

/// Python's identifier pattern for templates: `[_a-zA-Z][_a-zA-Z0-9]*`.
fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A value as Python's `str()` writes it: `True`, `None`, `1.5`, `[1, 2]`, `{'a': 1}`.
pub(crate) fn python_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => python_repr(other),
    }
}

fn python_repr(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(f)) if f.fract() == 0.0 && f.abs() < 1e16 => format!("{f:.1}"),
            _ => n.to_string(),
        },
        Value::String(s) => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(python_repr).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("'{k}': {}", python_repr(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn values() -> Values {
        let mut m = HashMap::new();
        for (k, v) in [
            ("port", json!(8080)),
            ("flag", json!(true)),
            ("d", json!({"a": 1})),
            ("n", json!(null)),
            ("l", json!([1, 2])),
            ("tok", json!("T")),
            ("half", json!(1.5)),
        ] {
            m.insert(k.to_owned(), v);
        }
        Values(m)
    }

    #[test]
    fn substitutes_as_pythons_string_template_does() {
        let v = values();
        for (input, want) in [
            ("${port}", json!(8080)),
            ("$port", json!("8080")),
            ("port ${port}", json!("port 8080")),
            ("${flag}", json!(true)),
            ("x${d}", json!("x{'a': 1}")),
            ("${n}", json!(null)),
            ("${missing}", json!("${missing}")),
            ("$missing", json!("$missing")),
            ("$$", json!("$")),
            ("$${port}", json!("${port}")),
            ("${my-key}", json!("${my-key}")),
            ("${Port}", json!("${Port}")),
            ("${l}", json!([1, 2])),
            ("$port$flag", json!("8080True")),
            ("${tok}", json!("T")),
            ("h=${half}/$1 $ end$", json!("h=1.5/$1 $ end$")),
            ("x$flag.y", json!("xTrue.y")),
        ] {
            assert_eq!(v.string(input), want, "{input}");
        }
        assert_eq!(
            v.apply(&json!({"${port}": ["${port}", {"k": "$tok"}], "n": 3})),
            json!({"${port}": [8080, {"k": "T"}], "n": 3})
        );
    }
}
