//! [`ApiError`]: an error of the API as Toxiproxy answers it, a status and a message, and
//! [`ServerError`], what stops the server itself.

use crate::target::proxy::{ProxyError, ProxyErrorKind};
use serde_json::{json, Value};
use std::path::PathBuf;

/// An error answered by the API: an HTTP status and a message, sent as Toxiproxy's body
/// `{"error": "...", "status": N}`.
///
/// The statuses are Toxiproxy's (404 for a missing proxy or toxic, 409 for a name taken, 400
/// for a bad body or field, 500 when a listen address cannot be bound); each message starts
/// with Toxiproxy's words for the error (`proxy not found`, `toxic already exists`...), then
/// names the proxy, the toxic and the field concerned.
///
/// ```
/// use chaos_runtime::target::proxy::server::ApiError;
/// let e = ApiError::new(404, "proxy not found: no proxy `db`");
/// assert_eq!(e.status(), 404);
/// assert_eq!(e.to_json()["error"], "proxy not found: no proxy `db`");
/// assert_eq!(e.to_json()["status"], 404);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    status: u16,
    message: String,
}

impl ApiError {
    /// An error with this status and message.
    pub fn new(status: u16, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Toxiproxy's error body: `{"error": message, "status": status}`.
    pub fn to_json(&self) -> Value {
        json!({ "error": self.message, "status": self.status })
    }

    /// 400, a request body that is not the JSON expected.
    pub(super) fn bad_body(what: &str, problem: impl std::fmt::Display) -> ApiError {
        ApiError::new(
            400,
            format!("bad request body: {problem} (expected {what})"),
        )
    }

    /// 400, a required field that is missing or empty.
    pub(super) fn missing_field(field: &str, whose: &str) -> ApiError {
        ApiError::new(
            400,
            format!("missing required field: `{field}` of {whose} is missing or empty"),
        )
    }

    /// 404, no proxy `name` among `existing`.
    pub(super) fn proxy_not_found(name: &str, existing: &[String]) -> ApiError {
        ApiError::new(
            404,
            format!(
                "proxy not found: no proxy `{name}`; {}",
                listing("proxies", existing)
            ),
        )
    }

    /// 409, a proxy `name` exists already.
    pub(super) fn proxy_exists(name: &str, listen: &str, upstream: &str) -> ApiError {
        ApiError::new(
            409,
            format!(
                "proxy already exists: proxy `{name}` exists (listening on {listen}, upstream \
                 {upstream}); delete it first, or use POST /populate to replace it"
            ),
        )
    }

    /// 404, no toxic `toxic` on proxy `proxy`, whose toxics are `existing`.
    pub(super) fn toxic_not_found(proxy: &str, toxic: &str, existing: &[String]) -> ApiError {
        ApiError::new(
            404,
            format!(
                "toxic not found: proxy `{proxy}` has no toxic `{toxic}`; {}",
                listing("toxics", existing)
            ),
        )
    }

    /// 404 with Toxiproxy's words for the method and path that match no endpoint.
    pub(super) fn no_route(method: &str, path: &str) -> ApiError {
        ApiError::new(
            404,
            format!(
                "404 page not found: no endpoint {method} {path}; the endpoints are /proxies, \
                 /proxies/{{proxy}}, /proxies/{{proxy}}/toxics, \
                 /proxies/{{proxy}}/toxics/{{toxic}}, /populate, /reset and /version"
            ),
        )
    }

    /// 405: the path exists, not with this method.
    pub(super) fn method_not_allowed(method: &str, path: &str, allowed: &[&str]) -> ApiError {
        ApiError::new(
            405,
            format!(
                "method not allowed: {path} takes {}, not {method}",
                allowed.join(", ")
            ),
        )
    }
}

/// "the proxies are a, b" or "there are no proxies".
fn listing(what: &str, names: &[String]) -> String {
    if names.is_empty() {
        format!("there are no {what}")
    } else {
        let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
        format!("the {what} are {}", quoted.join(", "))
    }
}

impl From<ProxyError> for ApiError {
    /// The status Toxiproxy gives the same error, and Toxiproxy's words before ours.
    fn from(e: ProxyError) -> ApiError {
        let (status, prefix) = match e.kind() {
            ProxyErrorKind::ToxicExists => (409, "toxic already exists"),
            ProxyErrorKind::ProxyExists => (409, "proxy already exists"),
            ProxyErrorKind::NoSuchToxic => (404, "toxic not found"),
            ProxyErrorKind::UnknownType { .. } | ProxyErrorKind::MissingType => {
                (400, "invalid toxic type")
            }
            // Toxiproxy answers 500 when it cannot listen (the error has no status there).
            ProxyErrorKind::Listen { .. } => (500, "cannot start the proxy"),
            _ => (400, "bad request body"),
        };
        ApiError::new(status, format!("{prefix}: {e}"))
    }
}

/// What stops the server: its address cannot be bound, or (for the binary) a flag or the
/// config file is wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The API's listen address does not resolve or cannot be bound.
    #[error("cannot listen on `{addr}`: {source}")]
    Bind {
        /// The address given.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
    /// A command-line flag is unknown or its value is wrong.
    #[error("{0}\n(run with --help for the flags)")]
    Flag(String),
    /// The `-config` file cannot be read, is not a populate JSON array, or a proxy in it
    /// cannot be created.
    #[error("config file `{}`: {problem}", path.display())]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
}
