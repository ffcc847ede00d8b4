//! `[variables]` and `[secrets]`, and [`SettingValue`]: a setting that may be secret, written
//! as `{ env = .. }`, `{ file = .. }`, `{ secret = .. }` or a string interpolating
//! `${secrets.NAME}` and `${variables.NAME}`.

use super::parse::{join, Node, NodeValue, Parser, Res};
use crate::redact::Secret;
use std::fmt;

/// A value of a setting that may be secret: a URL, a header value. It is secret when it
/// came from the environment, a file, `[secrets]`, or interpolates `${secrets.NAME}`; a secret
/// one is registered with the [redactor](crate::redact) and shows as `***`.
///
/// ```
/// use chaos_runtime::redact::Secret;
/// use chaos_runtime::settings::SettingValue;
/// let plain = SettingValue::Plain("http://127.0.0.1:9000".into());
/// let secret = SettingValue::Secret(Secret::new("Bearer doc-example-token"));
/// assert_eq!((plain.expose(), plain.is_secret()), ("http://127.0.0.1:9000", false));
/// assert_eq!(secret.expose(), "Bearer doc-example-token");
/// assert_eq!(format!("{plain} {secret} {secret:?}"), "http://127.0.0.1:9000 *** ***");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub enum SettingValue {
    /// Written in the settings file.
    Plain(String),
    /// Secret.
    Secret(Secret),
}

impl SettingValue {
    /// The value. Whatever it is written into is redacted on the way out of the run.
    pub fn expose(&self) -> &str {
        match self {
            SettingValue::Plain(s) => s,
            SettingValue::Secret(s) => s.expose(),
        }
    }

    /// Whether the value is secret.
    pub fn is_secret(&self) -> bool {
        matches!(self, SettingValue::Secret(_))
    }
}

impl fmt::Display for SettingValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SettingValue::Plain(s) => f.write_str(s),
            SettingValue::Secret(s) => fmt::Display::fmt(s, f),
        }
    }
}

impl fmt::Debug for SettingValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SettingValue::Plain(s) => fmt::Debug::fmt(s, f),
            SettingValue::Secret(s) => fmt::Debug::fmt(s, f),
        }
    }
}

impl Parser<'_> {
    pub(super) fn variables(&mut self, node: &Node) -> Res<()> {
        for e in self.table(node, "variables")? {
            let key = join("variables", &e.key);
            let value = match &e.node.value {
                NodeValue::Str(s) => s.clone(),
                NodeValue::Int(i) => i.to_string(),
                NodeValue::Float(f) => f.to_string(),
                NodeValue::Bool(b) => b.to_string(),
                _ => return Err(self.expected(&e.node, &key, "a string")),
            };
            self.variables.insert(e.key.clone(), value);
        }
        Ok(())
    }

    pub(super) fn secrets(&mut self, node: &Node) -> Res<()> {
        for e in self.table(node, "secrets")? {
            let key = join("secrets", &e.key);
            let secret = match &e.node.value {
                NodeValue::Str(s) => {
                    tracing::warn!(
                        "{}:{}: secret `{}` is written inline in the settings file; read it from \
                         the environment (`{{ env = \"NAME\" }}`) or a file (`{{ file = \"PATH\" }}`) \
                         to keep it out of version control",
                        self.file.display(),
                        e.line,
                        e.key
                    );
                    Secret::new(s.clone())
                }
                NodeValue::Table(_) => self.secret_source(&e.node, &key, false)?,
                _ => {
                    return Err(self.expected(
                        &e.node,
                        &key,
                        "{ env = \"NAME\" }, { file = \"PATH\" } or a string",
                    ))
                }
            };
            self.secrets.insert(e.key.clone(), secret);
        }
        Ok(())
    }

    /// `{ env = "NAME" }`, `{ file = "PATH" }`, or (when `allow_ref`) `{ secret = "NAME" }`.
    fn secret_source(&self, node: &Node, key: &str, allow_ref: bool) -> Res<Secret> {
        let valid: &[&str] = if allow_ref {
            &["env", "file", "secret"]
        } else {
            &["env", "file"]
        };
        let entries = self.table(node, key)?;
        if let Some(e) = entries.iter().find(|e| !valid.contains(&e.key.as_str())) {
            return Err(self.unknown_key(e, key, valid));
        }
        let [e] = entries else {
            return Err(self.err(
                node.line,
                key,
                format!("expected exactly one of {}", valid.join(", ")),
            ));
        };
        let sub = join(key, &e.key);
        match e.key.as_str() {
            "env" => {
                let var = self.non_empty_string(&e.node, &sub)?;
                match std::env::var(&var) {
                    Ok(value) => Ok(Secret::new(value)),
                    Err(std::env::VarError::NotPresent) => Err(self.err(
                        e.node.line,
                        key,
                        format!("environment variable `{var}` is not set"),
                    )),
                    Err(std::env::VarError::NotUnicode(_)) => Err(self.err(
                        e.node.line,
                        key,
                        format!("environment variable `{var}` is not valid UTF-8"),
                    )),
                }
            }
            "file" => {
                let path = self.path(&e.node, &sub)?;
                let text = std::fs::read_to_string(&path).map_err(|err| {
                    self.err(
                        e.node.line,
                        key,
                        format!("cannot read secret file `{}`: {err}", path.display()),
                    )
                })?;
                Ok(Secret::new(text.trim_end_matches(['\n', '\r'])))
            }
            _ => {
                let name = self.string(&e.node, &sub)?;
                self.secrets
                    .get(&name)
                    .cloned()
                    .ok_or_else(|| self.err(e.node.line, key, self.no_such_secret(&name)))
            }
        }
    }

    fn no_such_secret(&self, name: &str) -> String {
        let defined: Vec<&str> = self.secrets.keys().map(String::as_str).collect();
        if defined.is_empty() {
            format!("no secret `{name}`: [secrets] defines none")
        } else {
            format!(
                "no secret `{name}` in [secrets]; defined: {}",
                defined.join(", ")
            )
        }
    }

    /// A value that may be secret: a string (interpolating `${secrets.NAME}` and
    /// `${variables.NAME}`), or `{ env = .. }` / `{ file = .. }` / `{ secret = .. }`.
    pub(super) fn value(&self, node: &Node, key: &str) -> Res<SettingValue> {
        match &node.value {
            NodeValue::Str(s) => self.interpolate(s, node.line, key),
            NodeValue::Table(_) => Ok(SettingValue::Secret(self.secret_source(node, key, true)?)),
            _ => Err(self.expected(
                node,
                key,
                "a string, { env = \"NAME\" }, { file = \"PATH\" } or { secret = \"NAME\" }",
            )),
        }
    }

    fn interpolate(&self, text: &str, line: usize, key: &str) -> Res<SettingValue> {
        let mut out = String::with_capacity(text.len());
        let mut secret = false;
        let mut rest = text;
        while let Some(i) = rest.find('$') {
            out.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            if let Some(r) = after.strip_prefix("${") {
                // `$${` is a literal `${`.
                out.push_str("${");
                rest = r;
            } else if let Some(r) = after.strip_prefix('{') {
                let Some(end) = r.find('}') else {
                    return Err(self.err(line, key, "unclosed `${`: write `${secrets.NAME}` or `${variables.NAME}` (`$${` for a literal `${`)"));
                };
                let reference = &r[..end];
                match reference.split_once('.') {
                    Some(("secrets", name)) => {
                        let value = self
                            .secrets
                            .get(name)
                            .ok_or_else(|| self.err(line, key, self.no_such_secret(name)))?;
                        out.push_str(value.expose());
                        secret = true;
                    }
                    Some(("variables", name)) => {
                        let value = std::env::var(name)
                            .ok()
                            .or_else(|| self.variables.get(name).cloned())
                            .ok_or_else(|| {
                                self.err(
                                    line,
                                    key,
                                    format!(
                                        "variable `{name}` is neither in [variables] nor set in \
                                         the environment"
                                    ),
                                )
                            })?;
                        out.push_str(&value);
                    }
                    _ => {
                        return Err(self.err(
                            line,
                            key,
                            format!(
                                "unknown reference `${{{reference}}}`: write `${{secrets.NAME}}` \
                                 or `${{variables.NAME}}`"
                            ),
                        ))
                    }
                }
                rest = &r[end + 1..];
            } else {
                out.push('$');
                rest = after;
            }
        }
        out.push_str(rest);
        Ok(if secret {
            SettingValue::Secret(Secret::new(out))
        } else {
            SettingValue::Plain(out)
        })
    }
}
