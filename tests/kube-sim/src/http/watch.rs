//! Watch streams: initial events, bookmarks, changes from the store's history filtered by
//! namespace and selectors, expiry of compacted versions, timeouts.

use super::body::{Resp, SimBody};
use super::request::{selectors, Ctx, Shape};
use crate::cluster::{served, storage, ListOpts};
use crate::errors::ApiError;
use crate::resources::Res;
use crate::shared::Shared;
use crate::store::{ChangeKind, Obj};
use crate::table;
use bytes::Bytes;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::Response;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Watches without `timeoutSeconds` end after this long.
const DEFAULT_WATCH: Duration = Duration::from_secs(1800);
/// Longer `timeoutSeconds` are cut to this.
const MAX_WATCH: Duration = Duration::from_secs(3600);

struct WatchSpec {
    r: &'static Res,
    ns: Option<String>,
    opts: ListOpts,
    shape: Shape,
}

impl WatchSpec {
    fn event(&self, kind: &str, o: &Obj, first: &mut bool) -> Bytes {
        let out = served(self.r, o.clone());
        let object = match self.shape {
            Shape::Full => (*out).clone(),
            Shape::Metadata => table::partial(&out),
            Shape::Table(include) => {
                let t = table::table(
                    self.r,
                    std::iter::once((&**o, (*out).clone())),
                    include,
                    json!({}),
                    *first,
                );
                *first = false;
                t
            }
        };
        let mut line = json!({"type": kind, "object": object}).to_string();
        line.push('\n');
        Bytes::from(line)
    }
}

pub(super) fn watch(
    ctx: &Ctx,
    r: &'static Res,
    ns: Option<&str>,
    name: Option<&str>,
) -> Result<Resp, ApiError> {
    let mut opts = selectors(ctx, r)?;
    if let Some(name) = name {
        opts.fields
            .reqs
            .push(("metadata.name".into(), true, name.into()));
    }
    let timeout = match ctx.q("timeoutSeconds") {
        Some(t) => Duration::from_secs(
            t.parse()
                .map_err(|_| ApiError::bad_request(format!("invalid timeoutSeconds: {t:?}")))?,
        )
        .min(MAX_WATCH),
        None => DEFAULT_WATCH,
    };
    let rv = match ctx.q("resourceVersion").filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => Some(
            v.parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("invalid resourceVersion: {v:?}")))?,
        ),
    };
    let send_initial = ctx.q("sendInitialEvents") == Some("true");
    let scope = if r.namespaced { ns } else { None };
    let (start, initial, wake) = {
        let c = ctx.shared.cluster();
        let wake = c.store.subscribe();
        match rv {
            Some(n) if n > 0 && !send_initial => (n, Vec::new(), wake),
            _ => {
                let page = c.list(r, scope, &opts);
                (page.rv, page.items, wake)
            }
        }
    };
    let spec = WatchSpec {
        r,
        ns: scope.map(str::to_string),
        opts,
        shape: ctx.shape(),
    };
    let (tx, rx) = mpsc::channel(64);
    let shared = ctx.shared.clone();
    let deadline = tokio::time::Instant::now() + timeout;
    tokio::spawn(async move {
        watch_task(
            shared,
            spec,
            start,
            initial,
            send_initial,
            deadline,
            tx,
            wake,
        )
        .await;
    });
    let mut resp = Response::new(SimBody::Stream(rx));
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(resp)
}

#[allow(clippy::too_many_arguments)]
async fn watch_task(
    shared: Arc<Shared>,
    spec: WatchSpec,
    mut last: u64,
    initial: Vec<Obj>,
    bookmark: bool,
    deadline: tokio::time::Instant,
    tx: mpsc::Sender<Bytes>,
    mut wake: tokio::sync::watch::Receiver<u64>,
) {
    let mut first = true;
    for o in &initial {
        if tx.send(spec.event("ADDED", o, &mut first)).await.is_err() {
            return;
        }
    }
    if bookmark {
        let b = json!({"type": "BOOKMARK", "object": {
            "kind": spec.r.kind, "apiVersion": spec.r.api_version(),
            "metadata": {"resourceVersion": last.to_string(), "annotations": {"k8s.io/initial-events-end": "true"}},
        }});
        if tx.send(Bytes::from(format!("{b}\n"))).await.is_err() {
            return;
        }
    }
    let sr = storage(spec.r);
    loop {
        wake.borrow_and_update();
        let batch = shared.cluster().store.changes_after(last, 512);
        let changes = match batch {
            Err(floor) => {
                let e = ApiError::expired(format!("too old resource version: {last} ({floor})"));
                let line = format!("{}\n", json!({"type": "ERROR", "object": e.to_status()}));
                let _ = tx.send(Bytes::from(line)).await;
                return;
            }
            Ok(c) => c,
        };
        if changes.is_empty() {
            tokio::select! {
                r = wake.changed() => if r.is_err() { return },
                _ = tokio::time::sleep_until(deadline) => return,
                _ = tx.closed() => return,
            }
            continue;
        }
        for ch in changes {
            last = ch.rv;
            if ch.resource != sr.storage {
                continue;
            }
            if let Some(ns) = &spec.ns {
                if ch.obj["metadata"]["namespace"].as_str() != Some(ns.as_str()) {
                    continue;
                }
            }
            let now = spec.opts.matches(&ch.obj);
            let before = ch.prev.as_ref().map(|p| spec.opts.matches(p));
            let kind = match (ch.kind, now, before) {
                (ChangeKind::Added, true, _) => "ADDED",
                (ChangeKind::Modified, true, Some(true)) => "MODIFIED",
                (ChangeKind::Modified, true, _) => "ADDED",
                (ChangeKind::Modified, false, Some(true)) => "DELETED",
                (ChangeKind::Deleted, true, _) => "DELETED",
                _ => continue,
            };
            if tx
                .send(spec.event(kind, &ch.obj, &mut first))
                .await
                .is_err()
            {
                return;
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return;
        }
    }
}
