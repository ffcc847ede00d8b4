//! Chaos Toolkit's tolerances, evaluated as chaoslib's `within_tolerance` does, with one
//! difference: a tolerance that cannot be evaluated against the value (a regex on a mapping, a
//! range on text that is no number, values that do not compare) is an error, which fails the
//! probe, rather than a crash of the run or a silent miss.
//!
//! - `true`/`false`, a string: equality (Python's: `1 == 1.0 == true`);
//! - an integer: equality, with the value's `status` when it is a mapping that has one (the
//!   outputs of `http` and `process`);
//! - a list: membership of `status` when the value is a mapping that has one; otherwise a
//!   two-element list is an inclusive range, any other list a membership test;
//! - `{type: regex, pattern, target}`, `{type: range, range: [lo, hi], target}`,
//!   `{type: jsonpath, path, expect, count, target}`; `{type: probe, ...}` runs a probe with the
//!   value, which the caller does ([`Verdict::Probe`]).

use super::jsonpath;
use serde_json::Value;
use std::cmp::Ordering;

/// What a tolerance says of a value.
#[derive(Debug, PartialEq)]
pub(crate) enum Verdict {
    /// Within it, or not.
    Met(bool),
    /// A probe tolerance: run this activity (its `provider.arguments.value` set to the value);
    /// the value is within the tolerance when the probe succeeds with a truthy result.
    Probe(Value),
}

/// Evaluates `tolerance` (its placeholders already replaced) against `value`.
pub(crate) fn within(tolerance: &Value, value: &Value) -> Result<Verdict, String> {
    let status = value.as_object().and_then(|m| m.get("status"));
    let met = match tolerance {
        Value::Bool(_) | Value::String(_) => py_eq(value, tolerance),
        Value::Number(n) if n.is_i64() || n.is_u64() => py_eq(status.unwrap_or(value), tolerance),
        Value::Array(items) => match (status, items.len()) {
            (Some(s), _) => items.iter().any(|i| py_eq(s, i)),
            (None, 2) => {
                let lo = py_cmp(&items[0], value)?;
                let hi = py_cmp(value, &items[1])?;
                lo != Ordering::Greater && hi != Ordering::Greater
            }
            (None, _) => items.iter().any(|i| py_eq(value, i)),
        },
        Value::Object(t) => return object(t, value),
        other => {
            return Err(format!(
                "a tolerance of {other} cannot be evaluated: an integer, a string, a boolean, a list or a mapping with a `type`"
            ))
        }
    };
    Ok(Verdict::Met(met))
}

fn object(t: &serde_json::Map<String, Value>, value: &Value) -> Result<Verdict, String> {
    let target = |value: &Value| -> Value {
        match t
            .get("target")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        {
            Some(key) => value
                .as_object()
                .and_then(|m| m.get(key))
                .cloned()
                .unwrap_or_else(|| value.clone()),
            None => value.clone(),
        }
    };
    match t.get("type").and_then(Value::as_str) {
        Some("probe") => {
            let mut probe = Value::Object(t.clone());
            let args = probe
                .pointer_mut("/provider/arguments")
                .filter(|a| a.is_object());
            match args {
                Some(Value::Object(a)) => {
                    a.insert("value".into(), value.clone());
                }
                _ => {
                    if let Some(Value::Object(p)) = probe.get_mut("provider") {
                        p.insert("arguments".into(), serde_json::json!({ "value": value }));
                    }
                }
            }
            Ok(Verdict::Probe(probe))
        }
        Some("regex") => {
            let pattern = t.get("pattern").and_then(Value::as_str).unwrap_or_default();
            let re = regex::Regex::new(pattern).map_err(|e| {
                format!("the regex tolerance's pattern {pattern:?} is not valid: {e}")
            })?;
            match target(value) {
                Value::String(s) => Ok(Verdict::Met(re.is_match(&s))),
                other => Err(format!(
                    "the regex tolerance needs text, and the value{} is {}: name the text with `target` (e.g. `stdout`, `body`)",
                    target_note(t),
                    kind(&other)
                )),
            }
        }
        Some("range") => {
            let bounds = t.get("range").and_then(Value::as_array);
            let (Some(lo), Some(hi)) = (
                bounds.and_then(|b| b.first()).and_then(Value::as_f64),
                bounds.and_then(|b| b.get(1)).and_then(Value::as_f64),
            ) else {
                return Err(
                    "the range tolerance needs `range: [lower, upper]`, two numbers".into(),
                );
            };
            let v = target(value);
            let n = match &v {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => parse_decimal(s),
                _ => None,
            };
            match n {
                Some(n) if !n.is_nan() => Ok(Verdict::Met(lo <= n && n <= hi)),
                _ => Err(format!(
                    "the range tolerance needs a number, and the value{} is {}",
                    target_note(t),
                    short(&v)
                )),
            }
        }
        Some("jsonpath") => {
            let path = t.get("path").and_then(Value::as_str).unwrap_or_default();
            let path = jsonpath::Path::parse(path)
                .map_err(|e| format!("the jsonpath tolerance's path {path:?} is not valid: {e}"))?;
            let mut v = target(value);
            if let Value::String(s) = &v {
                if let Ok(parsed) = serde_json::from_str::<Value>(s) {
                    v = parsed;
                }
            }
            let found = path.find(&v);
            let met = match (t.get("expect"), t.get("count")) {
                (Some(Value::Array(expect)), _) => {
                    found.len() == expect.len()
                        && found.iter().zip(expect).all(|(a, b)| py_eq(a, b))
                }
                (Some(expect), _) => found.len() == 1 && py_eq(&found[0], expect),
                (None, Some(count)) => Some(found.len() as u64) == count.as_u64(),
                (None, None) => !found.is_empty(),
            };
            Ok(Verdict::Met(met))
        }
        other => Err(format!(
            "unknown tolerance type {}: probe, regex, jsonpath or range",
            other.map_or("(none)".to_owned(), |o| format!("{o:?}"))
        )),
    }
}

fn target_note(t: &serde_json::Map<String, Value>) -> String {
    t.get("target")
        .and_then(Value::as_str)
        .map(|k| format!(" (its `{k}`)"))
        .unwrap_or_default()
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 80 {
        format!(
            "{}…",
            &s[..s.char_indices().nth(80).map_or(s.len(), |(i, _)| i)]
        )
    } else {
        s
    }
}

/// Python's `Decimal(text)`: surrounding space, `_` between digits, exponents, `inf`.
fn parse_decimal(s: &str) -> Option<f64> {
    let t: String = s.trim().chars().filter(|c| *c != '_').collect();
    match t.to_ascii_lowercase().as_str() {
        "inf" | "+inf" | "infinity" => return Some(f64::INFINITY),
        "-inf" | "-infinity" => return Some(f64::NEG_INFINITY),
        _ => {}
    }
    if t.is_empty() || !t.chars().all(|c| c.is_ascii_digit() || "+-.eE".contains(c)) {
        return None;
    }
    t.parse().ok()
}

/// Python's `==` on JSON values: numbers by value (`true == 1`), the rest structurally.
pub(crate) fn py_eq(a: &Value, b: &Value) -> bool {
    match (number(a), number(b)) {
        (Some(x), Some(y)) => x == y,
        _ => match (a, b) {
            (Value::Array(x), Value::Array(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(a, b)| py_eq(a, b))
            }
            (Value::Object(x), Value::Object(y)) => {
                x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| py_eq(v, w)))
            }
            _ => a == b,
        },
    }
}

/// A number, or a boolean as Python counts it (1 or 0).
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    }
}

/// Python's ordering: numbers by value, strings by code point; anything else does not compare.
fn py_cmp(a: &Value, b: &Value) -> Result<Ordering, String> {
    match (number(a), number(b), a, b) {
        (Some(x), Some(y), _, _) => x
            .partial_cmp(&y)
            .ok_or_else(|| "NaN does not compare".to_owned()),
        (_, _, Value::String(x), Value::String(y)) => Ok(x.cmp(y)),
        _ => Err(format!(
            "the value {} and the range's bound {} do not compare: a two-element list is an inclusive range for a value that is no `status` mapping",
            short(a),
            short(b)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn met(t: Value, v: Value) -> bool {
        match within(&t, &v).expect("evaluates") {
            Verdict::Met(m) => m,
            Verdict::Probe(p) => panic!("a probe: {p}"),
        }
    }

    #[test]
    fn scalars_lists_and_status_as_chaos_toolkit_reads_them() {
        let http = json!({"status": 200, "headers": {}, "body": "ok"});
        assert!(met(json!(200), http.clone()));
        assert!(!met(json!(404), http.clone()));
        assert!(met(json!([200, 204]), http.clone()));
        assert!(!met(json!([201, 204]), http.clone()));
        // A two-element list is a range for a plain value, membership on `status`.
        assert!(met(json!([1, 3]), json!(2)));
        assert!(met(json!([1, 3]), json!(3)));
        assert!(!met(json!([1, 3]), json!(4)));
        assert!(met(json!([1, 2, 3]), json!(2)));
        assert!(met(json!(true), json!(true)));
        assert!(met(json!(true), json!(1)));
        assert!(!met(json!(true), http.clone()));
        assert!(met(json!("ok"), json!("ok")));
        assert!(met(
            json!(0),
            json!({"status": 0, "stdout": "", "stderr": ""})
        ));
        assert!(met(json!(2), json!(2.0)));
        let e = within(&json!([1, 3]), &json!("x")).expect_err("no compare");
        assert!(e.contains("do not compare"), "{e}");
    }

    #[test]
    fn regex_range_jsonpath_and_probe_tolerances() {
        let out = json!({"status": 0, "stdout": "version 1.2.3\n", "stderr": ""});
        assert!(met(
            json!({"type": "regex", "pattern": "1\\.2", "target": "stdout"}),
            out.clone()
        ));
        assert!(!met(
            json!({"type": "regex", "pattern": "^2", "target": "stdout"}),
            out.clone()
        ));
        let e = within(&json!({"type": "regex", "pattern": "x"}), &out).expect_err("a mapping");
        assert!(e.contains("needs text, and the value is a mapping"), "{e}");
        assert!(met(
            json!({"type": "range", "range": [1, 10], "target": "stdout"}),
            json!({"stdout": " 5\n"})
        ));
        assert!(met(json!({"type": "range", "range": [0.5, 1.5]}), json!(1)));
        assert!(!met(
            json!({"type": "range", "range": [0, 1]}),
            json!("1e3")
        ));
        let e =
            within(&json!({"type": "range", "range": [0, 1]}), &json!("abc")).expect_err("text");
        assert!(e.contains("needs a number"), "{e}");
        let body = json!({"status": 200, "body": {"items": [{"n": 1}, {"n": 2}]}});
        assert!(met(
            json!({"type": "jsonpath", "path": "$.items[*].n", "target": "body", "expect": [1, 2]}),
            body.clone()
        ));
        assert!(met(
            json!({"type": "jsonpath", "path": "$.items[*].n", "target": "body", "count": 2}),
            body.clone()
        ));
        assert!(met(
            json!({"type": "jsonpath", "path": "$.body.items.*[?(@.n = 2)]", "count": 1}),
            body.clone()
        ));
        assert!(!met(
            json!({"type": "jsonpath", "path": "$.nothing", "target": "body"}),
            body.clone()
        ));
        assert!(met(
            json!({"type": "jsonpath", "path": "$.a", "expect": 1}),
            json!("{\"a\": 1}")
        ));
        match within(
            &json!({"type": "probe", "name": "p", "provider": {"type": "python", "module": "m", "func": "f", "arguments": {"x": 1}}}),
            &json!(7),
        )
        .expect("a probe")
        {
            Verdict::Probe(p) => assert_eq!(p["provider"]["arguments"], json!({"x": 1, "value": 7})),
            other => panic!("{other:?}"),
        }
    }
}
