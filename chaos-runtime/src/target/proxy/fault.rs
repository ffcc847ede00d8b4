//! [`HttpFault`]: a fault on the requests of a proxy in HTTP mode, and [`Fault`], what a
//! proxy takes: a toxic or an HTTP fault.

use super::error::{ProxyError, ProxyErrorKind};
use super::toxic::Toxic;
use serde_json::{json, Value};
use std::time::Duration;

/// What an [`HttpFault`] does to a request it hits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HttpAction {
    /// Answers this status (with an empty body) instead of forwarding the request.
    Status(u16),
    /// Forwards the request after this delay.
    Delay(Duration),
    /// Closes the client's connection without an answer.
    Abort,
}

/// A fault on the HTTP/1.1 requests through a proxy in HTTP mode
/// ([`ProxyBuilder::http`](super::ProxyBuilder::http)): the requests that match its method
/// and path prefix are hit with probability `toxicity` (drawn from the run's seed, request by
/// request in the order they arrive); the others pass untouched.
///
/// ```
/// use chaos_runtime::target::proxy::{HttpAction, HttpFault};
/// let f = HttpFault::status(503).method("GET").path("/api/").toxicity(0.5);
/// assert_eq!(f.name(), "http_status");
/// assert!(f.matches("GET", "/api/orders"));
/// assert!(!f.matches("POST", "/api/orders"));
/// assert!(!f.matches("GET", "/health"));
/// assert_eq!(f.action(), &HttpAction::Status(503));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct HttpFault {
    name: Option<String>,
    method: Option<String>,
    path: String,
    toxicity: f64,
    action: HttpAction,
}

impl HttpFault {
    /// A fault doing `action` to every request.
    pub fn new(action: HttpAction) -> HttpFault {
        HttpFault {
            name: None,
            method: None,
            path: "/".into(),
            toxicity: 1.0,
            action,
        }
    }

    /// Answers `status` instead of forwarding.
    pub fn status(status: u16) -> HttpFault {
        HttpFault::new(HttpAction::Status(status))
    }

    /// Delays the request by `delay` before forwarding it.
    pub fn delay(delay: Duration) -> HttpFault {
        HttpFault::new(HttpAction::Delay(delay))
    }

    /// Closes the connection instead of answering.
    pub fn abort() -> HttpFault {
        HttpFault::new(HttpAction::Abort)
    }

    /// Only requests with this method (`GET`, `POST`...; any by default).
    pub fn method(mut self, method: impl Into<String>) -> HttpFault {
        self.method = Some(method.into().to_ascii_uppercase());
        self
    }

    /// Only requests whose path starts with `prefix` (default `/`: all).
    pub fn path(mut self, prefix: impl Into<String>) -> HttpFault {
        self.path = prefix.into();
        self
    }

    /// The probability, in `0.0..=1.0`, that a matching request is hit (default 1).
    pub fn toxicity(mut self, toxicity: f64) -> HttpFault {
        self.toxicity = toxicity;
        self
    }

    /// Names the fault (default `http_status`, `http_delay` or `http_abort`); names are
    /// unique within a proxy, toxics included.
    pub fn named(mut self, name: impl Into<String>) -> HttpFault {
        self.name = Some(name.into());
        self
    }

    /// The fault's name.
    pub fn name(&self) -> String {
        self.name.clone().unwrap_or_else(|| {
            match self.action {
                HttpAction::Status(_) => "http_status",
                HttpAction::Delay(_) => "http_delay",
                HttpAction::Abort => "http_abort",
            }
            .into()
        })
    }

    /// What it does.
    pub fn action(&self) -> &HttpAction {
        &self.action
    }

    /// Its toxicity.
    pub fn probability(&self) -> f64 {
        self.toxicity
    }

    /// Whether a request with `method` and `path` is one it may hit.
    pub fn matches(&self, method: &str, path: &str) -> bool {
        self.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && path.starts_with(&self.path)
    }

    /// The fault as JSON, as the journal records it.
    pub fn to_json(&self) -> Value {
        let (action, value) = match &self.action {
            HttpAction::Status(s) => ("status", json!(s)),
            HttpAction::Delay(d) => ("delay_ms", json!(d.as_millis() as u64)),
            HttpAction::Abort => ("abort", json!(true)),
        };
        json!({
            "name": self.name(),
            "type": "http",
            "method": self.method,
            "path": self.path,
            "toxicity": self.toxicity,
            action: value,
        })
    }

    pub(super) fn validate(&self, proxy: &str) -> Result<(), ProxyError> {
        let err = |field, problem: String| {
            Err(ProxyError::new(
                proxy,
                Some(self.name()),
                ProxyErrorKind::Field { field, problem },
            ))
        };
        if !(0.0..=1.0).contains(&self.toxicity) {
            return err(
                "toxicity",
                format!("must be in 0..=1 (got {})", self.toxicity),
            );
        }
        if let HttpAction::Status(s) = self.action {
            if !(100..=999).contains(&s) {
                return err(
                    "status",
                    format!("must be an HTTP status, 100..=999 (got {s})"),
                );
            }
        }
        if !self.path.starts_with('/') {
            return err("path", format!("must start with `/` (got {:?})", self.path));
        }
        Ok(())
    }
}

/// What a proxy takes: a [`Toxic`] on its byte streams, or an [`HttpFault`] on its requests.
/// Both convert into it, so [`Proxy::add`](super::Proxy::add) takes either.
///
/// ```
/// use chaos_runtime::target::proxy::{Fault, HttpFault, Toxic};
/// let f: Fault = Toxic::down().into();
/// assert_eq!(f.name(), "down_downstream");
/// let f: Fault = HttpFault::abort().into();
/// assert_eq!(f.to_json()["type"], "http");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// A toxic.
    Toxic(Toxic),
    /// An HTTP fault.
    Http(HttpFault),
}

impl Fault {
    /// Its name.
    pub fn name(&self) -> String {
        match self {
            Fault::Toxic(t) => t.name(),
            Fault::Http(f) => f.name(),
        }
    }

    /// Its JSON, as the journal records it.
    pub fn to_json(&self) -> Value {
        match self {
            Fault::Toxic(t) => t.to_json(),
            Fault::Http(f) => f.to_json(),
        }
    }
}

impl From<Toxic> for Fault {
    fn from(t: Toxic) -> Fault {
        Fault::Toxic(t)
    }
}

impl From<HttpFault> for Fault {
    fn from(f: HttpFault) -> Fault {
        Fault::Http(f)
    }
}
