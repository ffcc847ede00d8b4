//! [`SlackChannel`]: a message a person reads at a glance, posted to a Slack incoming webhook.

use super::channel::accepts;
use super::http::{answer_text, channel_client};
use super::{Channel, ChannelError, DeliveryPolicy, Notification};
use crate::error::BoxError;
use serde_json::{json, Value};

/// A Slack channel: posts a message a person reads at a glance to an incoming webhook, for the
/// run's final events (by default `run-completed`, `run-deviated` and `run-failed`).
pub struct SlackChannel {
    name: String,
    webhook_url: String,
    events: Option<Vec<String>>,
    policy: DeliveryPolicy,
    client: reqwest::Client,
}

impl SlackChannel {
    /// A Slack channel posting to `webhook_url`.
    pub fn new(
        name: impl Into<String>,
        webhook_url: impl Into<String>,
        events: Option<Vec<String>>,
        policy: DeliveryPolicy,
    ) -> Result<SlackChannel, ChannelError> {
        let name = name.into();
        let webhook_url = webhook_url.into();
        let client = channel_client(&name, &webhook_url, true)?;
        Ok(SlackChannel {
            name,
            webhook_url,
            events,
            policy,
            client,
        })
    }
}

/// The Slack message for a notification: a headline with the outcome, then what went wrong.
pub fn slack_message(n: &Notification) -> Value {
    let title = n.payload["experiment"]["title"]
        .as_str()
        .unwrap_or(&n.experiment)
        .to_owned();
    let Some(report) = &n.report else {
        let text = format!("`{}` {}", n.experiment, n.name);
        return json!({ "text": text });
    };
    let icon = match report.outcome {
        crate::Outcome::Passed => ":white_check_mark:",
        crate::Outcome::Deviated => ":warning:",
        _ => ":x:",
    };
    let headline = format!(
        "{icon} *{title}* ended `{}` in {}",
        report.outcome,
        crate::time::human(report.duration)
    );
    let mut lines = vec![headline.clone(), format!("experiment `{}`", n.experiment)];
    if let Some(by) = &report.stopped_by {
        lines.push(format!("stopped by: {by}"));
    }
    if let Some(e) = &report.error {
        lines.push(format!("cause: {e}"));
    }
    for f in &report.findings {
        let mut l = format!("• {} in {}", f.activity, f.phase.describe());
        if let Some(v) = &f.value {
            l.push_str(&format!(": value `{}`", crate::redact::json_text(v)));
        }
        if let Some(t) = &f.tolerance {
            l.push_str(&format!(", tolerance `{t}`"));
        }
        if let Some(e) = &f.failure {
            l.push_str(&format!(": {e}"));
        }
        lines.push(l);
    }
    if let Some(p) = &n.journal_path {
        lines.push(format!("journal: `{}`", p.display()));
    }
    lines.push(format!("seed: `{}`", report.seed));
    let text = crate::redact::redact(&lines.join("\n")).into_owned();
    json!({
        "text": crate::redact::redact(&headline),
        "blocks": [{ "type": "section", "text": { "type": "mrkdwn", "text": text } }],
    })
}

impl Channel for SlackChannel {
    fn name(&self) -> &str {
        &self.name
    }
    fn accepts(&self, event: &str) -> bool {
        match &self.events {
            Some(_) => accepts(&self.events, event),
            None => matches!(event, "run-completed" | "run-deviated" | "run-failed"),
        }
    }
    fn policy(&self) -> DeliveryPolicy {
        self.policy
    }
    async fn deliver(&self, n: &Notification) -> Result<(), BoxError> {
        {
            let resp = self
                .client
                .post(&self.webhook_url)
                .header("content-type", "application/json")
                .body(slack_message(n).to_string())
                .send()
                .await
                .map_err(|e| crate::redact::redact(&crate::error::error_chain(&e)).into_owned())?;
            let status = resp.status();
            if !status.is_success() {
                let text = answer_text(&resp.text().await.unwrap_or_default());
                return Err(format!("Slack answered {status}: {text}").into());
            }
            Ok(())
        }
    }
}
