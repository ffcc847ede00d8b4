//! Toxiproxy's JSON for toxics: reading a toxic (with Toxiproxy's defaults and our errors,
//! which name the proxy, the toxic and the field) and merging an update into one.

use super::error::{ProxyError, ProxyErrorKind};
use super::toxic::{Stream, Toxic, ToxicKind};
use serde_json::{json, Map, Value};

impl ToxicKind {
    /// The kind of type `type_name` with `attributes` (missing ones take Toxiproxy's defaults).
    /// Errors name the field: an unknown type or attribute, a negative or non-integer number.
    pub(super) fn from_attributes(
        type_name: &str,
        attributes: &Map<String, Value>,
    ) -> Result<ToxicKind, ProxyErrorKind> {
        let Some(names) = ToxicKind::attribute_names(type_name) else {
            return Err(ProxyErrorKind::UnknownType {
                found: type_name.to_owned(),
            });
        };
        if let Some(unknown) = attributes.keys().find(|k| !names.contains(&k.as_str())) {
            return Err(ProxyErrorKind::UnknownAttribute {
                field: unknown.clone(),
                valid: names.join(", "),
            });
        }
        let n = |field: &'static str| -> Result<u64, ProxyErrorKind> {
            match attributes.get(field) {
                None | Some(Value::Null) => Ok(0),
                Some(v) => match (v.as_u64(), v.as_i64(), v.as_f64()) {
                    (Some(n), _, _) => Ok(n),
                    (None, Some(neg), _) => Err(ProxyErrorKind::Field {
                        field,
                        problem: format!("must not be negative (got {neg})"),
                    }),
                    (None, None, Some(f)) if f.fract() == 0.0 && (0.0..1.8e19).contains(&f) => {
                        Ok(f as u64)
                    }
                    _ => Err(ProxyErrorKind::Field {
                        field,
                        problem: format!("must be a whole number (got {v})"),
                    }),
                },
            }
        };
        Ok(match type_name {
            "latency" => ToxicKind::Latency {
                latency: n("latency")?,
                jitter: n("jitter")?,
            },
            "bandwidth" => ToxicKind::Bandwidth {
                rate: n("rate")?,
                shared: match attributes.get("shared") {
                    None | Some(Value::Null) => false,
                    Some(Value::Bool(b)) => *b,
                    Some(v) => {
                        return Err(ProxyErrorKind::Field {
                            field: "shared",
                            problem: format!("must be true or false (got {v})"),
                        })
                    }
                },
            },
            "timeout" => ToxicKind::Timeout {
                timeout: n("timeout")?,
            },
            "reset_peer" => ToxicKind::ResetPeer {
                timeout: n("timeout")?,
            },
            "slow_close" => ToxicKind::SlowClose { delay: n("delay")? },
            "slicer" => ToxicKind::Slicer {
                average_size: n("average_size")?,
                size_variation: n("size_variation")?,
                delay: n("delay")?,
            },
            "limit_data" => ToxicKind::LimitData { bytes: n("bytes")? },
            _ => ToxicKind::Down,
        })
    }
}

impl Toxic {
    /// A toxic from Toxiproxy's JSON shape (`type` required; `name`, `stream`, `toxicity` and
    /// `attributes` optional, with Toxiproxy's defaults). Errors name the proxy, the toxic and
    /// the field.
    ///
    /// ```
    /// use chaos_runtime::target::proxy::Toxic;
    /// let t = Toxic::from_json("db", &serde_json::json!({
    ///     "type": "latency", "attributes": {"latency": 100}
    /// })).unwrap();
    /// assert_eq!(t.name(), "latency_downstream");
    /// let err = Toxic::from_json("db", &serde_json::json!({
    ///     "type": "latency", "attributes": {"latency": -5}
    /// })).unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "proxy `db`, toxic `latency_downstream`: `latency` must not be negative (got -5)"
    /// );
    /// ```
    pub fn from_json(proxy: &str, value: &Value) -> Result<Toxic, ProxyError> {
        let err = |toxic: Option<String>, kind| ProxyError::new(proxy, toxic, kind);
        let Some(obj) = value.as_object() else {
            return Err(err(None, ProxyErrorKind::NotAnObject { what: "a toxic" }));
        };
        const KEYS: [&str; 5] = ["name", "type", "stream", "toxicity", "attributes"];
        let given_name = match obj.get("name") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::String(_)) => None,
            Some(v) => {
                return Err(err(
                    None,
                    ProxyErrorKind::Field {
                        field: "name",
                        problem: format!("must be a string (got {v})"),
                    },
                ))
            }
        };
        let label = |ty: &str, stream: Stream| {
            given_name
                .clone()
                .unwrap_or_else(|| format!("{ty}_{}", stream.as_str()))
        };
        let stream = match obj.get("stream") {
            None | Some(Value::Null) => Stream::Downstream,
            Some(Value::String(s)) if s == "upstream" => Stream::Upstream,
            Some(Value::String(s)) if s == "downstream" || s.is_empty() => Stream::Downstream,
            Some(v) => {
                return Err(err(
                    given_name.clone(),
                    ProxyErrorKind::Field {
                        field: "stream",
                        problem: format!("must be `upstream` or `downstream` (got {v})"),
                    },
                ))
            }
        };
        let ty = match obj.get("type") {
            Some(Value::String(s)) => s.clone(),
            None | Some(Value::Null) => {
                return Err(err(given_name.clone(), ProxyErrorKind::MissingType))
            }
            Some(v) => {
                return Err(err(
                    given_name.clone(),
                    ProxyErrorKind::Field {
                        field: "type",
                        problem: format!("must be a string (got {v})"),
                    },
                ))
            }
        };
        let name = label(&ty, stream);
        if let Some(unknown) = obj.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(err(
                Some(name),
                ProxyErrorKind::UnknownAttribute {
                    field: unknown.clone(),
                    valid: KEYS.join(", "),
                },
            ));
        }
        let toxicity = match obj.get("toxicity") {
            None | Some(Value::Null) => 1.0,
            Some(v) => match v.as_f64() {
                Some(t) => t,
                None => {
                    return Err(err(
                        Some(name),
                        ProxyErrorKind::Field {
                            field: "toxicity",
                            problem: format!("must be a number in 0..=1 (got {v})"),
                        },
                    ))
                }
            },
        };
        let empty = Map::new();
        let attributes = match obj.get("attributes") {
            None | Some(Value::Null) => &empty,
            Some(Value::Object(m)) => m,
            Some(v) => {
                return Err(err(
                    Some(name),
                    ProxyErrorKind::Field {
                        field: "attributes",
                        problem: format!("must be an object (got {v})"),
                    },
                ))
            }
        };
        let kind =
            ToxicKind::from_attributes(&ty, attributes).map_err(|k| err(Some(name.clone()), k))?;
        let toxic = Toxic {
            name: given_name,
            kind,
            stream,
            toxicity,
            misuse: None,
        };
        toxic.validate(proxy)?;
        Ok(toxic)
    }

    /// The same toxic with `attributes` merged over its own and `toxicity` if given
    /// (Toxiproxy's update of a toxic).
    pub(super) fn updated(&self, proxy: &str, patch: &Value) -> Result<Toxic, ProxyError> {
        let mut current = self.to_json();
        if let Some(obj) = patch.as_object() {
            for (k, v) in obj {
                match k.as_str() {
                    "attributes" => {
                        if let (Some(into), Some(from)) =
                            (current["attributes"].as_object_mut(), v.as_object())
                        {
                            for (ak, av) in from {
                                into.insert(ak.clone(), av.clone());
                            }
                        } else {
                            current["attributes"] = v.clone();
                        }
                    }
                    _ => current[k] = v.clone(),
                }
            }
        } else {
            return Err(ProxyError::new(
                proxy,
                Some(self.name()),
                ProxyErrorKind::NotAnObject { what: "a toxic" },
            ));
        }
        // The name, type and stream of a toxic are fixed once it exists.
        current["name"] = json!(self.name());
        current["type"] = json!(self.kind.type_name());
        current["stream"] = json!(self.stream.as_str());
        Toxic::from_json(proxy, &current)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn json_round_trips_every_type_with_toxiproxy_defaults() {
        for ty in ToxicKind::TYPES {
            let t = Toxic::from_json("p", &json!({ "type": ty })).unwrap();
            assert_eq!(t.kind().type_name(), ty);
            assert_eq!(t.name(), format!("{ty}_downstream"));
            assert_eq!(t.probability(), 1.0);
            let again = Toxic::from_json("p", &t.to_json()).unwrap();
            assert_eq!(again.to_json(), t.to_json());
        }
    }

    #[test]
    fn errors_name_the_proxy_the_toxic_and_the_field() {
        let cases = [
            (
                json!({"type": "latncy"}),
                "proxy `p`, toxic `latncy_downstream`: unknown toxic type `latncy`; the types \
                 are latency, bandwidth, timeout, reset_peer, slow_close, slicer, limit_data, down",
            ),
            (
                json!({"type": "latency", "name": "slow", "toxicity": 1.5}),
                "proxy `p`, toxic `slow`: `toxicity` must be in 0..=1 (got 1.5)",
            ),
            (
                json!({"type": "latency", "attributes": {"latncy": 5}}),
                "proxy `p`, toxic `latency_downstream`: unknown field `latncy`; the fields are \
                 latency, jitter",
            ),
            (
                json!({"type": "bandwidth", "stream": "sideways"}),
                "proxy `p`: `stream` must be `upstream` or `downstream` (got \"sideways\")",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(Toxic::from_json("p", &input).unwrap_err().to_string(), want);
        }
        let misuse = Toxic::bandwidth(5).jitter(Duration::from_millis(1));
        assert_eq!(
            misuse.validate("p").unwrap_err().to_string(),
            "proxy `p`, toxic `bandwidth_downstream`: `jitter` does not apply to a `bandwidth` toxic"
        );
    }

    #[test]
    fn an_update_merges_attributes_and_keeps_the_identity() {
        let t = Toxic::latency(Duration::from_millis(100)).jitter(Duration::from_millis(5));
        let u = t
            .updated(
                "p",
                &json!({"attributes": {"latency": 7}, "toxicity": 0.5, "type": "x"}),
            )
            .unwrap();
        assert_eq!(
            u.kind(),
            &ToxicKind::Latency {
                latency: 7,
                jitter: 5
            }
        );
        assert_eq!((u.name(), u.probability()), (t.name(), 0.5));
    }
}
