//! Toxiproxy's JSON shapes: a proxy's body in (create, update, populate) and out (with its
//! toxics).

use super::error::ApiError;
use crate::target::proxy::{Proxy, Stream, Toxic};
use serde_json::{json, Map, Value};

/// The listen address of a proxy created without one. Toxiproxy listens on every interface
/// then; this server keeps to the loopback.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:0";

/// A proxy to create, as Toxiproxy's `POST /proxies` and `POST /populate` take it.
///
/// ```
/// use chaos_runtime::target::proxy::server::ProxyConfig;
/// let c = ProxyConfig::new("db", "127.0.0.1:5432").listen("127.0.0.1:0");
/// assert!(c.enabled);
/// let c = ProxyConfig::from_json(&serde_json::json!({
///     "name": "db", "upstream": "127.0.0.1:5432", "enabled": false
/// })).unwrap();
/// assert_eq!((c.listen.as_str(), c.enabled), ("127.0.0.1:0", false));
/// let err = ProxyConfig::from_json(&serde_json::json!({"name": "db"})).unwrap_err();
/// assert_eq!(err.status(), 400);
/// assert!(err.message().contains("`upstream` of proxy `db`"), "{err}");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyConfig {
    /// Its name, unique in the server.
    pub name: String,
    /// The address it listens on (`host:port`; port 0 picks a free one).
    pub listen: String,
    /// The address it forwards to (`host:port`).
    pub upstream: String,
    /// Whether it accepts connections (default true).
    pub enabled: bool,
}

impl ProxyConfig {
    /// A proxy `name` to `upstream`, on [`DEFAULT_LISTEN`], enabled.
    pub fn new(name: impl Into<String>, upstream: impl Into<String>) -> ProxyConfig {
        ProxyConfig {
            name: name.into(),
            upstream: upstream.into(),
            listen: DEFAULT_LISTEN.into(),
            enabled: true,
        }
    }

    /// Listens on `listen`.
    pub fn listen(mut self, listen: impl Into<String>) -> ProxyConfig {
        self.listen = listen.into();
        self
    }

    /// Enabled or not.
    pub fn enabled(mut self, enabled: bool) -> ProxyConfig {
        self.enabled = enabled;
        self
    }

    /// A proxy from Toxiproxy's JSON (`name` and `upstream` required; `listen` and `enabled`
    /// optional; `toxics` and unknown keys ignored, as Toxiproxy does).
    ///
    /// # Errors
    /// 400: not an object, a field of the wrong type, `name` or `upstream` missing.
    pub fn from_json(value: &Value) -> Result<ProxyConfig, ApiError> {
        ProxyConfig::parse(value, None)
    }

    /// As [`ProxyConfig::from_json`]; `index` (from 1) names the proxy in a populate list.
    pub(super) fn parse(value: &Value, index: Option<usize>) -> Result<ProxyConfig, ApiError> {
        let input = ProxyInput::parse(value, index)?;
        let whose = whose(input.name.as_deref(), index);
        let name = match &input.name {
            Some(n) if !n.is_empty() => n.clone(),
            _ => return Err(input.missing("name", &whose)),
        };
        let upstream = match &input.upstream {
            Some(u) if !u.is_empty() => u.clone(),
            _ => return Err(input.missing("upstream", &whose)),
        };
        Ok(ProxyConfig {
            name,
            listen: input
                .listen
                .filter(|l| !l.is_empty())
                .unwrap_or_else(|| DEFAULT_LISTEN.into()),
            upstream,
            enabled: input.enabled.unwrap_or(true),
        })
    }

    /// The proxies of a populate body: a JSON array of proxies, each checked before any is
    /// created, as Toxiproxy does.
    ///
    /// # Errors
    /// 400: not an array, or a proxy in it is wrong (named by its place, from 1).
    pub fn list_from_json(value: &Value) -> Result<Vec<ProxyConfig>, ApiError> {
        let Some(items) = value.as_array() else {
            return Err(ApiError::bad_body(
                "a JSON array of proxies, each {\"name\", \"listen\", \"upstream\", \"enabled\"}",
                format!("got {}", kind_of(value)),
            ));
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| ProxyConfig::parse(item, Some(i + 1)))
            .collect()
    }
}

/// A change to a proxy, as Toxiproxy's `POST`/`PATCH /proxies/{proxy}` takes it: the fields
/// given replace the proxy's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProxyPatch {
    /// A new listen address.
    pub listen: Option<String>,
    /// A new upstream.
    pub upstream: Option<String>,
    /// Enables or disables it.
    pub enabled: Option<bool>,
}

impl ProxyPatch {
    /// The change in a proxy update's body (`listen`, `upstream`, `enabled`; `name`, `toxics`
    /// and unknown keys ignored, as Toxiproxy does).
    ///
    /// ```
    /// use chaos_runtime::target::proxy::server::ProxyPatch;
    /// let p = ProxyPatch::from_json("db", &serde_json::json!({"enabled": false})).unwrap();
    /// assert_eq!(p.enabled, Some(false));
    /// let err = ProxyPatch::from_json("db", &serde_json::json!({"enabled": "no"})).unwrap_err();
    /// assert!(err.message().contains("`enabled` of proxy `db` must be true or false"), "{err}");
    /// ```
    ///
    /// # Errors
    /// 400: not an object, or a field of the wrong type.
    pub fn from_json(proxy: &str, value: &Value) -> Result<ProxyPatch, ApiError> {
        let input = ProxyInput::parse_named(value, proxy)?;
        Ok(ProxyPatch {
            listen: input.listen.filter(|l| !l.is_empty()),
            upstream: input.upstream.filter(|u| !u.is_empty()),
            enabled: input.enabled,
        })
    }
}

/// The fields of a proxy body, each checked for its type.
struct ProxyInput {
    name: Option<String>,
    listen: Option<String>,
    upstream: Option<String>,
    enabled: Option<bool>,
    /// Keys that are not a proxy's: ignored, as Toxiproxy does, but named in the errors.
    unknown: Vec<String>,
}

const PROXY_SHAPE: &str =
    "a proxy as a JSON object {\"name\", \"listen\", \"upstream\", \"enabled\"}";

impl ProxyInput {
    fn parse(value: &Value, index: Option<usize>) -> Result<ProxyInput, ApiError> {
        ProxyInput::fields(
            value,
            &whose(value.get("name").and_then(Value::as_str), index),
        )
    }

    fn parse_named(value: &Value, name: &str) -> Result<ProxyInput, ApiError> {
        ProxyInput::fields(value, &format!("proxy `{name}`"))
    }

    fn fields(value: &Value, whose: &str) -> Result<ProxyInput, ApiError> {
        let Some(obj) = value.as_object() else {
            return Err(ApiError::bad_body(
                PROXY_SHAPE,
                format!("got {} for {whose}", kind_of(value)),
            ));
        };
        let text = |key: &str| -> Result<Option<String>, ApiError> {
            match obj.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(v) => Err(ApiError::new(
                    400,
                    format!("bad request body: `{key}` of {whose} must be a string (got {v})"),
                )),
            }
        };
        let enabled = match obj.get("enabled") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(v) => {
                return Err(ApiError::new(
                    400,
                    format!(
                        "bad request body: `enabled` of {whose} must be true or false (got {v})"
                    ),
                ))
            }
        };
        const KNOWN: [&str; 5] = ["name", "listen", "upstream", "enabled", "toxics"];
        let unknown: Vec<String> = obj
            .keys()
            .filter(|k| !KNOWN.contains(&k.as_str()))
            .cloned()
            .collect();
        if !unknown.is_empty() {
            tracing::debug!(proxy = whose, ?unknown, "unknown proxy fields ignored");
        }
        Ok(ProxyInput {
            name: text("name")?,
            listen: text("listen")?,
            upstream: text("upstream")?,
            enabled,
            unknown,
        })
    }

    fn missing(&self, field: &str, whose: &str) -> ApiError {
        let e = ApiError::missing_field(field, whose);
        if self.unknown.is_empty() {
            return e;
        }
        ApiError::new(
            e.status(),
            format!(
                "{} (unknown fields, ignored: {}; the fields are name, listen, upstream, enabled)",
                e.message(),
                self.unknown.join(", ")
            ),
        )
    }
}

/// How errors name a proxy: by its name if it has one, by its place in a populate list.
fn whose(name: Option<&str>, index: Option<usize>) -> String {
    match (name.filter(|n| !n.is_empty()), index) {
        (Some(n), Some(i)) => format!("proxy `{n}` (proxy {i} of the list)"),
        (Some(n), None) => format!("proxy `{n}`"),
        (None, Some(i)) => format!("proxy {i} of the list"),
        (None, None) => "the proxy".into(),
    }
}

/// What a JSON value is, for errors.
fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A proxy as Toxiproxy shows it: `name`, `listen` (the address bound), `upstream`, `enabled`,
/// `toxics`.
pub(super) fn proxy_json(proxy: &Proxy) -> Value {
    json!({
        "name": proxy.name(),
        "listen": proxy.addr().to_string(),
        "upstream": proxy.upstream(),
        "enabled": proxy.is_enabled(),
        "toxics": toxics_json(&toxics_in_order(proxy)),
    })
}

/// Proxies by name, as `GET /proxies` shows them.
pub(super) fn proxies_json<'a>(proxies: impl IntoIterator<Item = &'a Proxy>) -> Value {
    let map: Map<String, Value> = proxies
        .into_iter()
        .map(|p| (p.name().to_owned(), proxy_json(p)))
        .collect();
    Value::Object(map)
}

/// Toxics as a JSON array.
pub(super) fn toxics_json(toxics: &[Toxic]) -> Value {
    Value::Array(toxics.iter().map(Toxic::to_json).collect())
}

/// A proxy's toxics in Toxiproxy's order: the upstream ones, then the downstream ones, each
/// in the order they were added.
pub(super) fn toxics_in_order(proxy: &Proxy) -> Vec<Toxic> {
    let (mut up, down): (Vec<Toxic>, Vec<Toxic>) = proxy
        .toxics()
        .into_iter()
        .partition(|t| t.stream() == Stream::Upstream);
    up.extend(down);
    up
}
