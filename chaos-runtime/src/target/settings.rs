//! A target's `[targets.NAME]` section of the settings file, read with types: each key is
//! checked for its type, and a key the target does not know is an error that lists the ones it
//! does.

use crate::context::Context;
use crate::target::TargetContext;
use std::collections::BTreeMap;

/// A `[targets.NAME]` section was wrong: what, and where.
///
/// ```
/// use chaos_runtime::target::TargetSettings;
/// use chaos_runtime::Context;
/// let mut targets = toml::Table::new();
/// targets.insert("demo".into(), toml::Value::Table(toml::toml! { colour = "red" }));
/// let cx = Context::builder().target_settings(targets).build();
/// let err = TargetSettings::read(&cx, "demo", &["size", "dry_run"]).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "settings [targets.demo]: unknown key `colour`; expected size or dry_run"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("settings [targets.{target}]: {message}")]
pub struct TargetSettingsError {
    /// The target (`aws`, `k8s`).
    pub target: String,
    /// What is wrong.
    pub message: String,
}

/// One target's section of the settings file, checked against the keys it knows.
#[derive(Clone, Debug)]
pub struct TargetSettings {
    target: &'static str,
    table: toml::Table,
}

impl TargetSettings {
    /// Reads `[targets.<target>]` from the run's settings (an empty section when there is
    /// none). It must be a table whose keys are all among `known`.
    pub fn read(
        cx: &Context,
        target: &'static str,
        known: &[&str],
    ) -> Result<TargetSettings, TargetSettingsError> {
        let table = match cx.target_settings(target) {
            None => toml::Table::new(),
            Some(toml::Value::Table(t)) => t.clone(),
            Some(_) => {
                return Err(TargetSettingsError {
                    target: target.to_owned(),
                    message: "must be a table".into(),
                })
            }
        };
        let s = TargetSettings { target, table };
        if let Some(unknown) = s.table.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(s.error(format!(
                "unknown key `{unknown}`; expected {}",
                one_of(known)
            )));
        }
        Ok(s)
    }

    fn error(&self, message: String) -> TargetSettingsError {
        TargetSettingsError {
            target: self.target.to_owned(),
            message,
        }
    }

    fn typed<T>(
        &self,
        key: &str,
        what: &str,
        get: impl FnOnce(&toml::Value) -> Option<T>,
    ) -> Result<Option<T>, TargetSettingsError> {
        match self.table.get(key) {
            None => Ok(None),
            Some(v) => get(v)
                .map(Some)
                .ok_or_else(|| self.error(format!("`{key}` must be {what}"))),
        }
    }

    /// A string value.
    pub fn string(&self, key: &str) -> Result<Option<String>, TargetSettingsError> {
        self.typed(key, "a string", |v| v.as_str().map(str::to_owned))
    }

    /// A duration: `"90s"`, `"2m"`, `"1h"`, ... or a number of seconds.
    pub fn duration(&self, key: &str) -> Result<Option<std::time::Duration>, TargetSettingsError> {
        match self.table.get(key) {
            None => Ok(None),
            Some(toml::Value::Integer(n)) if *n >= 0 => {
                Ok(Some(std::time::Duration::from_secs(*n as u64)))
            }
            Some(toml::Value::Float(f)) if *f >= 0.0 && f.is_finite() => {
                Ok(Some(std::time::Duration::from_secs_f64(*f)))
            }
            Some(toml::Value::String(s)) => crate::settings::parse_duration(s)
                .map(Some)
                .map_err(|e| self.error(format!("`{key}`: {e}"))),
            Some(_) => Err(self.error(format!(
                "`{key}` must be a duration: {}",
                crate::settings::DURATION_HELP
            ))),
        }
    }

    /// `true` or `false`.
    pub fn bool(&self, key: &str) -> Result<Option<bool>, TargetSettingsError> {
        self.typed(key, "true or false", toml::Value::as_bool)
    }

    /// A non-negative integer.
    pub fn count(&self, key: &str) -> Result<Option<usize>, TargetSettingsError> {
        self.typed(key, "a non-negative integer", |v| {
            v.as_integer().and_then(|n| usize::try_from(n).ok())
        })
    }

    /// An integer in `range`, described as `what` in the error.
    pub fn integer_in(
        &self,
        key: &str,
        range: std::ops::RangeInclusive<i64>,
        what: &str,
    ) -> Result<Option<i64>, TargetSettingsError> {
        self.typed(key, what, |v| v.as_integer().filter(|n| range.contains(n)))
    }

    /// A number from 0 to 100 (an integer or a float).
    pub fn percent(&self, key: &str) -> Result<Option<f64>, TargetSettingsError> {
        self.typed(key, "a number from 0 to 100", |v| {
            v.as_float()
                .or_else(|| v.as_integer().map(|i| i as f64))
                .filter(|p| (0.0..=100.0).contains(p))
        })
    }

    /// A list of strings, described as `what` in the error.
    pub fn strings(
        &self,
        key: &str,
        what: &str,
    ) -> Result<Option<Vec<String>>, TargetSettingsError> {
        self.typed(key, what, |v| {
            v.as_array()?
                .iter()
                .map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
    }

    /// A table of string values, described as `what` in the error.
    pub fn string_map(
        &self,
        key: &str,
        what: &str,
    ) -> Result<Option<BTreeMap<String, String>>, TargetSettingsError> {
        self.typed(key, what, |v| {
            v.as_table()?
                .iter()
                .map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
    }

    /// Whether the target runs dry: its `dry_run` key, or `CHAOS_DRY_RUN=1` (or `true`).
    pub fn dry_run(&self) -> Result<bool, TargetSettingsError> {
        Ok(self.bool("dry_run")?.unwrap_or(false) || crate::env::dry_run())
    }

    /// An error about `key` of this section.
    pub fn invalid(&self, key: &str, what: &str) -> TargetSettingsError {
        self.error(format!("`{key}` must be {what}"))
    }
}

/// `a, b or c`.
fn one_of(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cx(section: toml::Value) -> Context {
        let mut targets = toml::Table::new();
        targets.insert("t".into(), section);
        Context::builder().target_settings(targets).build()
    }

    #[test]
    fn typed_values_and_their_errors() {
        let cx = cx(toml::Value::Table(toml::toml! {
            name = "x"
            n = 3
            p = 12.5
            list = ["a", "b"]
            tags = { team = "sre" }
            bad = -1
        }));
        let keys = ["name", "n", "p", "list", "tags", "bad", "missing"];
        let s = TargetSettings::read(&cx, "t", &keys).unwrap();
        assert_eq!(s.string("name").unwrap().as_deref(), Some("x"));
        assert_eq!(s.count("n").unwrap(), Some(3));
        assert_eq!(s.percent("p").unwrap(), Some(12.5));
        assert_eq!(s.percent("n").unwrap(), Some(3.0));
        assert_eq!(s.strings("list", "a list").unwrap().unwrap(), ["a", "b"]);
        assert_eq!(
            s.string_map("tags", "tags").unwrap().unwrap()["team"],
            "sre"
        );
        assert_eq!(s.string("missing").unwrap(), None);
        assert_eq!(
            s.count("bad").unwrap_err().to_string(),
            "settings [targets.t]: `bad` must be a non-negative integer"
        );
        assert_eq!(
            s.bool("name").unwrap_err().to_string(),
            "settings [targets.t]: `name` must be true or false"
        );
    }

    #[test]
    fn a_section_that_is_not_a_table_is_an_error() {
        let err = TargetSettings::read(&cx(toml::Value::from(3)), "t", &[]).unwrap_err();
        assert_eq!(err.to_string(), "settings [targets.t]: must be a table");
    }

    #[test]
    fn expected_keys_read_as_a_sentence() {
        assert_eq!(one_of(&["a"]), "a");
        assert_eq!(one_of(&["a", "b", "c"]), "a, b or c");
    }
}
