//! Container logs: the lines a test writes for a pod's container, served by
//! `GET pods/{name}/log` with the kubelet's options (`container`, `timestamps`,
//! `sinceSeconds`, `tailLines`, `previous`) and its errors.

use super::json::st;
use super::state::Cluster;
use crate::errors::ApiError;
use crate::resources::PODS;
use crate::util;
use serde_json::Value;
use std::time::{Duration, SystemTime};

/// One written line and when it was written.
#[derive(Debug, Clone)]
pub(crate) struct LogLine {
    at: SystemTime,
    text: String,
}

/// The options of one log read, as the query gives them.
#[derive(Debug, Default, Clone)]
pub(crate) struct LogOpts {
    pub container: Option<String>,
    pub timestamps: bool,
    pub since_seconds: Option<u64>,
    pub tail_lines: Option<usize>,
    pub previous: bool,
}

fn containers(pod: &Value) -> Vec<String> {
    pod["spec"]["containers"]
        .as_array()
        .map(|cs| cs.iter().map(|c| st(c, &["name"]).to_owned()).collect())
        .unwrap_or_default()
}

impl Cluster {
    /// The container of `pod` a read or write means: the one named, or the only one.
    fn log_container(&self, ns: &str, pod: &str, named: Option<&str>) -> Result<String, ApiError> {
        let p = self
            .get(&PODS, ns, pod)
            .ok_or_else(|| ApiError::not_found(&PODS, pod))?;
        let cs = containers(&p);
        match named.filter(|c| !c.is_empty()) {
            Some(c) if cs.iter().any(|x| x == c) => Ok(c.to_owned()),
            Some(c) => Err(ApiError::bad_request(format!(
                "container {c} is not valid for pod {pod}"
            ))),
            None if cs.len() == 1 => Ok(cs[0].clone()),
            None => Err(ApiError::bad_request(format!(
                "a container name must be specified for pod {pod}, choose one of: [{}]",
                cs.join(" ")
            ))),
        }
    }

    /// Appends `line` to the log of `pod`'s `container` (the only one when `None`); false when
    /// the pod or container is missing.
    pub(crate) fn write_log(
        &mut self,
        ns: &str,
        pod: &str,
        container: Option<&str>,
        line: &str,
    ) -> bool {
        let Ok(c) = self.log_container(ns, pod, container) else {
            return false;
        };
        self.logs
            .entry((ns.to_owned(), pod.to_owned(), c))
            .or_default()
            .push(LogLine {
                at: SystemTime::now(),
                text: line.trim_end_matches('\n').to_owned(),
            });
        true
    }

    /// The log text of one container, as `GET pods/{name}/log` serves it.
    pub(crate) fn read_log(&self, ns: &str, pod: &str, o: &LogOpts) -> Result<String, ApiError> {
        let c = self.log_container(ns, pod, o.container.as_deref())?;
        if o.previous {
            return Err(ApiError::bad_request(format!(
                "previous terminated container \"{c}\" in pod \"{pod}\" not found"
            )));
        }
        let lines = self
            .logs
            .get(&(ns.to_owned(), pod.to_owned(), c))
            .map(Vec::as_slice)
            .unwrap_or_default();
        let since = o
            .since_seconds
            .and_then(|s| SystemTime::now().checked_sub(Duration::from_secs(s)));
        let kept: Vec<&LogLine> = lines
            .iter()
            .filter(|l| since.is_none_or(|t| l.at >= t))
            .collect();
        let skip = o.tail_lines.map_or(0, |n| kept.len().saturating_sub(n));
        let mut out = String::new();
        for l in &kept[skip..] {
            if o.timestamps {
                out.push_str(&util::rfc3339_nanos(l.at));
                out.push(' ');
            }
            out.push_str(&l.text);
            out.push('\n');
        }
        Ok(out)
    }
}
