//! Pod logs: what one read asks for ([`LogRead`]) and the read itself, per matching pod.

use super::pods::Pods;
use super::K8sError;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, LogParams};
use std::collections::BTreeMap;
use std::time::Duration;

/// What a log read asks for: the container, how far back, how many lines, timestamps.
///
/// ```
/// use chaos_runtime::target::k8s::LogRead;
/// use std::time::Duration;
/// let read = LogRead::default()
///     .container("app")
///     .since(Duration::from_secs(600))
///     .tail_lines(100)
///     .timestamps();
/// assert_eq!(read, LogRead::default().timestamps().container("app").tail_lines(100).since(Duration::from_secs(600)));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogRead {
    container: Option<String>,
    since: Option<Duration>,
    tail_lines: Option<i64>,
    timestamps: bool,
    previous: bool,
}

impl LogRead {
    /// The container to read (else the pod's only one; a pod with several is an error).
    pub fn container(mut self, name: &str) -> Self {
        self.container = Some(name.to_owned()).filter(|n| !n.is_empty());
        self
    }
    /// Only the lines written in the last `window` (whole seconds, at least one).
    pub fn since(mut self, window: Duration) -> Self {
        self.since = Some(window);
        self
    }
    /// Only the last `n` lines.
    pub fn tail_lines(mut self, n: i64) -> Self {
        self.tail_lines = Some(n);
        self
    }
    /// Prefixes each line with its RFC 3339 time, as `kubectl logs --timestamps`.
    pub fn timestamps(mut self) -> Self {
        self.timestamps = true;
        self
    }
    /// The previous, terminated instance of the container.
    pub fn previous(mut self) -> Self {
        self.previous = true;
        self
    }

    fn params(&self) -> LogParams {
        LogParams {
            container: self.container.clone(),
            since_seconds: self
                .since
                .map(|d| i64::try_from(d.as_secs().max(1)).unwrap_or(i64::MAX)),
            tail_lines: self.tail_lines,
            timestamps: self.timestamps,
            previous: self.previous,
            ..LogParams::default()
        }
    }
}

impl Pods<'_> {
    /// The logs of every matching pod, by pod name, read as `read` says.
    ///
    /// ```no_run
    /// # async fn probe(cx: &chaos_runtime::Context) -> Result<bool, chaos_runtime::target::k8s::K8sError> {
    /// use chaos_runtime::target::k8s::{self, LogRead};
    /// let logs = k8s::pods(cx, "shop").labeled("app=web").logs(&LogRead::default().tail_lines(50)).await?;
    /// Ok(logs.values().all(|text| !text.contains("panic")))
    /// # }
    /// ```
    pub async fn logs(&self, read: &LogRead) -> Result<BTreeMap<String, String>, K8sError> {
        let (c, _) = self.target().await?;
        let params = read.params();
        let mut out = BTreeMap::new();
        for p in self.list().await? {
            let api: Api<Pod> = Api::namespaced(c.client().clone(), &p.namespace);
            let op = format!("read the logs of pod {}/{}", p.namespace, p.name);
            let text = c.call(&op, || api.logs(&p.name, &params)).await?;
            out.insert(p.name, text);
        }
        Ok(out)
    }
}
