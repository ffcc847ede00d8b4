//! `[[notifications]]`: the channels events are sent to (HTTP, Slack), with their delivery
//! policy and the events each is for.

use super::parse::{join, Entry, Format, Node, NodeValue, Parser, Res};
use super::secrets::SettingValue;
use crate::redact::Secret;
use std::time::Duration;

/// A notification channel's timeout per delivery attempt, by default.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(chaos_runtime::settings::DEFAULT_CHANNEL_TIMEOUT, Duration::from_secs(3));
/// ```
pub const DEFAULT_CHANNEL_TIMEOUT: Duration = Duration::from_secs(3);

/// How many times a notification channel retries a failed delivery, by default.
///
/// ```
/// assert_eq!(chaos_runtime::settings::DEFAULT_RETRIES, 2);
/// ```
pub const DEFAULT_RETRIES: u32 = 2;

/// A notification channel's first pause between retries, by default (doubled each retry).
///
/// ```
/// use std::time::Duration;
/// assert_eq!(chaos_runtime::settings::DEFAULT_BACKOFF, Duration::from_millis(200));
/// ```
pub const DEFAULT_BACKOFF: Duration = Duration::from_millis(200);

pub(super) const CHANNEL_TYPES: &[&str] = &["http", "slack"];
pub(super) const HTTP_KEYS: &[&str] = &[
    "type",
    "name",
    "url",
    "headers",
    "verify_tls",
    "forward_event_payload",
    "timeout",
    "retries",
    "backoff",
    "events",
];
pub(super) const SLACK_KEYS: &[&str] = &[
    "type",
    "name",
    "webhook_url",
    "timeout",
    "retries",
    "backoff",
    "events",
];
/// Chaos Toolkit events with no counterpart here, ignored in `settings.yaml`.
const CTK_ONLY_EVENTS: &[&str] = &[
    "discovery-started",
    "discovery-failed",
    "discovery-completed",
    "init-started",
    "init-failed",
    "init-completed",
];

/// One `[[notifications]]` entry.
///
/// ```
/// use chaos_runtime::settings::{ChannelSettings, HttpChannelSettings, SettingValue};
/// let mut http = HttpChannelSettings::new("audit", SettingValue::Plain("http://127.0.0.1:9/".into()));
/// http.events = Some(vec!["run-failed".into()]);
/// let channel = ChannelSettings::Http(http);
/// assert_eq!(channel.name(), "audit");
/// assert!(channel.accepts("run-failed") && !channel.accepts("run-completed"));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum ChannelSettings {
    /// `type = "http"`: Chaos Toolkit's HTTP notification.
    Http(HttpChannelSettings),
    /// `type = "slack"`: a Slack incoming webhook.
    Slack(SlackChannelSettings),
}

impl ChannelSettings {
    /// The channel's name, for verdicts, journals and logs.
    pub fn name(&self) -> &str {
        match self {
            ChannelSettings::Http(c) => &c.name,
            ChannelSettings::Slack(c) => &c.name,
        }
    }

    /// The events the channel is for; `None`: all of them.
    pub fn events(&self) -> Option<&[String]> {
        match self {
            ChannelSettings::Http(c) => c.events.as_deref(),
            ChannelSettings::Slack(c) => c.events.as_deref(),
        }
    }

    /// Whether the channel is for the event named `event` (`run-failed`, ...).
    pub fn accepts(&self, event: &str) -> bool {
        self.events()
            .is_none_or(|events| events.iter().any(|e| e == event))
    }
}

/// `type = "http"`: sends each event to a URL (Chaos Toolkit's HTTP notification).
///
/// ```
/// use chaos_runtime::settings::{HttpChannelSettings, SettingValue};
/// let http = HttpChannelSettings::new("audit", SettingValue::Plain("http://127.0.0.1:9/".into()));
/// assert!(http.verify_tls && http.forward_event_payload && http.events.is_none());
/// assert_eq!((http.timeout.as_secs(), http.retries, http.backoff.as_millis()), (3, 2, 200));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct HttpChannelSettings {
    /// `name` (default `http[<index>]`, the entry's index among `[[notifications]]`).
    pub name: String,
    /// `url` (required).
    pub url: SettingValue,
    /// `headers`, in file order.
    pub headers: Vec<(String, SettingValue)>,
    /// `verify_tls` (default `true`).
    pub verify_tls: bool,
    /// `forward_event_payload` (default `true`): POST the event as JSON; `false`: a bare GET.
    pub forward_event_payload: bool,
    /// `timeout` per attempt (default 3s).
    pub timeout: Duration,
    /// `retries` after a failed attempt (default 2).
    pub retries: u32,
    /// `backoff`: the pause before the first retry, doubled for each next one (default
    /// 200ms).
    pub backoff: Duration,
    /// `events`: the events sent (`None`: all).
    pub events: Option<Vec<String>>,
}

impl HttpChannelSettings {
    /// A channel named `name` sending to `url`, with the defaults for everything else.
    ///
    /// ```
    /// use chaos_runtime::settings::{HttpChannelSettings, SettingValue};
    /// let http = HttpChannelSettings::new("audit", SettingValue::Plain("http://127.0.0.1:9/".into()));
    /// assert!(http.headers.is_empty());
    /// ```
    pub fn new(name: impl Into<String>, url: SettingValue) -> Self {
        HttpChannelSettings {
            name: name.into(),
            url,
            headers: Vec::new(),
            verify_tls: true,
            forward_event_payload: true,
            timeout: DEFAULT_CHANNEL_TIMEOUT,
            retries: DEFAULT_RETRIES,
            backoff: DEFAULT_BACKOFF,
            events: None,
        }
    }
}

/// `type = "slack"`: posts a message about each event to a Slack incoming webhook.
///
/// ```
/// use chaos_runtime::redact::Secret;
/// use chaos_runtime::settings::SlackChannelSettings;
/// let slack = SlackChannelSettings::new("ops", Secret::new("https://hooks.slack.test/doc-example"));
/// assert_eq!(format!("{:?}", slack.webhook_url), "***");
/// assert_eq!(slack.retries, 2);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct SlackChannelSettings {
    /// `name` (default `slack[<index>]`).
    pub name: String,
    /// `webhook_url` (required; always secret).
    pub webhook_url: Secret,
    /// `timeout` per attempt (default 3s).
    pub timeout: Duration,
    /// `retries` after a failed attempt (default 2).
    pub retries: u32,
    /// `backoff`: the pause before the first retry, doubled for each next one (default
    /// 200ms).
    pub backoff: Duration,
    /// `events`: the events sent (`None`: all).
    pub events: Option<Vec<String>>,
}

impl SlackChannelSettings {
    /// A channel named `name` posting to `webhook_url`, with the defaults for everything else.
    ///
    /// ```
    /// use chaos_runtime::redact::Secret;
    /// use chaos_runtime::settings::SlackChannelSettings;
    /// let slack = SlackChannelSettings::new("ops", Secret::new("https://hooks.slack.test/doc-new"));
    /// assert!(slack.events.is_none());
    /// ```
    pub fn new(name: impl Into<String>, webhook_url: Secret) -> Self {
        SlackChannelSettings {
            name: name.into(),
            webhook_url,
            timeout: DEFAULT_CHANNEL_TIMEOUT,
            retries: DEFAULT_RETRIES,
            backoff: DEFAULT_BACKOFF,
            events: None,
        }
    }
}

impl Parser<'_> {
    fn url(&self, node: &Node, key: &str) -> Res<SettingValue> {
        let value = self.value(node, key)?;
        let shown = if value.is_secret() {
            "the URL".to_owned()
        } else {
            format!("`{}`", value.expose())
        };
        match reqwest::Url::parse(value.expose()) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(value),
            Ok(url) => Err(self.err(
                node.line,
                key,
                format!(
                    "{shown} has scheme `{}`: expected http or https",
                    url.scheme()
                ),
            )),
            Err(e) => Err(self.err(node.line, key, format!("{shown} is not a valid URL: {e}"))),
        }
    }

    pub(super) fn notifications(&self, node: &Node) -> Res<Vec<ChannelSettings>> {
        let NodeValue::Array(items) = &node.value else {
            let what = match self.format {
                Format::Toml => "an array of tables ([[notifications]])",
                Format::Yaml => "a list of channels",
            };
            return Err(self.expected(node, "notifications", what));
        };
        let mut channels: Vec<ChannelSettings> = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let prefix = format!("notifications[{index}]");
            let entries = self.table(item, &prefix)?;
            let Some(ty) = entries.iter().find(|e| e.key == "type") else {
                return Err(self.err(
                    item.line,
                    &join(&prefix, "type"),
                    format!(
                        "missing required key; valid types: {}",
                        CHANNEL_TYPES.join(", ")
                    ),
                ));
            };
            let ty_key = join(&prefix, "type");
            let channel =
                match self.string(&ty.node, &ty_key)?.as_str() {
                    "http" => ChannelSettings::Http(self.http(index, item, entries)?),
                    "slack" => ChannelSettings::Slack(self.slack(index, item, entries)?),
                    "plugin" if self.format == Format::Yaml => {
                        let module = entries
                            .iter()
                            .find(|e| e.key == "module")
                            .and_then(|e| match &e.node.value {
                                NodeValue::Str(s) => Some(s.as_str()),
                                _ => None,
                            })
                            .unwrap_or("<no module>");
                        tracing::warn!(
                        "{}:{}: {prefix} is the Chaos Toolkit plugin `{module}`, a Python module: \
                         it is skipped; write a custom notification channel in Rust instead",
                        self.file.display(),
                        item.line
                    );
                        continue;
                    }
                    "plugin" => return Err(self.err(
                        ty.node.line,
                        &ty_key,
                        "Chaos Toolkit plugins are Python modules and cannot run here; write a \
                         custom notification channel in Rust instead (valid types: http, slack)",
                    )),
                    other => {
                        return Err(self.err(
                            ty.node.line,
                            &ty_key,
                            format!(
                                "unknown channel type {other:?}; valid types: {}",
                                CHANNEL_TYPES.join(", ")
                            ),
                        ))
                    }
                };
            if let Some(previous) = channels.iter().find(|c| c.name() == channel.name()) {
                let line = entries
                    .iter()
                    .find(|e| e.key == "name")
                    .map_or(item.line, |e| e.node.line);
                return Err(self.err(
                    line,
                    &join(&prefix, "name"),
                    format!("duplicate channel name {:?}", previous.name()),
                ));
            }
            channels.push(channel);
        }
        Ok(channels)
    }

    fn events(&self, node: &Node, key: &str) -> Res<Vec<String>> {
        let NodeValue::Array(items) = &node.value else {
            return Err(self.expected(node, key, "an array of event names"));
        };
        let mut events = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let item_key = format!("{key}[{i}]");
            let name = self.string(item, &item_key)?;
            if self.format == Format::Yaml && CTK_ONLY_EVENTS.contains(&name.as_str()) {
                tracing::warn!(
                    "{}:{}: {item_key}: Chaos Toolkit's event {name:?} has no counterpart here \
                     (there is no discovery or init phase); it is ignored",
                    self.file.display(),
                    item.line
                );
                continue;
            }
            if !crate::event::EVENT_NAMES.contains(&name.as_str()) {
                return Err(self.err(
                    item.line,
                    &item_key,
                    format!(
                        "unknown event {name:?}; valid events: {}",
                        crate::event::EVENT_NAMES.join(", ")
                    ),
                ));
            }
            events.push(name);
        }
        Ok(events)
    }

    fn headers(&self, node: &Node, key: &str) -> Res<Vec<(String, SettingValue)>> {
        let mut headers = Vec::new();
        for e in self.table(node, key)? {
            let sub = join(key, &e.key);
            if reqwest::header::HeaderName::from_bytes(e.key.as_bytes()).is_err() {
                return Err(self.err(e.line, &sub, "not a valid HTTP header name"));
            }
            let value = self.value(&e.node, &sub)?;
            if reqwest::header::HeaderValue::from_str(value.expose()).is_err() {
                return Err(self.err(
                    e.node.line,
                    &sub,
                    "not a valid HTTP header value (it holds a control character or a newline)",
                ));
            }
            headers.push((e.key.clone(), value));
        }
        Ok(headers)
    }

    fn http(&self, index: usize, item: &Node, entries: &[Entry]) -> Res<HttpChannelSettings> {
        let prefix = format!("notifications[{index}]");
        let mut ch =
            HttpChannelSettings::new(format!("http[{index}]"), SettingValue::Plain(String::new()));
        let mut url = None;
        for e in entries {
            let key = join(&prefix, &e.key);
            match e.key.as_str() {
                "type" => {}
                "name" => ch.name = self.non_empty_string(&e.node, &key)?,
                "url" => url = Some(self.url(&e.node, &key)?),
                "headers" => ch.headers = self.headers(&e.node, &key)?,
                "verify_tls" => ch.verify_tls = self.boolean(&e.node, &key)?,
                "forward_event_payload" => {
                    ch.forward_event_payload = self.boolean(&e.node, &key)?
                }
                "timeout" => ch.timeout = self.duration(&e.node, &key)?,
                "retries" => ch.retries = self.count(&e.node, &key)?,
                "backoff" => ch.backoff = self.duration(&e.node, &key)?,
                "events" => ch.events = Some(self.events(&e.node, &key)?),
                _ => return Err(self.unknown_key(e, &prefix, HTTP_KEYS)),
            }
        }
        ch.url = url.ok_or_else(|| {
            self.err(
                item.line,
                &join(&prefix, "url"),
                "missing required key: an http channel needs a url",
            )
        })?;
        Ok(ch)
    }

    fn slack(&self, index: usize, item: &Node, entries: &[Entry]) -> Res<SlackChannelSettings> {
        let prefix = format!("notifications[{index}]");
        let mut name = format!("slack[{index}]");
        let mut webhook = None;
        let (mut timeout, mut retries, mut backoff, mut events) = (
            DEFAULT_CHANNEL_TIMEOUT,
            DEFAULT_RETRIES,
            DEFAULT_BACKOFF,
            None,
        );
        for e in entries {
            let key = join(&prefix, &e.key);
            match e.key.as_str() {
                "type" => {}
                "name" => name = self.non_empty_string(&e.node, &key)?,
                "webhook_url" => {
                    let value = self.url(&e.node, &key)?;
                    webhook = Some(match value {
                        SettingValue::Secret(s) => s,
                        SettingValue::Plain(s) => {
                            tracing::warn!(
                                "{}:{}: {key} is written inline in the settings file; a Slack \
                                 webhook URL is a secret: read it from the environment \
                                 (`{{ env = \"NAME\" }}`) or [secrets] (`{{ secret = \"NAME\" }}`)",
                                self.file.display(),
                                e.node.line
                            );
                            Secret::new(s)
                        }
                    });
                }
                "timeout" => timeout = self.duration(&e.node, &key)?,
                "retries" => retries = self.count(&e.node, &key)?,
                "backoff" => backoff = self.duration(&e.node, &key)?,
                "events" => events = Some(self.events(&e.node, &key)?),
                _ => return Err(self.unknown_key(e, &prefix, SLACK_KEYS)),
            }
        }
        let webhook_url = webhook.ok_or_else(|| {
            self.err(
                item.line,
                &join(&prefix, "webhook_url"),
                "missing required key: a slack channel needs a webhook_url",
            )
        })?;
        Ok(SlackChannelSettings {
            name,
            webhook_url,
            timeout,
            retries,
            backoff,
            events,
        })
    }
}
