//! Chaos Toolkit's `http` provider: `url`, `method` (default `GET`), `headers`, `arguments`
//! (a query string for `GET`; otherwise a JSON body when `Content-Type` is
//! `application/json`, else a form), `timeout` (seconds, or `[connect, read]`), `verify_tls`,
//! `max_retries` (connection failures only). Its value is `{status, headers, body}`, the body
//! parsed as JSON when the response's `Content-Type` is `application/json`. A status of 400 or
//! more does not fail the activity: the tolerance decides.

use super::substitute::python_str;
use serde_json::{json, Map, Value};
use std::time::Duration;

/// One `http` provider, its placeholders replaced.
#[derive(Clone, Debug)]
pub(crate) struct HttpCall {
    pub url: String,
    pub method: String,
    pub headers: Vec<(String, String)>,
    pub arguments: Option<Value>,
    pub connect: Option<Duration>,
    pub read: Option<Duration>,
    pub verify_tls: bool,
    pub max_retries: u32,
}

impl HttpCall {
    /// The call a provider mapping describes (already substituted).
    pub(crate) fn from_provider(p: &Map<String, Value>) -> Result<HttpCall, String> {
        let url = match p.get("url") {
            Some(Value::String(u)) if !u.is_empty() => u.clone(),
            other => {
                return Err(format!(
                    "the http provider's url is {}",
                    other.map_or("missing".into(), Value::to_string)
                ))
            }
        };
        let headers = match p.get("headers") {
            Some(Value::Object(h)) => h.iter().map(|(k, v)| (k.clone(), python_str(v))).collect(),
            _ => Vec::new(),
        };
        let seconds = |v: &Value| -> Result<Duration, String> {
            v.as_f64()
                .filter(|s| *s > 0.0 && s.is_finite())
                .map(Duration::from_secs_f64)
                .ok_or_else(|| {
                    format!("the http provider's timeout {v} is not a positive number of seconds")
                })
        };
        let (connect, read) = match p.get("timeout") {
            None | Some(Value::Null) => (None, None),
            Some(Value::Array(pair)) if pair.len() == 2 => {
                (Some(seconds(&pair[0])?), Some(seconds(&pair[1])?))
            }
            Some(v) => {
                let t = seconds(v)?;
                (Some(t), Some(t))
            }
        };
        Ok(HttpCall {
            url,
            method: p
                .get("method")
                .and_then(Value::as_str)
                .unwrap_or("GET")
                .to_ascii_uppercase(),
            headers,
            arguments: p.get("arguments").filter(|a| !a.is_null()).cloned(),
            connect,
            read,
            verify_tls: p.get("verify_tls").and_then(Value::as_bool).unwrap_or(true),
            max_retries: p
                .get("max_retries")
                .and_then(Value::as_u64)
                .map_or(0, |n| n.min(100) as u32),
        })
    }

    /// Makes the call: `{status, headers, body}`, or why there is no answer.
    pub(crate) async fn send(&self) -> Result<Value, String> {
        crate::tls::install_provider();
        let mut builder = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .user_agent(concat!("chaos-harness/", env!("CARGO_PKG_VERSION")))
            .tls_danger_accept_invalid_certs(!self.verify_tls);
        if let Some(c) = self.connect {
            builder = builder.connect_timeout(c);
        }
        if let Some(r) = self.read {
            builder = builder.read_timeout(r);
        }
        let client = builder.build().map_err(|e| {
            format!(
                "the HTTP client could not be built: {}",
                crate::error::error_chain(&e)
            )
        })?;
        let method = reqwest::Method::from_bytes(self.method.as_bytes())
            .map_err(|_| format!("`{}` is not an HTTP method", self.method))?;
        let mut url =
            reqwest::Url::parse(&self.url).map_err(|e| format!("{}: not a URL: {e}", self.url))?;
        let mut body: Option<(Vec<u8>, Option<&str>)> = None;
        if let Some(args) = &self.arguments {
            if self.method == "GET" {
                match args {
                    Value::String(raw) => {
                        let q = match url.query() {
                            Some(q) if !q.is_empty() => format!("{q}&{raw}"),
                            _ => raw.clone(),
                        };
                        url.set_query(Some(&q));
                    }
                    _ => {
                        let pairs = form_pairs(args);
                        if !pairs.is_empty() {
                            url.query_pairs_mut().extend_pairs(pairs);
                        }
                    }
                }
            } else {
                let json_body = self
                    .headers
                    .iter()
                    .any(|(k, v)| k == "Content-Type" && v == "application/json");
                body = Some(if json_body {
                    (args.to_string().into_bytes(), None)
                } else if let Value::String(raw) = args {
                    (raw.clone().into_bytes(), None)
                } else {
                    let encoded = url::form_urlencoded::Serializer::new(String::new())
                        .extend_pairs(form_pairs(args))
                        .finish();
                    (
                        encoded.into_bytes(),
                        Some("application/x-www-form-urlencoded"),
                    )
                });
            }
        }
        let mut attempt = 0;
        let resp = loop {
            let mut req = client.request(method.clone(), url.clone());
            for (k, v) in &self.headers {
                req = req.header(k, v);
            }
            if let Some((b, content_type)) = &body {
                if let Some(ct) = content_type {
                    if !self
                        .headers
                        .iter()
                        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                    {
                        req = req.header("Content-Type", *ct);
                    }
                }
                req = req.body(b.clone());
            }
            match req.send().await {
                Ok(r) => break r,
                Err(e) if e.is_connect() && attempt < self.max_retries => {
                    attempt += 1;
                    tracing::debug!(url = %self.url, attempt, "connection failed; trying again");
                }
                Err(e) if e.is_timeout() && !e.is_connect() => {
                    return Err("activity took too long to complete".into())
                }
                Err(e) => {
                    return Err(format!(
                        "failed to connect to {}: {}",
                        self.url,
                        crate::error::error_chain(&e)
                    ))
                }
            }
        };
        let status = resp.status().as_u16();
        let mut headers = Map::new();
        for (k, v) in resp.headers() {
            let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
            match headers.get_mut(k.as_str()) {
                Some(Value::String(prev)) => {
                    prev.push_str(", ");
                    prev.push_str(&v);
                }
                _ => {
                    headers.insert(k.to_string(), Value::String(v));
                }
            }
        }
        let is_json = headers
            .get("content-type")
            .and_then(Value::as_str)
            .is_some_and(|ct| ct == "application/json");
        let text = resp.text().await.map_err(|e| {
            if e.is_timeout() {
                "activity took too long to complete".to_owned()
            } else {
                format!(
                    "the answer of {} could not be read: {}",
                    self.url,
                    crate::error::error_chain(&e)
                )
            }
        })?;
        let body = if is_json {
            serde_json::from_str(&text).map_err(|e| {
                format!("{} answered `Content-Type: application/json` with a body that is not JSON: {e}", self.url)
            })?
        } else {
            Value::String(text)
        };
        Ok(json!({ "status": status, "headers": headers, "body": body }))
    }
}

/// A mapping of arguments as form or query pairs, as Python's `requests` encodes one: a list
/// gives the key once per item, `null` is left out, other values as Python writes them.
fn form_pairs(args: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Value::Object(m) = args {
        for (k, v) in m {
            match v {
                Value::Null => {}
                Value::Array(items) => {
                    for i in items.iter().filter(|i| !i.is_null()) {
                        out.push((k.clone(), python_str(i)));
                    }
                }
                other => out.push((k.clone(), python_str(other))),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_provider_becomes_a_call_with_chaos_toolkits_defaults() {
        let p = json!({"type": "http", "url": "http://x/", "timeout": [1, 2.5], "headers": {"A": 1}, "max_retries": 3});
        let c = HttpCall::from_provider(p.as_object().expect("map")).expect("a call");
        assert_eq!(c.method, "GET");
        assert_eq!(c.connect, Some(Duration::from_secs(1)));
        assert_eq!(c.read, Some(Duration::from_millis(2500)));
        assert_eq!(c.headers, vec![("A".to_owned(), "1".to_owned())]);
        assert!(c.verify_tls);
        assert_eq!(c.max_retries, 3);
        let bad = json!({"url": "http://x/", "timeout": "soon"});
        let e = HttpCall::from_provider(bad.as_object().expect("map")).expect_err("bad timeout");
        assert!(e.contains("not a positive number of seconds"), "{e}");
        assert_eq!(
            form_pairs(&json!({"a": [1, 2], "b": null, "c": true, "d": "x y"})),
            vec![
                ("a".to_owned(), "1".to_owned()),
                ("a".to_owned(), "2".to_owned()),
                ("c".to_owned(), "True".to_owned()),
                ("d".to_owned(), "x y".to_owned()),
            ]
        );
    }
}
