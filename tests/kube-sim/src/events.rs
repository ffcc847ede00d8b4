//! Events are stored in the core/v1 shape and served in the events.k8s.io/v1 shape as well:
//! the conversions and the events.k8s.io create validation.

use serde_json::{Map, Value};

/// (events.k8s.io/v1 field, core/v1 field).
const RENAMES: &[(&str, &str)] = &[
    ("regarding", "involvedObject"),
    ("related", "related"),
    ("note", "message"),
    ("reason", "reason"),
    ("type", "type"),
    ("action", "action"),
    ("eventTime", "eventTime"),
    ("series", "series"),
    ("reportingController", "reportingComponent"),
    ("reportingInstance", "reportingInstance"),
    ("deprecatedSource", "source"),
    ("deprecatedFirstTimestamp", "firstTimestamp"),
    ("deprecatedLastTimestamp", "lastTimestamp"),
    ("deprecatedCount", "count"),
];

fn convert(v: &Value, api_version: &str, to_core: bool) -> Value {
    let mut out = Map::new();
    out.insert("apiVersion".into(), Value::String(api_version.into()));
    out.insert("kind".into(), Value::String("Event".into()));
    out.insert(
        "metadata".into(),
        v.get("metadata")
            .cloned()
            .unwrap_or_else(|| Value::Object(Map::new())),
    );
    for (new, core) in RENAMES {
        let (from, to) = if to_core { (new, core) } else { (core, new) };
        match v.get(*from) {
            Some(Value::Null) | None => {}
            Some(x) => {
                out.insert((*to).to_string(), x.clone());
            }
        }
    }
    Value::Object(out)
}

/// An events.k8s.io/v1 Event in the core/v1 shape.
pub(crate) fn v1_to_core(v: &Value) -> Value {
    convert(v, "v1", true)
}

/// A core/v1 Event in the events.k8s.io/v1 shape.
pub(crate) fn core_to_v1(v: &Value) -> Value {
    convert(v, "events.k8s.io/v1", false)
}

/// The events.k8s.io/v1 create validation (on the core shape): field errors.
pub(crate) fn validate_v1(core: &Value) -> Vec<(String, String)> {
    let mut errs = Vec::new();
    let s = |k: &str| core.get(k).and_then(Value::as_str).unwrap_or_default();
    if core.get("eventTime").is_none_or(Value::is_null) {
        errs.push(("eventTime".into(), "Required value".into()));
    }
    let t = s("type");
    if t != "Normal" && t != "Warning" {
        errs.push((
            "type".into(),
            format!("Unsupported value: \"{t}\": supported values: \"Normal\", \"Warning\""),
        ));
    }
    for (new, core_name) in [
        ("reportingController", "reportingComponent"),
        ("reportingInstance", "reportingInstance"),
        ("action", "action"),
        ("reason", "reason"),
    ] {
        let v = s(core_name);
        if v.is_empty() {
            errs.push((new.into(), "Required value".into()));
        } else if v.len() > 128 {
            errs.push((
                new.into(),
                "Too long: may not be more than 128 bytes".into(),
            ));
        }
    }
    if s("message").len() > 1024 {
        errs.push((
            "note".into(),
            "Too long: may not be more than 1024 bytes".into(),
        ));
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn conversions_round_trip() {
        let v1 = json!({
            "apiVersion": "events.k8s.io/v1", "kind": "Event",
            "metadata": {"name": "e1", "namespace": "demo"},
            "regarding": {"kind": "Pod", "name": "web-1", "namespace": "demo"},
            "note": "killed by chaos", "reason": "ChaosKill", "type": "Warning", "action": "Kill",
            "eventTime": "2024-01-01T00:00:00.000000Z",
            "reportingController": "chaos", "reportingInstance": "chaos-1",
            "deprecatedCount": 2
        });
        let core = v1_to_core(&v1);
        assert_eq!(core["apiVersion"], "v1");
        assert_eq!(core["involvedObject"]["name"], "web-1");
        assert_eq!(core["message"], "killed by chaos");
        assert_eq!(core["reportingComponent"], "chaos");
        assert_eq!(core["count"], 2);
        assert!(validate_v1(&core).is_empty());
        assert_eq!(core_to_v1(&core), v1);
        let errs = validate_v1(&v1_to_core(&json!({"type": "Odd"})));
        let fields: Vec<&str> = errs.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(
            fields,
            [
                "eventTime",
                "type",
                "reportingController",
                "reportingInstance",
                "action",
                "reason"
            ]
        );
    }
}
