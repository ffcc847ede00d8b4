//! The journal as insta snapshots show it: run-specific values replaced by placeholders.

use serde_json::{json, Value};

/// The journal with run-specific values replaced by placeholders, for snapshot review:
/// timestamps (`start`, `end`, `ts`) become `[timestamp]`, `duration` becomes `[duration]`,
/// `node` `[host]`, `platform` `[platform]`, `seed` `[seed]`, `generator_version` `[version]`,
/// HTTP latencies (`latency_ms`) `[latency]` and `elapsed_ms` `[elapsed]`, at any depth; the
/// notification deliveries (`notifications`) are left out.
///
/// ```
/// let v = serde_json::json!({"start": "2026-01-01T00:00:00+00:00", "run": [{"duration": 0.1, "output": 3}]});
/// let r = chaos_runtime::journal::redact_for_snapshot(v);
/// assert_eq!(r["start"], "[timestamp]");
/// assert_eq!(r["run"][0]["duration"], "[duration]");
/// assert_eq!(r["run"][0]["output"], 3);
/// ```
pub fn redact_for_snapshot(mut v: Value) -> Value {
    // Deliveries depend on the receivers, not on the experiment: they are left out.
    if let Value::Object(m) = &mut v {
        m.remove("notifications");
    }
    fn walk(v: &mut Value) {
        match v {
            Value::Object(m) => {
                for (k, val) in m.iter_mut() {
                    let placeholder = match k.as_str() {
                        "start" | "end" | "ts" => Some("[timestamp]"),
                        "duration" if val.is_number() || val.is_null() => Some("[duration]"),
                        "node" => Some("[host]"),
                        "platform" => Some("[platform]"),
                        "seed" => Some("[seed]"),
                        "generator_version" => Some("[version]"),
                        "latency_ms" => Some("[latency]"),
                        "elapsed_ms" => Some("[elapsed]"),
                        _ => None,
                    };
                    match placeholder {
                        Some(p) if !val.is_object() && !val.is_array() => *val = json!(p),
                        _ => walk(val),
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    v
}
