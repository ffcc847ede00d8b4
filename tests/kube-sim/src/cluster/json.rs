//! JSON helpers for objects: paths, the metadata accessors, conditions.

use crate::util;
use serde_json::{json, Map, Value};
use std::time::SystemTime;

pub(super) fn walk<'a>(v: &'a Value, path: &[&str]) -> &'a Value {
    path.iter().fold(v, |c, p| &c[*p])
}

pub(super) fn st<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    walk(v, path).as_str().unwrap_or_default()
}

pub(crate) fn set(v: &mut Value, path: &[&str], x: Value) {
    let Some((last, init)) = path.split_last() else {
        *v = x;
        return;
    };
    let mut cur = v;
    for p in init {
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        cur = match cur {
            Value::Object(m) => m
                .entry((*p).to_string())
                .or_insert_with(|| Value::Object(Map::new())),
            _ => return,
        };
    }
    if !cur.is_object() {
        *cur = Value::Object(Map::new());
    }
    if let Value::Object(m) = cur {
        m.insert((*last).to_string(), x);
    }
}

pub(super) fn unset(v: &mut Value, path: &[&str]) {
    let Some((last, init)) = path.split_last() else {
        return;
    };
    let mut cur = v;
    for p in init {
        cur = match cur {
            Value::Object(m) => match m.get_mut(*p) {
                Some(x) => x,
                None => return,
            },
            _ => return,
        };
    }
    if let Value::Object(m) = cur {
        m.remove(*last);
    }
}

pub(super) fn name_of(o: &Value) -> &str {
    st(o, &["metadata", "name"])
}
pub(super) fn ns_of(o: &Value) -> &str {
    st(o, &["metadata", "namespace"])
}
pub(super) fn uid_of(o: &Value) -> &str {
    st(o, &["metadata", "uid"])
}
pub(super) fn rv_of(o: &Value) -> &str {
    st(o, &["metadata", "resourceVersion"])
}

pub(super) fn is_terminating(o: &Value) -> bool {
    !o["metadata"]["deletionTimestamp"].is_null()
}

pub(super) fn pod_finished(p: &Value) -> bool {
    matches!(st(p, &["status", "phase"]), "Succeeded" | "Failed")
}

fn has_condition(o: &Value, kind: &str) -> bool {
    o["status"]["conditions"]
        .as_array()
        .is_some_and(|c| c.iter().any(|c| c["type"] == kind && c["status"] == "True"))
}

pub(crate) fn pod_ready(p: &Value) -> bool {
    has_condition(p, "Ready")
}

pub(crate) fn node_ready(n: &Value) -> bool {
    has_condition(n, "Ready")
}

/// (kind, name, uid) of the controller owner.
pub(super) fn controller_of(o: &Value) -> Option<(String, String, String)> {
    o["metadata"]["ownerReferences"]
        .as_array()?
        .iter()
        .find(|r| r["controller"] == true)
        .map(|r| {
            (
                st(r, &["kind"]).to_string(),
                st(r, &["name"]).to_string(),
                st(r, &["uid"]).to_string(),
            )
        })
}

pub(super) fn created(o: &Value) -> SystemTime {
    util::parse_time(st(o, &["metadata", "creationTimestamp"])).unwrap_or(SystemTime::UNIX_EPOCH)
}

pub(super) fn int(v: &Value, path: &[&str], default: i64) -> i64 {
    walk(v, path).as_i64().unwrap_or(default)
}

/// Sets a condition, keeping `lastTransitionTime` when its status does not change.
pub(super) fn set_condition(
    o: &mut Value,
    kind: &str,
    status: bool,
    reason: Option<&str>,
    msg: Option<&str>,
) {
    let now = util::rfc3339(SystemTime::now());
    let status_s = if status { "True" } else { "False" };
    if !o["status"]["conditions"].is_array() {
        set(o, &["status", "conditions"], json!([]));
    }
    let Some(conds) = o["status"]["conditions"].as_array_mut() else {
        return;
    };
    let mut cond =
        json!({"type": kind, "status": status_s, "lastProbeTime": null, "lastTransitionTime": now});
    if let Some(r) = reason {
        cond["reason"] = json!(r);
    }
    if let Some(m) = msg {
        cond["message"] = json!(m);
    }
    match conds.iter_mut().find(|c| c["type"] == kind) {
        Some(c) => {
            if c["status"] == status_s {
                cond["lastTransitionTime"] = c["lastTransitionTime"].clone();
            }
            *c = cond;
        }
        None => conds.push(cond),
    }
}
