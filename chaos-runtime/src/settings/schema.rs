//! A JSON Schema (draft 2020-12) of `chaos.toml`, for editors and tools, built from the same key
//! tables the parser checks against: a key the parser accepts and the schema does not know is
//! a failing test, not a schema that silently drifts.

use super::journal::JOURNAL_KEYS;
use super::notifications::{CHANNEL_TYPES, HTTP_KEYS, SLACK_KEYS};
use super::report::REPORT_KEYS;
use super::schedule::SCHEDULE_KEYS;
use super::SECTIONS;
use serde_json::{json, Map, Value};

fn duration() -> Value {
    json!({
        "description": "a duration: \"500ms\", \"5s\", \"1.5s\", \"2m\", \"1h\", \"1d\", \"2m30s\", or a number of seconds",
        "oneOf": [
            {"type": "string", "pattern": "^([0-9]+(\\.[0-9]+)?(ms|s|m|h|d))+$|^[0-9]+(\\.[0-9]+)?$"},
            {"type": "number", "minimum": 0}
        ]
    })
}

fn path(what: &str) -> Value {
    json!({"type": "string", "minLength": 1, "description": format!("{what} (relative to the settings file's directory)")})
}

fn path_or_off(what: &str) -> Value {
    json!({"type": "string", "minLength": 1, "description": format!("{what} (relative to the settings file's directory), or \"off\" for none")})
}

/// `{ env = "NAME" }`, `{ file = "PATH" }`, and with `reference` `{ secret = "NAME" }`.
fn secret_source(reference: bool) -> Vec<Value> {
    let mut forms = vec![
        json!({"type": "object", "properties": {"env": {"type": "string", "description": "read from this environment variable"}}, "required": ["env"], "additionalProperties": false}),
        json!({"type": "object", "properties": {"file": {"type": "string", "description": "read from this file"}}, "required": ["file"], "additionalProperties": false}),
    ];
    if reference {
        forms.push(json!({"type": "object", "properties": {"secret": {"type": "string", "description": "a [secrets] entry"}}, "required": ["secret"], "additionalProperties": false}));
    }
    forms
}

fn secretish(what: &str) -> Value {
    let mut forms = vec![json!({"type": "string"})];
    forms.extend(secret_source(true));
    json!({"description": what, "oneOf": forms})
}

/// The schema of one key of a section, `None` for a key this file does not describe.
fn key(section: &str, key: &str) -> Option<Value> {
    Some(match (section, key) {
        ("journal", "dir") => path("where journals go"),
        ("journal", "ledger_dir") => path("where the write-ahead ledger lives"),
        ("journal", "flush_timeout") => duration(),
        ("report", "junit") => path("the JUnit XML file of a harness run"),
        ("report", "html") => path_or_off("the HTML report of a harness run"),
        ("report", "history") => path_or_off("the run history's SQLite file"),
        ("schedule", "window") => json!({
            "type": "string",
            "description": "when experiments without a window of their own may run: \"<days> <from>-<to> [IANA time zone]\", as \"Mon-Fri 09:00-15:00 Europe/Paris\"",
            "examples": ["Mon-Fri 09:00-15:00 Europe/Paris", "daily 22:00-06:00 UTC"]
        }),
        ("schedule", "holidays") => json!({
            "type": "array",
            "description": "dates on which every window is closed",
            "items": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
        }),
        ("channel", "type") => json!({"enum": CHANNEL_TYPES}),
        ("channel", "name") => json!({"type": "string", "minLength": 1}),
        ("channel", "url") => secretish("where the events are POSTed"),
        ("channel", "webhook_url") => secretish("the Slack incoming webhook"),
        ("channel", "headers") => {
            json!({"type": "object", "additionalProperties": secretish("a header value")})
        }
        ("channel", "verify_tls" | "forward_event_payload") => json!({"type": "boolean"}),
        ("channel", "timeout" | "backoff") => duration(),
        ("channel", "retries") => json!({"type": "integer", "minimum": 0}),
        ("channel", "events") => {
            json!({"type": "array", "items": {"type": "string"}, "description": "the events delivered (default: all)"})
        }
        _ => return None,
    })
}

fn table(section: &str, keys: &[&str]) -> Value {
    let mut props = Map::new();
    for k in keys {
        props.insert((*k).to_owned(), key(section, k).unwrap_or(Value::Null));
    }
    json!({"type": "object", "properties": props, "additionalProperties": false})
}

fn channel(ty: &str, keys: &[&str], required: &str) -> Value {
    let mut t = table("channel", keys);
    t["properties"]["type"] = json!({"const": ty});
    t["required"] = json!(["type", required]);
    t
}

/// The JSON Schema of `chaos.toml` (its TOML read as JSON).
///
/// ```
/// let schema = chaos_runtime::settings::json_schema();
/// assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
/// assert!(schema["properties"]["schedule"]["properties"]["window"].is_object());
/// ```
pub fn json_schema() -> Value {
    let mut sections = Map::new();
    for s in SECTIONS {
        let v = match *s {
            "variables" => json!({
                "type": "object",
                "description": "values for cx.var(\"name\"); the environment variable of the same name overrides them",
                "additionalProperties": {"type": ["string", "integer", "number", "boolean"]}
            }),
            "secrets" => {
                let mut forms = vec![
                    json!({"type": "string", "description": "inline (warned: keep secrets out of version control)"}),
                ];
                forms.extend(secret_source(false));
                json!({"type": "object", "description": "values registered with the redactor", "additionalProperties": {"oneOf": forms}})
            }
            "journal" => table("journal", JOURNAL_KEYS),
            "report" => table("report", REPORT_KEYS),
            "schedule" => table("schedule", SCHEDULE_KEYS),
            "notifications" => json!({
                "type": "array",
                "items": {"oneOf": [channel("http", HTTP_KEYS, "url"), channel("slack", SLACK_KEYS, "webhook_url")]}
            }),
            "credentials" => json!({
                "type": "object",
                "additionalProperties": {"oneOf": [
                    {"type": "object", "properties": {"type": {"const": "env-user-password"}, "user_env": {"type": "string", "minLength": 1}, "password_env": {"type": "string", "minLength": 1}}, "required": ["type", "user_env", "password_env"], "additionalProperties": false},
                    {"type": "object", "properties": {"type": {"const": "token-file"}, "path": path("the token file")}, "required": ["type", "path"], "additionalProperties": false},
                    {"type": "object", "properties": {"type": {"const": "k8s-service-account"}, "token_path": path("the service account token")}, "required": ["type"], "additionalProperties": false}
                ]}
            }),
            "targets" => json!({
                "type": "object",
                "description": "each target's own settings ([targets.k8s], [targets.aws], [targets.proxy]...)",
                "additionalProperties": {"type": "object"}
            }),
            other => json!({"description": format!("[{other}]")}),
        };
        sections.insert((*s).to_owned(), v);
    }
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "chaos.toml",
        "description": "The settings of a chaos-harness run",
        "type": "object",
        "properties": sections,
        "additionalProperties": false
    })
}

/// A `chaos.toml` that uses every section, for the catalogue and the documentation; it parses,
/// and it is valid against [`json_schema`].
pub const EXAMPLE: &str = r#"[variables]
service_url = "http://127.0.0.1:8080"

[secrets]
api_token = { env = "API_TOKEN" }

[journal]
dir = "target/chaos/journals"
flush_timeout = "5s"

[report]
junit = "target/chaos/junit.xml"
html = "target/chaos/report.html"

[schedule]
window = "Mon-Fri 09:00-15:00 Europe/Paris"
holidays = ["2026-12-25", "2027-01-01"]

[[notifications]]
type = "slack"
webhook_url = { env = "SLACK_WEBHOOK_URL" }
events = ["run-failed", "run-deviated"]

[credentials.cluster]
type = "k8s-service-account"

[targets.k8s]
namespace = "shop"
allowed_namespaces = ["shop"]
max_count = 2
"#;

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key the parser accepts is described.
    #[test]
    fn every_key_has_a_schema() {
        for (section, keys) in [
            ("journal", JOURNAL_KEYS),
            ("report", REPORT_KEYS),
            ("schedule", SCHEDULE_KEYS),
            ("channel", HTTP_KEYS),
            ("channel", SLACK_KEYS),
        ] {
            for k in keys {
                assert!(key(section, k).is_some(), "[{section}] {k} has no schema");
            }
        }
        let schema = json_schema();
        for s in SECTIONS {
            let v = &schema["properties"][*s];
            assert!(v.get("type").is_some(), "section [{s}] has no schema");
        }
    }
}

#[cfg(test)]
mod example {
    use super::EXAMPLE;
    use crate::settings::Settings;
    use std::path::Path;

    /// The example parses as settings (its secrets read from the environment it names).
    #[test]
    fn the_example_parses() {
        std::env::set_var("API_TOKEN", "example-token");
        std::env::set_var(
            "SLACK_WEBHOOK_URL",
            "https://hooks.slack.com/services/T/B/x",
        );
        let s =
            Settings::from_toml_str(EXAMPLE, Path::new("/repo/chaos.toml")).expect("the example");
        assert_eq!(s.schedule.holidays.len(), 2);
        assert_eq!(s.notifications.len(), 1);
        assert!(s.targets.contains_key("k8s"));
    }
}
