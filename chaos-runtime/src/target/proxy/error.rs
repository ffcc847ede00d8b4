//! [`ProxyError`]: what went wrong, naming the proxy and the toxic or fault it concerns.

use super::toxic::ToxicKind;

/// An error of the proxy target: it names the proxy, the toxic (or HTTP fault) when there is
/// one, and the field.
///
/// ```
/// use chaos_runtime::target::proxy::{ProxyErrorKind, Toxic};
/// let err = Toxic::from_json("db", &serde_json::json!({"type": "jitter"})).unwrap_err();
/// assert_eq!(err.proxy(), "db");
/// assert!(matches!(err.kind(), ProxyErrorKind::UnknownType { .. }));
/// ```
#[derive(Debug, thiserror::Error)]
#[error("proxy `{proxy}`{}: {kind}", toxic.as_ref().map(|t| format!(", toxic `{t}`")).unwrap_or_default())]
pub struct ProxyError {
    proxy: String,
    toxic: Option<String>,
    kind: ProxyErrorKind,
}

impl ProxyError {
    pub(crate) fn new(
        proxy: impl Into<String>,
        toxic: Option<String>,
        kind: ProxyErrorKind,
    ) -> ProxyError {
        ProxyError {
            proxy: proxy.into(),
            toxic,
            kind,
        }
    }

    /// The proxy's name.
    pub fn proxy(&self) -> &str {
        &self.proxy
    }

    /// The toxic's (or HTTP fault's) name, if the error concerns one.
    pub fn toxic(&self) -> Option<&str> {
        self.toxic.as_deref()
    }

    /// What went wrong.
    pub fn kind(&self) -> &ProxyErrorKind {
        &self.kind
    }

    /// What went wrong, without the names (to re-attach to another context).
    pub(crate) fn into_kind(self) -> ProxyErrorKind {
        self.kind
    }
}

/// What went wrong in a [`ProxyError`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyErrorKind {
    /// A toxic type that does not exist.
    #[error("unknown toxic type `{found}`; the types are {}", ToxicKind::TYPES.join(", "))]
    UnknownType {
        /// The type given.
        found: String,
    },
    /// A toxic without a `type`.
    #[error("`type` is missing; the types are {}", ToxicKind::TYPES.join(", "))]
    MissingType,
    /// A key that is not one of the valid ones.
    #[error("unknown field `{field}`; the fields are {valid}")]
    UnknownAttribute {
        /// The key given.
        field: String,
        /// The valid keys, comma-separated.
        valid: String,
    },
    /// A field with a value out of range or of the wrong type.
    #[error("`{field}` {problem}")]
    Field {
        /// The field.
        field: &'static str,
        /// What is wrong with its value.
        problem: String,
    },
    /// JSON that should be an object.
    #[error("expected {what} as a JSON object")]
    NotAnObject {
        /// What was expected.
        what: &'static str,
    },
    /// A toxic (or fault) name that the proxy already has.
    #[error("a toxic of this name already exists on the proxy")]
    ToxicExists,
    /// A proxy name already in use in the same registry.
    #[error("a proxy of this name already exists")]
    ProxyExists,
    /// No toxic (or fault) of this name.
    #[error("no such toxic on the proxy")]
    NoSuchToxic,
    /// An upstream address that does not resolve.
    #[error("upstream `{upstream}` does not resolve: {reason}")]
    Upstream {
        /// The address given.
        upstream: String,
        /// Why.
        reason: String,
    },
    /// The listen address could not be bound.
    #[error("cannot listen on `{listen}`: {source}")]
    Listen {
        /// The address.
        listen: String,
        /// The error.
        source: std::io::Error,
    },
    /// An HTTP fault on a proxy that is not in HTTP mode, or an HTTP fault that is wrong.
    #[error("{0}")]
    Http(String),
}
