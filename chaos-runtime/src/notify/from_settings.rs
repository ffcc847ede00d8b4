//! The settings file's `[[notifications]]` entries made into channels.

use super::{
    BoxedChannel, ChannelError, DeliveryPolicy, HttpChannel, HttpChannelConfig, SlackChannel,
};
use crate::settings::ChannelSettings;

impl ChannelSettings {
    /// The channel this `[[notifications]]` entry describes, ready to register.
    ///
    /// ```
    /// use chaos_runtime::settings::Settings;
    /// let settings = Settings::from_toml_str(
    ///     "[[notifications]]\ntype = \"http\"\nname = \"hook\"\nurl = \"http://127.0.0.1:9/\"\n",
    ///     "chaos.toml".as_ref(),
    /// )?;
    /// let channel = settings.notifications[0].channel()?;
    /// assert_eq!(channel.name(), "hook");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn channel(&self) -> Result<BoxedChannel, ChannelError> {
        match self {
            ChannelSettings::Http(h) => HttpChannel::new(HttpChannelConfig {
                name: h.name.clone(),
                url: h.url.expose().to_owned(),
                headers: h
                    .headers
                    .iter()
                    .map(|(k, v)| (k.clone(), v.expose().to_owned()))
                    .collect(),
                verify_tls: h.verify_tls,
                forward_event_payload: h.forward_event_payload,
                events: h.events.clone(),
                policy: DeliveryPolicy {
                    timeout: h.timeout,
                    retries: h.retries,
                    backoff: h.backoff,
                },
            })
            .map(BoxedChannel::new),
            ChannelSettings::Slack(s) => SlackChannel::new(
                s.name.clone(),
                s.webhook_url.expose(),
                s.events.clone(),
                DeliveryPolicy {
                    timeout: s.timeout,
                    retries: s.retries,
                    backoff: s.backoff,
                },
            )
            .map(BoxedChannel::new),
        }
    }
}
