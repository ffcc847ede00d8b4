//! JSON merge patch (RFC 7386; strategic merge patches are applied as merge patches) and JSON
//! patch (RFC 6902).

use serde_json::{Map, Value};

/// Why a patch could not be applied.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PatchError {
    /// The patch document itself is malformed (400).
    Malformed(String),
    /// An operation failed against the object (422).
    Failed(String),
}

/// Applies an RFC 7386 merge patch to `target`. Keys starting with `$` (strategic merge
/// directives) are dropped.
pub(crate) fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(t) = target {
        for (k, v) in p {
            if k.starts_with('$') {
                continue;
            }
            if v.is_null() {
                t.remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

fn pointer(path: &str) -> Result<Vec<String>, PatchError> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = path.strip_prefix('/') else {
        return Err(PatchError::Malformed(format!(
            "JSON pointer {path:?} does not start with '/'"
        )));
    };
    Ok(rest
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect())
}

fn parent<'a>(doc: &'a mut Value, tokens: &[String]) -> Result<&'a mut Value, PatchError> {
    let mut cur = doc;
    for t in tokens {
        cur = match cur {
            Value::Object(m) => m
                .get_mut(t)
                .ok_or_else(|| PatchError::Failed(format!("missing path segment {t:?}")))?,
            Value::Array(a) => {
                let i: usize = t
                    .parse()
                    .map_err(|_| PatchError::Failed(format!("invalid array index {t:?}")))?;
                a.get_mut(i)
                    .ok_or_else(|| PatchError::Failed(format!("array index {i} out of range")))?
            }
            _ => return Err(PatchError::Failed(format!("cannot descend into {t:?}"))),
        };
    }
    Ok(cur)
}

fn get<'a>(doc: &'a Value, tokens: &[String]) -> Option<&'a Value> {
    let mut cur = doc;
    for t in tokens {
        cur = match cur {
            Value::Object(m) => m.get(t)?,
            Value::Array(a) => a.get(t.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn add(doc: &mut Value, tokens: &[String], value: Value) -> Result<(), PatchError> {
    let Some((last, init)) = tokens.split_last() else {
        *doc = value;
        return Ok(());
    };
    match parent(doc, init)? {
        Value::Object(m) => {
            m.insert(last.clone(), value);
            Ok(())
        }
        Value::Array(a) => {
            let i = if last == "-" {
                a.len()
            } else {
                last.parse::<usize>()
                    .map_err(|_| PatchError::Failed(format!("invalid array index {last:?}")))?
            };
            if i > a.len() {
                return Err(PatchError::Failed(format!("array index {i} out of range")));
            }
            a.insert(i, value);
            Ok(())
        }
        _ => Err(PatchError::Failed(format!(
            "cannot add {last:?} to a scalar"
        ))),
    }
}

fn remove(doc: &mut Value, tokens: &[String]) -> Result<Value, PatchError> {
    let Some((last, init)) = tokens.split_last() else {
        return Err(PatchError::Failed(
            "cannot remove the whole document".into(),
        ));
    };
    match parent(doc, init)? {
        Value::Object(m) => m
            .remove(last)
            .ok_or_else(|| PatchError::Failed(format!("unable to remove nonexistent key: {last}"))),
        Value::Array(a) => {
            let i: usize = last
                .parse()
                .map_err(|_| PatchError::Failed(format!("invalid array index {last:?}")))?;
            if i >= a.len() {
                return Err(PatchError::Failed(format!("array index {i} out of range")));
            }
            Ok(a.remove(i))
        }
        _ => Err(PatchError::Failed(format!(
            "cannot remove {last:?} from a scalar"
        ))),
    }
}

/// Applies an RFC 6902 JSON patch (`add`, `remove`, `replace`, `move`, `copy`, `test`).
pub(crate) fn json_patch(doc: &Value, ops: &Value) -> Result<Value, PatchError> {
    let Some(ops) = ops.as_array() else {
        return Err(PatchError::Malformed(
            "a JSON patch must be an array of operations".into(),
        ));
    };
    let mut doc = doc.clone();
    for op in ops {
        let name = op["op"]
            .as_str()
            .ok_or_else(|| PatchError::Malformed("operation without \"op\"".into()))?;
        let path =
            pointer(op["path"].as_str().ok_or_else(|| {
                PatchError::Malformed(format!("{name} operation without \"path\""))
            })?)?;
        let value = || {
            op.get("value")
                .cloned()
                .ok_or_else(|| PatchError::Malformed(format!("{name} operation without \"value\"")))
        };
        let from = || -> Result<Vec<String>, PatchError> {
            pointer(op["from"].as_str().ok_or_else(|| {
                PatchError::Malformed(format!("{name} operation without \"from\""))
            })?)
        };
        match name {
            "add" => add(&mut doc, &path, value()?)?,
            "remove" => {
                remove(&mut doc, &path)?;
            }
            "replace" => {
                let v = value()?;
                if path.is_empty() {
                    doc = v;
                } else {
                    remove(&mut doc, &path).map_err(|_| {
                        PatchError::Failed(format!(
                            "replace operation does not apply: doc is missing key: /{}",
                            path.join("/")
                        ))
                    })?;
                    add(&mut doc, &path, v)?;
                }
            }
            "move" => {
                let f = from()?;
                let v = remove(&mut doc, &f)?;
                add(&mut doc, &path, v)?;
            }
            "copy" => {
                let f = from()?;
                let v = get(&doc, &f)
                    .cloned()
                    .ok_or_else(|| PatchError::Failed("copy from a missing path".into()))?;
                add(&mut doc, &path, v)?;
            }
            "test" => {
                let v = value()?;
                if get(&doc, &path) != Some(&v) {
                    return Err(PatchError::Failed(format!(
                        "testing value /{} failed",
                        path.join("/")
                    )));
                }
            }
            other => {
                return Err(PatchError::Malformed(format!(
                    "unexpected kind of operation: {other:?}"
                )))
            }
        }
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_rfc7386() {
        let mut doc = json!({"a": "b", "c": {"d": "e", "f": "g"}, "l": [1, 2]});
        merge_patch(
            &mut doc,
            &json!({"a": "z", "c": {"f": null, "h": 1}, "l": [3], "$retainKeys": []}),
        );
        assert_eq!(doc, json!({"a": "z", "c": {"d": "e", "h": 1}, "l": [3]}));
        let mut doc = json!({"spec": {"unschedulable": true}});
        merge_patch(&mut doc, &json!({"spec": {"unschedulable": null}}));
        assert_eq!(doc, json!({"spec": {}}));
        let mut doc = json!("x");
        merge_patch(&mut doc, &json!({"a": {"b": 1}}));
        assert_eq!(doc, json!({"a": {"b": 1}}));
    }

    #[test]
    fn json_patch_rfc6902() {
        let doc = json!({"metadata": {"labels": {"a": "1"}}, "list": [1, 2]});
        let out = json_patch(
            &doc,
            &json!([
                {"op": "test", "path": "/metadata/labels/a", "value": "1"},
                {"op": "add", "path": "/metadata/labels/b~1c", "value": "2"},
                {"op": "replace", "path": "/metadata/labels/a", "value": "3"},
                {"op": "add", "path": "/list/-", "value": 3},
                {"op": "add", "path": "/list/0", "value": 0},
                {"op": "remove", "path": "/list/1"},
                {"op": "copy", "from": "/list", "path": "/copy"},
                {"op": "move", "from": "/copy", "path": "/moved"}
            ]),
        );
        assert_eq!(
            out,
            Ok(
                json!({"metadata": {"labels": {"a": "3", "b/c": "2"}}, "list": [0, 2, 3], "moved": [0, 2, 3]})
            )
        );
        assert!(matches!(
            json_patch(
                &doc,
                &json!([{"op": "test", "path": "/list/0", "value": 9}])
            ),
            Err(PatchError::Failed(_))
        ));
        assert!(matches!(
            json_patch(&doc, &json!([{"op": "remove", "path": "/nope"}])),
            Err(PatchError::Failed(_))
        ));
        assert!(matches!(
            json_patch(
                &doc,
                &json!([{"op": "replace", "path": "/nope", "value": 1}])
            ),
            Err(PatchError::Failed(_))
        ));
        assert!(matches!(
            json_patch(&doc, &json!({"op": "add"})),
            Err(PatchError::Malformed(_))
        ));
        assert!(matches!(
            json_patch(&doc, &json!([{"op": "frob", "path": "/a"}])),
            Err(PatchError::Malformed(_))
        ));
    }
}
