//! What the HTTP front, the controller task and the [`Sim`](crate::Sim) handles share: the
//! cluster, the request log and the injected API faults.

use crate::cluster::Cluster;
use crate::errors;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// One request the server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// `GET`, `POST`...
    pub method: String,
    /// The path, as sent (`/api/v1/namespaces/demo/pods`).
    pub path: String,
    /// The raw query string, as sent (percent-encoded), without `?`.
    pub query: String,
    /// The `Authorization` header, as sent (the simulation accepts any, or none; tests check
    /// what a client sent).
    pub authorization: Option<String>,
    /// The response status code.
    pub status: u16,
    /// When the request was received.
    pub started: Instant,
    /// When its answer was ready (for watches: when the stream started).
    pub finished: Instant,
}

/// A fault injected into the API, per route.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    /// Only requests with this method ("GET", "DELETE"...), or any when None.
    pub method: Option<String>,
    /// Only requests whose path contains this substring (e.g. "/pods", "/eviction").
    pub path_contains: String,
    /// How many matching requests it applies to (then it is used up); None = all.
    pub times: Option<usize>,
    /// What the fault does.
    pub kind: FaultKind,
}

/// What a [`Fault`] does to a matching request.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultKind {
    /// Answer with this status and a Status body (429 TooManyRequests, 500 InternalError,
    /// 503 ServiceUnavailable...), with `Retry-After: secs` when given.
    Status {
        /// The HTTP status code.
        code: u16,
        /// `Retry-After` header and `details.retryAfterSeconds`.
        retry_after: Option<u64>,
    },
    /// Delay the answer by this long, then serve normally.
    Latency(Duration),
}

impl Fault {
    /// Answers matching requests with `code` and a Status body. 429 and 503 carry
    /// `Retry-After: 1` (clients such as client-go only retry with it); build a [`Fault`]
    /// directly for another value.
    pub fn status(
        method: Option<&str>,
        path_contains: &str,
        code: u16,
        times: Option<usize>,
    ) -> Fault {
        Fault {
            method: method.map(str::to_string),
            path_contains: path_contains.to_string(),
            times,
            kind: FaultKind::Status {
                code,
                retry_after: matches!(code, 429 | 503).then_some(1),
            },
        }
    }

    /// Delays matching requests by `delay`, then serves them.
    pub fn latency(
        method: Option<&str>,
        path_contains: &str,
        delay: Duration,
        times: Option<usize>,
    ) -> Fault {
        Fault {
            method: method.map(str::to_string),
            path_contains: path_contains.to_string(),
            times,
            kind: FaultKind::Latency(delay),
        }
    }

    fn applies(&self, method: &str, path: &str) -> bool {
        self.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && path.contains(&self.path_contains)
    }
}

/// State shared by the server, its controller task and the handles.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) cluster: Mutex<Cluster>,
    /// Wakes the controller task after writes.
    pub(crate) kick: tokio::sync::Notify,
    pub(crate) requests: Mutex<Vec<RequestRecord>>,
    pub(crate) faults: Mutex<Vec<Fault>>,
    /// `127.0.0.1:PORT`.
    pub(crate) server: String,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Requests kept in the log at most (the oldest half is dropped beyond).
const MAX_RECORDS: usize = 200_000;

impl Shared {
    pub(crate) fn cluster(&self) -> MutexGuard<'_, Cluster> {
        lock(&self.cluster)
    }

    pub(crate) fn record(&self, r: RequestRecord) {
        let mut log = lock(&self.requests);
        if log.len() >= MAX_RECORDS {
            log.drain(..MAX_RECORDS / 2);
        }
        log.push(r);
    }

    /// The latency to add and the error to answer with, consuming matching faults.
    pub(crate) fn take_faults(
        &self,
        method: &str,
        path: &str,
    ) -> (Duration, Option<errors::ApiError>) {
        let mut faults = lock(&self.faults);
        let mut delay = Duration::ZERO;
        let mut status = None;
        let mut i = 0;
        while i < faults.len() {
            let f = &mut faults[i];
            if f.times == Some(0) {
                faults.remove(i);
                continue;
            }
            let applies = f.applies(method, path)
                && (status.is_none() || matches!(f.kind, FaultKind::Latency(_)));
            if applies {
                match f.kind {
                    FaultKind::Latency(d) => delay += d,
                    FaultKind::Status { code, retry_after } => {
                        status = Some(errors::ApiError::injected(code, retry_after));
                    }
                }
                if let Some(t) = f.times.as_mut() {
                    *t -= 1;
                    if *t == 0 {
                        faults.remove(i);
                        continue;
                    }
                }
            }
            i += 1;
        }
        (delay, status)
    }
}
