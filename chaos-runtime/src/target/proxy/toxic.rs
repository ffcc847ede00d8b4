//! [`Toxic`]: one network fault of a proxy, with Toxiproxy's types, parameters, defaults and
//! JSON shape, and its validation.

use super::error::{ProxyError, ProxyErrorKind};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::time::Duration;

/// Which way the data a toxic acts on flows, as Toxiproxy names it.
///
/// ```
/// use chaos_runtime::target::proxy::Stream;
/// assert_eq!(Stream::default(), Stream::Downstream);
/// assert_eq!(Stream::Upstream.as_str(), "upstream");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    /// From the client to the upstream server (requests).
    Upstream,
    /// From the upstream server to the client (responses); the default.
    #[default]
    Downstream,
}

impl Stream {
    /// `"upstream"` or `"downstream"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Upstream => "upstream",
            Stream::Downstream => "downstream",
        }
    }
}

/// What a toxic does, with Toxiproxy's parameters in Toxiproxy's units (milliseconds, KB/s,
/// bytes; the slicer's delay in microseconds), so that its users recognise them.
///
/// ```
/// use chaos_runtime::target::proxy::ToxicKind;
/// let k = ToxicKind::Latency { latency: 100, jitter: 10 };
/// assert_eq!(k.type_name(), "latency");
/// assert_eq!(ToxicKind::TYPES.len(), 8);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ToxicKind {
    /// Delays each chunk of data by `latency` ms, plus or minus up to `jitter` ms.
    Latency {
        /// Milliseconds added to each chunk (Toxiproxy's default 0).
        latency: u64,
        /// Milliseconds of uniform variation either way (default 0).
        jitter: u64,
    },
    /// Limits the data rate to `rate` KB/s (1 KB = 1000 bytes).
    Bandwidth {
        /// KB/s (default 0: no limit, as in Toxiproxy).
        rate: u64,
        /// `false` (Toxiproxy's behaviour, the default): each connection gets `rate`;
        /// `true`: every connection of the proxy shares one `rate`.
        shared: bool,
    },
    /// Stops all data from passing (it is dropped), and closes the connection after `timeout`
    /// ms; with `timeout` 0 the connection stays open, silent, until the toxic is removed.
    Timeout {
        /// Milliseconds until the connection is closed; 0: never (default 0).
        timeout: u64,
    },
    /// Resets the connection (TCP RST to both ends) `timeout` ms after the first data it sees;
    /// the data meanwhile is dropped.
    ResetPeer {
        /// Milliseconds from the first data to the reset (default 0).
        timeout: u64,
    },
    /// Delays the close of the connection by `delay` ms once the sender closed its side.
    SlowClose {
        /// Milliseconds (default 0).
        delay: u64,
    },
    /// Cuts data into slices of `average_size` ± `size_variation` bytes, `delay` µs apart.
    Slicer {
        /// Bytes per slice on average (default 0: no slicing).
        average_size: u64,
        /// Bytes of uniform variation either way (default 0; below `average_size`).
        size_variation: u64,
        /// Microseconds between slices (default 0).
        delay: u64,
    },
    /// Closes the connection once `bytes` bytes have passed, after exactly that many.
    LimitData {
        /// Bytes passed before the close (default 0).
        bytes: u64,
    },
    /// The proxy down: with toxicity 1 the listener is closed (connections are refused) and
    /// open connections are dropped; with a lower toxicity, the connections it hits (open and
    /// new) are dropped as they come. Toxiproxy's `enabled: false`, as a toxic.
    Down,
}

impl ToxicKind {
    /// Every toxic type, by its Toxiproxy name.
    pub const TYPES: [&'static str; 8] = [
        "latency",
        "bandwidth",
        "timeout",
        "reset_peer",
        "slow_close",
        "slicer",
        "limit_data",
        "down",
    ];

    /// The Toxiproxy name of this type (`latency`, `reset_peer`...).
    pub fn type_name(&self) -> &'static str {
        match self {
            ToxicKind::Latency { .. } => "latency",
            ToxicKind::Bandwidth { .. } => "bandwidth",
            ToxicKind::Timeout { .. } => "timeout",
            ToxicKind::ResetPeer { .. } => "reset_peer",
            ToxicKind::SlowClose { .. } => "slow_close",
            ToxicKind::Slicer { .. } => "slicer",
            ToxicKind::LimitData { .. } => "limit_data",
            ToxicKind::Down => "down",
        }
    }

    /// The attribute names of a type, in Toxiproxy's order (`None` for an unknown type).
    pub fn attribute_names(type_name: &str) -> Option<&'static [&'static str]> {
        Some(match type_name {
            "latency" => &["latency", "jitter"],
            "bandwidth" => &["rate", "shared"],
            "timeout" | "reset_peer" => &["timeout"],
            "slow_close" => &["delay"],
            "slicer" => &["average_size", "size_variation", "delay"],
            "limit_data" => &["bytes"],
            "down" => &[],
            _ => return None,
        })
    }

    /// The attributes as Toxiproxy's JSON writes them.
    pub fn attributes(&self) -> Value {
        match *self {
            ToxicKind::Latency { latency, jitter } => json!({"latency": latency, "jitter": jitter}),
            ToxicKind::Bandwidth { rate, shared } => json!({"rate": rate, "shared": shared}),
            ToxicKind::Timeout { timeout } | ToxicKind::ResetPeer { timeout } => {
                json!({ "timeout": timeout })
            }
            ToxicKind::SlowClose { delay } => json!({ "delay": delay }),
            ToxicKind::Slicer {
                average_size,
                size_variation,
                delay,
            } => json!({
                "average_size": average_size,
                "size_variation": size_variation,
                "delay": delay,
            }),
            ToxicKind::LimitData { bytes } => json!({ "bytes": bytes }),
            ToxicKind::Down => json!({}),
        }
    }
}

/// One fault of a proxy: a [`ToxicKind`] on a [`Stream`], hitting each connection with
/// probability `toxicity`, under a name unique in its proxy (by default `<type>_<stream>`, as
/// Toxiproxy names them).
///
/// Add it with [`Proxy::add`](super::Proxy::add) in an experiment (removed when the run's
/// rollbacks run) or [`Proxy::apply`](super::Proxy::apply) elsewhere (removed when the guard
/// drops).
///
/// ```
/// use chaos_runtime::target::proxy::{Stream, Toxic};
/// use std::time::Duration;
/// let t = Toxic::latency(Duration::from_millis(100)).jitter(Duration::from_millis(10));
/// assert_eq!(t.name(), "latency_downstream");
/// let t = Toxic::bandwidth(100).upstream().toxicity(0.5).named("slow-uploads");
/// assert_eq!((t.name().as_str(), t.stream(), t.probability()), ("slow-uploads", Stream::Upstream, 0.5));
/// assert_eq!(
///     Toxic::reset_peer(Duration::ZERO).to_json()["type"],
///     "reset_peer"
/// );
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Toxic {
    pub(super) name: Option<String>,
    pub(super) kind: ToxicKind,
    pub(super) stream: Stream,
    pub(super) toxicity: f64,
    /// A builder call that does not apply to this type (`jitter` on a bandwidth toxic),
    /// reported when the toxic is added.
    pub(super) misuse: Option<&'static str>,
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl Toxic {
    /// A toxic of `kind`, downstream, toxicity 1.
    pub fn new(kind: ToxicKind) -> Toxic {
        Toxic {
            name: None,
            kind,
            stream: Stream::Downstream,
            toxicity: 1.0,
            misuse: None,
        }
    }

    /// `latency`: each chunk of data is delayed by `latency` (add [`Toxic::jitter`] for
    /// variation).
    pub fn latency(latency: Duration) -> Toxic {
        Toxic::new(ToxicKind::Latency {
            latency: ms(latency),
            jitter: 0,
        })
    }

    /// The jitter of a `latency` toxic: each delay varies uniformly by up to this much either
    /// way. On another type, adding the toxic fails with an error naming `jitter`.
    pub fn jitter(mut self, jitter: Duration) -> Toxic {
        match &mut self.kind {
            ToxicKind::Latency { jitter: j, .. } => *j = ms(jitter),
            _ => self.misuse = Some("jitter"),
        }
        self
    }

    /// `bandwidth`: at most `kb_per_second` KB/s (1 KB = 1000 bytes) per connection; see
    /// [`Toxic::shared`].
    pub fn bandwidth(kb_per_second: u64) -> Toxic {
        Toxic::new(ToxicKind::Bandwidth {
            rate: kb_per_second,
            shared: false,
        })
    }

    /// Makes a `bandwidth` toxic's rate shared by every connection of the proxy rather than
    /// given to each. On another type, adding the toxic fails with an error naming `shared`.
    pub fn shared(mut self) -> Toxic {
        match &mut self.kind {
            ToxicKind::Bandwidth { shared, .. } => *shared = true,
            _ => self.misuse = Some("shared"),
        }
        self
    }

    /// `timeout`: no data passes; the connection is closed after `timeout`, or never with
    /// `Duration::ZERO` (it then stays silent until the toxic is removed).
    pub fn timeout(timeout: Duration) -> Toxic {
        Toxic::new(ToxicKind::Timeout {
            timeout: ms(timeout),
        })
    }

    /// `reset_peer`: the connection is reset (TCP RST, `ECONNRESET` at both ends) `after` the
    /// first data seen.
    pub fn reset_peer(after: Duration) -> Toxic {
        Toxic::new(ToxicKind::ResetPeer { timeout: ms(after) })
    }

    /// `slow_close`: the close of a connection is delayed by `delay`.
    pub fn slow_close(delay: Duration) -> Toxic {
        Toxic::new(ToxicKind::SlowClose { delay: ms(delay) })
    }

    /// `slicer`: data is cut into slices of `average_size` ± `size_variation` bytes, `delay`
    /// apart (Toxiproxy counts this delay in microseconds).
    pub fn slicer(average_size: u64, size_variation: u64, delay: Duration) -> Toxic {
        Toxic::new(ToxicKind::Slicer {
            average_size,
            size_variation,
            delay: u64::try_from(delay.as_micros()).unwrap_or(u64::MAX),
        })
    }

    /// `limit_data`: the connection is closed after exactly `bytes` bytes.
    pub fn limit_data(bytes: u64) -> Toxic {
        Toxic::new(ToxicKind::LimitData { bytes })
    }

    /// `down`: the proxy refuses connections and drops the open ones (with a toxicity below
    /// 1, drops the connections it hits).
    pub fn down() -> Toxic {
        Toxic::new(ToxicKind::Down)
    }

    /// On the upstream stream (client to server).
    pub fn upstream(mut self) -> Toxic {
        self.stream = Stream::Upstream;
        self
    }

    /// On the downstream stream (server to client; the default).
    pub fn downstream(mut self) -> Toxic {
        self.stream = Stream::Downstream;
        self
    }

    /// On stream `stream`.
    pub fn on(mut self, stream: Stream) -> Toxic {
        self.stream = stream;
        self
    }

    /// The probability, in `0.0..=1.0`, that a connection is affected (default 1). Which ones
    /// are is drawn from the run's seed.
    pub fn toxicity(mut self, toxicity: f64) -> Toxic {
        self.toxicity = toxicity;
        self
    }

    /// Names the toxic (default `<type>_<stream>`); names are unique within a proxy.
    pub fn named(mut self, name: impl Into<String>) -> Toxic {
        self.name = Some(name.into());
        self
    }

    /// The toxic's name.
    pub fn name(&self) -> String {
        match &self.name {
            Some(n) => n.clone(),
            None => format!("{}_{}", self.kind.type_name(), self.stream.as_str()),
        }
    }

    /// What it does.
    pub fn kind(&self) -> &ToxicKind {
        &self.kind
    }

    /// Its stream.
    pub fn stream(&self) -> Stream {
        self.stream
    }

    /// Its toxicity.
    pub fn probability(&self) -> f64 {
        self.toxicity
    }

    /// Toxiproxy's JSON for it: `{"name", "type", "stream", "toxicity", "attributes"}`.
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name(),
            "type": self.kind.type_name(),
            "stream": self.stream.as_str(),
            "toxicity": self.toxicity,
            "attributes": self.kind.attributes(),
        })
    }

    /// Checks what the builder could not: toxicity in range, a builder call that does not
    /// apply to the type, an empty name.
    pub(super) fn validate(&self, proxy: &str) -> Result<(), ProxyError> {
        let name = self.name();
        let err = |kind| Err(ProxyError::new(proxy, Some(name.clone()), kind));
        if let Some(field) = self.misuse {
            return err(ProxyErrorKind::Field {
                field,
                problem: format!("does not apply to a `{}` toxic", self.kind.type_name()),
            });
        }
        if !(0.0..=1.0).contains(&self.toxicity) {
            return err(ProxyErrorKind::Field {
                field: "toxicity",
                problem: format!("must be in 0..=1 (got {})", self.toxicity),
            });
        }
        if name.trim().is_empty() {
            return err(ProxyErrorKind::Field {
                field: "name",
                problem: "must not be empty".into(),
            });
        }
        if let ToxicKind::Slicer {
            average_size,
            size_variation,
            ..
        } = self.kind
        {
            if average_size > 0 && size_variation >= average_size {
                return err(ProxyErrorKind::Field {
                    field: "size_variation",
                    problem: format!(
                        "must be below average_size ({average_size}) (got {size_variation})"
                    ),
                });
            }
        }
        Ok(())
    }
}
