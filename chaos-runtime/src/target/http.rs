//! The HTTP target: requests with method, headers, body and timeout; status, headers, body and
//! latency as probe values.
//!
//! ```no_run
//! # async fn probe() -> Result<u16, chaos_runtime::BoxError> {
//! use chaos_runtime::target::http;
//! let resp = http::get("http://127.0.0.1:8080/health")
//!     .header("accept", "application/json")
//!     .timeout(std::time::Duration::from_secs(2))
//!     .await?;
//! Ok(resp.status())
//! # }
//! ```

use serde::Serialize;
use std::collections::BTreeMap;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A request under construction; `.await` it (or call [`Request::send`]) to send it.
#[derive(Clone, Debug)]
#[must_use = "a request does nothing until it is awaited"]
pub struct Request {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    timeout: Option<Duration>,
}

/// A `GET` request to `url`.
pub fn get(url: impl Into<String>) -> Request {
    request("GET", url)
}

/// A `POST` request to `url`.
pub fn post(url: impl Into<String>) -> Request {
    request("POST", url)
}

/// A request with any method (`PUT`, `DELETE`, `PATCH`, `HEAD`, ...).
pub fn request(method: impl Into<String>, url: impl Into<String>) -> Request {
    Request {
        method: method.into(),
        url: url.into(),
        headers: Vec::new(),
        body: None,
        timeout: None,
    }
}

impl Request {
    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Authenticates with `credentials`: a bearer token when they have one, else basic
    /// authentication with the user name and password. The header's value is secret.
    ///
    /// ```
    /// use chaos_runtime::{credentials::Credentials, target::http};
    /// let req = http::get("http://127.0.0.1:1/").credentials(&Credentials::from_token("doc-token-value"));
    /// ```
    pub fn credentials(self, credentials: &crate::credentials::Credentials) -> Self {
        match credentials.bearer().or_else(|| credentials.basic()) {
            Some(value) => {
                crate::redact::register(&value);
                self.header("authorization", value)
            }
            None => self,
        }
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// Sets a JSON body and the `content-type` header.
    pub fn json(self, value: &impl Serialize) -> Result<Self, HttpError> {
        let body = serde_json::to_vec(value).map_err(|e| HttpError::Body {
            url: self.url.clone(),
            message: e.to_string(),
        })?;
        Ok(self.header("content-type", "application/json").body(body))
    }

    /// Fails the request (as an error) after `d`, connection and body included.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = Some(d);
        self
    }

    /// Sends the request.
    pub async fn send(self) -> Result<Response, HttpError> {
        let method =
            reqwest::Method::from_bytes(self.method.as_bytes()).map_err(|_| HttpError::Method {
                method: self.method.clone(),
            })?;
        let context = |e: reqwest::Error, timeout: Option<Duration>| {
            if e.is_timeout() {
                HttpError::Timeout {
                    method: self.method.clone(),
                    url: self.url.clone(),
                    timeout: timeout.unwrap_or_default(),
                }
            } else {
                HttpError::Request {
                    method: self.method.clone(),
                    url: self.url.clone(),
                    message: crate::error::error_chain(&e),
                }
            }
        };
        let mut req = client_for(&self.url)?.request(method, &self.url);
        for (k, v) in &self.headers {
            req = req.header(k, v);
        }
        if let Some(b) = &self.body {
            req = req.body(b.clone());
        }
        if let Some(t) = self.timeout {
            req = req.timeout(t);
        }
        let started = Instant::now();
        let resp = req.send().await.map_err(|e| context(e, self.timeout))?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = resp.text().await.map_err(|e| context(e, self.timeout))?;
        Ok(Response {
            status,
            headers,
            body,
            latency: started.elapsed(),
        })
    }
}

impl IntoFuture for Request {
    type Output = Result<Response, HttpError>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

/// The client for `url`. Plain `http://` URLs use a client without root certificates, so
/// probing a local service never pays for (or depends on) loading the system's certificate
/// store; `https://` URLs use a client that verifies with the platform's roots, built on first
/// use. (A plain-HTTP URL that redirects to HTTPS fails certificate verification: probe the
/// HTTPS URL directly.)
fn client_for(url: &str) -> Result<&'static reqwest::Client, HttpError> {
    static PLAIN: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    static TLS: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    let https = url
        .get(..8)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"));
    let client = if https {
        TLS.get_or_init(|| build(false))
    } else {
        PLAIN.get_or_init(|| build(true))
    };
    client.as_ref().map_err(|message| HttpError::Client {
        message: message.clone(),
    })
}

fn build(plain: bool) -> Result<reqwest::Client, String> {
    crate::tls::install_provider();
    // No idle connections are kept: each run has its own runtime, and a pooled connection
    // belongs to the runtime that opened it.
    let mut builder = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .user_agent(concat!("chaos-harness/", env!("CARGO_PKG_VERSION")));
    if plain {
        builder = builder.tls_certs_only(Vec::new());
    }
    builder.build().map_err(|e| crate::error::error_chain(&e))
}

/// An HTTP response, as a probe value. Serializes as
/// `{"status", "headers", "body", "latency_ms"}`.
#[derive(Clone, Debug, Serialize)]
pub struct Response {
    status: u16,
    headers: BTreeMap<String, String>,
    body: String,
    #[serde(rename = "latency_ms", serialize_with = "millis")]
    latency: Duration,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}

impl Response {
    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }
    /// The headers (lower-case names; repeated headers keep the last value).
    pub fn headers(&self) -> &BTreeMap<String, String> {
        &self.headers
    }
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
    /// The body, as text.
    pub fn body(&self) -> &str {
        &self.body
    }
    /// The body parsed as JSON.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, HttpError> {
        serde_json::from_str(&self.body).map_err(|e| HttpError::Body {
            url: String::new(),
            message: e.to_string(),
        })
    }
    /// Time from sending the request to the end of the body.
    pub fn latency(&self) -> Duration {
        self.latency
    }
}

/// An HTTP request failed.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The method is not a valid HTTP method.
    #[error("`{method}` is not an HTTP method")]
    Method {
        /// The method.
        method: String,
    },
    /// The HTTP client could not be set up (for HTTPS: no usable root certificates).
    #[error("the HTTP client could not be set up: {message}")]
    Client {
        /// What went wrong.
        message: String,
    },
    /// The request could not be sent or its response read.
    #[error("{method} {url}: {message}")]
    Request {
        /// The method.
        method: String,
        /// The URL.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The request's timeout passed.
    #[error("{method} {url}: no response within {}", crate::time::human(*timeout))]
    Timeout {
        /// The method.
        method: String,
        /// The URL.
        url: String,
        /// The timeout.
        timeout: Duration,
    },
    /// A body could not be encoded or decoded.
    #[error("body of {url}: {message}")]
    Body {
        /// The URL.
        url: String,
        /// What went wrong.
        message: String,
    },
}
