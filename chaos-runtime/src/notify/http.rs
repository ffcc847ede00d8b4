//! [`HttpChannel`]: events POSTed as JSON (Chaos Toolkit's HTTP notification channel).

use super::channel::accepts;
use super::{Channel, ChannelError, DeliveryPolicy, Notification};
use crate::error::BoxError;

/// An HTTP channel: POSTs the event as JSON (or sends a bare GET when
/// `forward_event_payload` is off), with headers, TLS verification, timeout and retries.
pub struct HttpChannel {
    name: String,
    url: String,
    headers: Vec<(String, String)>,
    forward_event_payload: bool,
    events: Option<Vec<String>>,
    policy: DeliveryPolicy,
    client: reqwest::Client,
}

/// The settings of an [`HttpChannel`].
#[derive(Clone, Debug)]
pub struct HttpChannelConfig {
    /// The channel's name.
    pub name: String,
    /// Where to send events.
    pub url: String,
    /// Headers to send (their values are the channel's own: they are sent as configured).
    pub headers: Vec<(String, String)>,
    /// Verify the receiver's TLS certificate (default true).
    pub verify_tls: bool,
    /// POST the event as JSON (true, the default) or send a bare GET (false).
    pub forward_event_payload: bool,
    /// Events to send (`None`: all).
    pub events: Option<Vec<String>>,
    /// Timeout, retries and backoff.
    pub policy: DeliveryPolicy,
}

impl HttpChannel {
    /// Builds the channel.
    pub fn new(config: HttpChannelConfig) -> Result<HttpChannel, ChannelError> {
        let client = channel_client(&config.name, &config.url, config.verify_tls)?;
        Ok(HttpChannel {
            name: config.name,
            url: config.url,
            headers: config.headers,
            forward_event_payload: config.forward_event_payload,
            events: config.events,
            policy: config.policy,
            client,
        })
    }
}

/// The HTTP client of a channel: without root certificates for plain `http://` receivers (no
/// certificate store to load), accepting any certificate when `verify_tls` is off.
pub(super) fn channel_client(
    channel: &str,
    url: &str,
    verify_tls: bool,
) -> Result<reqwest::Client, ChannelError> {
    crate::tls::install_provider();
    let mut builder =
        reqwest::Client::builder().user_agent(concat!("chaos-harness/", env!("CARGO_PKG_VERSION")));
    if !verify_tls {
        builder = builder.tls_danger_accept_invalid_certs(true);
    } else if !url.to_ascii_lowercase().starts_with("https://") {
        builder = builder.tls_certs_only(Vec::new());
    }
    builder.build().map_err(|e| ChannelError {
        channel: channel.to_owned(),
        message: crate::error::error_chain(&e),
    })
}

impl Channel for HttpChannel {
    fn name(&self) -> &str {
        &self.name
    }
    fn accepts(&self, event: &str) -> bool {
        accepts(&self.events, event)
    }
    fn policy(&self) -> DeliveryPolicy {
        self.policy
    }
    async fn deliver(&self, n: &Notification) -> Result<(), BoxError> {
        {
            let mut req = if self.forward_event_payload {
                self.client
                    .post(&self.url)
                    .header("content-type", "application/json")
                    .body(n.body().to_string())
            } else {
                self.client.get(&self.url)
            };
            for (k, v) in &self.headers {
                req = req.header(k, v);
            }
            req = req
                .header("x-chaos-event", n.name)
                .header("x-chaos-event-seq", n.seq.to_string());
            let resp = req.send().await?;
            let status = resp.status();
            if status.as_u16() > 399 {
                let text = answer_text(&resp.text().await.unwrap_or_default());
                return Err(format!("{} answered {status}: {text}", self.url).into());
            }
            Ok(())
        }
    }
}

/// The longest part of a receiver's answer a delivery error quotes, in characters.
const ANSWER_CHARS: usize = 200;

/// A receiver's answer as a delivery error quotes it: redacted, then cut to [`ANSWER_CHARS`]
/// (a receiver may echo what it was sent; redacting first masks a secret across the cut whole).
pub(super) fn answer_text(text: &str) -> String {
    crate::redact::redact_truncated(text, ANSWER_CHARS)
}
