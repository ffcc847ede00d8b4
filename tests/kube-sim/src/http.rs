//! The HTTP side: routing, request parsing, JSON / Table / metadata answers, watch streams
//! and fault injection.

use super::cluster::{self, served, storage, DeleteOpts, Deleted, ListOpts, PatchKind};
use super::errors::ApiError;
use super::resources::{self as res, Res, DEPLOYMENTS, PODS, REPLICASETS};
use super::selector::{FieldSelector, LabelSelector};
use super::store::{ChangeKind, NsName, Obj};
use super::table::{self, Include};
use super::util;
use super::{RequestRecord, Shared};
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::header::{HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use hyper::{HeaderMap, Request, Response, StatusCode};
use serde_json::{json, Value};
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Request bodies above this are refused.
const MAX_BODY: usize = 64 << 20;
/// Watches without `timeoutSeconds` end after this long.
const DEFAULT_WATCH: Duration = Duration::from_secs(1800);
/// Longer `timeoutSeconds` are cut to this.
const MAX_WATCH: Duration = Duration::from_secs(3600);

/// A response body: a whole buffer, or a stream of chunks (watch).
#[derive(Debug)]
pub(crate) enum SimBody {
    Full(Option<Bytes>),
    Stream(mpsc::Receiver<Bytes>),
}

impl Body for SimBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            SimBody::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            SimBody::Stream(rx) => rx.poll_recv(cx).map(|o| o.map(|b| Ok(Frame::data(b)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, SimBody::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            SimBody::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            SimBody::Full(None) => SizeHint::with_exact(0),
            SimBody::Stream(_) => SizeHint::default(),
        }
    }
}

type Resp = Response<SimBody>;

fn respond(code: u16, content_type: &str, body: Bytes) -> Resp {
    let mut r = Response::new(SimBody::Full(Some(body)));
    *r.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = HeaderValue::from_str(content_type) {
        r.headers_mut().insert(CONTENT_TYPE, v);
    }
    r
}

fn json_resp(code: u16, v: &Value) -> Resp {
    respond(code, "application/json", Bytes::from(v.to_string()))
}

fn error_resp(e: &ApiError) -> Resp {
    let mut r = json_resp(e.code, &e.to_status());
    if let Some(secs) = e.retry_after {
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            r.headers_mut().insert(RETRY_AFTER, v);
        }
    }
    r
}

/// Serves one request and records it.
pub(crate) async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Resp, Infallible> {
    let started = Instant::now();
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let authorization = req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let resp = serve(&shared, req, &method, &path, &query).await;
    shared.record(RequestRecord {
        method,
        path,
        query,
        authorization,
        status: resp.status().as_u16(),
        started,
        finished: Instant::now(),
    });
    Ok(resp)
}

async fn serve(
    shared: &Arc<Shared>,
    req: Request<Incoming>,
    method: &str,
    path: &str,
    query: &str,
) -> Resp {
    let (delay, fault) = shared.take_faults(method, path);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if let Some(e) = fault {
        return error_resp(&e);
    }
    let (parts, body) = req.into_parts();
    let body = match http_body_util::Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            return error_resp(&ApiError::bad_request(format!(
                "reading the request body: {e}"
            )))
        }
    };
    let ctx = Ctx {
        shared: shared.clone(),
        method: method.to_string(),
        headers: parts.headers,
        query: util::parse_query(query),
        body,
    };
    match route(&ctx, path) {
        Ok(r) => r,
        Err(e) => error_resp(&e),
    }
}

/// One request, parsed.
struct Ctx {
    shared: Arc<Shared>,
    method: String,
    headers: HeaderMap,
    query: Vec<(String, String)>,
    body: Bytes,
}

/// How a GET answer is shaped (`Accept`).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Shape {
    Full,
    Table(Include),
    Metadata,
}

impl Ctx {
    fn q(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    fn shape(&self) -> Shape {
        let accept = self.header("accept");
        // The first acceptable media type wins; plain JSON anywhere first means Full.
        for part in accept.split(',') {
            let p = part.replace(' ', "");
            if p.contains("as=Table") {
                return Shape::Table(Include::parse(self.q("includeObject")));
            }
            if p.contains("as=PartialObjectMetadata") {
                return Shape::Metadata;
            }
            if p.starts_with("application/json") || p.starts_with("*/*") {
                return Shape::Full;
            }
        }
        Shape::Full
    }

    fn dry_run(&self) -> bool {
        self.q("dryRun") == Some("All")
    }

    /// The request body as JSON (POST / PUT).
    fn json_body(&self) -> Result<Value, ApiError> {
        let ct = self.header("content-type");
        let media = ct.split(';').next().unwrap_or("").trim();
        if !(media.is_empty() || media == "application/json" || media == "*/*") {
            return Err(ApiError::unsupported_media(media, "application/json"));
        }
        serde_json::from_slice(&self.body)
            .map_err(|e| ApiError::bad_request(format!("error decoding the request body: {e}")))
    }

    fn patch_body(&self) -> Result<(PatchKind, Value), ApiError> {
        let ct = self.header("content-type");
        let media = ct.split(';').next().unwrap_or("").trim();
        let kind = match media {
            "application/merge-patch+json" | "application/strategic-merge-patch+json" => PatchKind::Merge,
            "application/json-patch+json" => PatchKind::Json,
            "application/apply-patch+yaml" => PatchKind::Apply,
            other => {
                return Err(ApiError::unsupported_media(
                    other,
                    "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json",
                ))
            }
        };
        let v = serde_json::from_slice(&self.body).map_err(|e| {
            if kind == PatchKind::Apply {
                ApiError::unsupported_media(
                    "application/apply-patch+yaml (YAML that is not JSON)",
                    "application/apply-patch+yaml with a JSON body",
                )
            } else {
                ApiError::bad_request(format!("error decoding the patch: {e}"))
            }
        })?;
        Ok((kind, v))
    }

    fn kick(&self) {
        self.shared.kick.notify_one();
    }
}

fn route(ctx: &Ctx, path: &str) -> Result<Resp, ApiError> {
    let segs: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| util::percent_decode(s, false))
        .collect();
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    let get = |v: Option<Value>| -> Result<Resp, ApiError> {
        match v {
            None => Err(ApiError::path_not_found()),
            Some(_) if ctx.method != "GET" => Err(ApiError::method_not_allowed()),
            Some(v) => Ok(json_resp(200, &v)),
        }
    };
    match s.as_slice() {
        [] => get(Some(json!({"paths": [
            "/api", "/api/v1", "/apis", "/apis/apps", "/apis/apps/v1", "/apis/events.k8s.io",
            "/apis/events.k8s.io/v1", "/apis/policy", "/apis/policy/v1", "/healthz", "/livez",
            "/readyz", "/version"
        ]}))),
        ["version"] => get(Some(res::version())),
        ["healthz" | "livez" | "readyz", ..] => Ok(respond(
            200,
            "text/plain; charset=utf-8",
            Bytes::from_static(b"ok"),
        )),
        ["api"] => get(Some(res::api_versions(&ctx.shared.server))),
        ["apis"] => get(Some(res::group_list())),
        ["apis", g] => get(res::group(g)),
        ["api", v] => get(res::resource_list("", v)),
        ["apis", g, v] => get(res::resource_list(g, v)),
        ["openapi", "v3"] => get(Some(res::openapi_root())),
        ["openapi", "v3", gv @ ..] => get(res::openapi_gv(&gv.join("/"))),
        ["api", v, rest @ ..] => resource_route(ctx, "", v, rest),
        ["apis", g, v, rest @ ..] => resource_route(ctx, g, v, rest),
        _ => Err(ApiError::path_not_found()),
    }
}

fn resource_route(ctx: &Ctx, group: &str, version: &str, rest: &[&str]) -> Result<Resp, ApiError> {
    let (watch_path, rest) = match rest {
        ["watch", tail @ ..] => (true, tail),
        _ => (false, rest),
    };
    let lookup = |n: &str| res::lookup(group, version, n);
    let (r, ns, tail): (&'static Res, Option<&str>, &[&str]) = match rest {
        ["namespaces", ns, name, tail @ ..] if lookup(name).is_some_and(|r| r.namespaced) => (
            lookup(name).ok_or_else(ApiError::path_not_found)?,
            Some(*ns),
            tail,
        ),
        [name, tail @ ..] => (
            lookup(name).ok_or_else(ApiError::path_not_found)?,
            None,
            tail,
        ),
        [] => return Err(ApiError::path_not_found()),
    };
    if tail.len() > 2 {
        return Err(ApiError::path_not_found());
    }
    let name = tail.first().copied();
    let sub = tail.get(1).copied();
    if r.namespaced && ns.is_none() && name.is_some() {
        return Err(ApiError::path_not_found());
    }
    let watching = watch_path || matches!(ctx.q("watch"), Some("true" | "1"));
    let m = ctx.method.as_str();
    match (sub, name) {
        (None, None) => match m {
            "GET" if watching => watch(ctx, r, ns, None),
            "GET" => list(ctx, r, ns),
            "POST" if r.namespaced && ns.is_none() => Err(ApiError::method_not_allowed()),
            "POST" => {
                let body = ctx.json_body()?;
                let o = ctx
                    .shared
                    .cluster()
                    .create(r, ns.unwrap_or(""), body, ctx.dry_run())?;
                ctx.kick();
                Ok(object_resp(ctx, r, 201, &o))
            }
            "DELETE" => delete_collection(ctx, r, ns),
            _ => Err(ApiError::method_not_allowed()),
        },
        (None, Some(name)) => {
            let ns = ns.unwrap_or("");
            match m {
                "GET" if watching => watch(ctx, r, Some(ns).filter(|_| r.namespaced), Some(name)),
                "GET" => {
                    let o = ctx
                        .shared
                        .cluster()
                        .get_served(r, ns, name)
                        .ok_or_else(|| ApiError::not_found(r, name))?;
                    Ok(object_resp(ctx, r, 200, &o))
                }
                "PUT" => {
                    let body = ctx.json_body()?;
                    let o = ctx
                        .shared
                        .cluster()
                        .update(r, ns, name, body, None, ctx.dry_run())?;
                    ctx.kick();
                    Ok(object_resp(ctx, r, 200, &o))
                }
                "PATCH" => {
                    let (kind, patch) = ctx.patch_body()?;
                    let mut c = ctx.shared.cluster();
                    if kind == PatchKind::Apply && c.get_served(r, ns, name).is_none() {
                        // Server-side apply creates what is missing.
                        let mut body = patch;
                        cluster::set(&mut body, &["metadata", "name"], json!(name));
                        let o = c.create(r, ns, body, ctx.dry_run())?;
                        drop(c);
                        ctx.kick();
                        return Ok(object_resp(ctx, r, 201, &o));
                    }
                    let o = c.patch(r, ns, name, kind, &patch, None, ctx.dry_run())?;
                    drop(c);
                    ctx.kick();
                    Ok(object_resp(ctx, r, 200, &o))
                }
                "DELETE" => {
                    let opts = delete_opts(ctx)?;
                    let out = ctx.shared.cluster().delete(r, ns, name, &opts)?;
                    ctx.kick();
                    Ok(match out {
                        Deleted::Object(o) => object_resp(ctx, r, 200, &o),
                        Deleted::Status(s) => json_resp(200, &s),
                    })
                }
                _ => Err(ApiError::method_not_allowed()),
            }
        }
        (Some("status"), Some(name)) if r.subs.iter().any(|s| s.name.ends_with("/status")) => {
            let ns = ns.unwrap_or("");
            let o = match m {
                "GET" => ctx
                    .shared
                    .cluster()
                    .get_served(r, ns, name)
                    .ok_or_else(|| ApiError::not_found(r, name))?,
                "PUT" => {
                    let body = ctx.json_body()?;
                    let o = ctx.shared.cluster().update(
                        r,
                        ns,
                        name,
                        body,
                        Some("status"),
                        ctx.dry_run(),
                    )?;
                    ctx.kick();
                    o
                }
                "PATCH" => {
                    let (kind, patch) = ctx.patch_body()?;
                    let o = ctx.shared.cluster().patch(
                        r,
                        ns,
                        name,
                        kind,
                        &patch,
                        Some("status"),
                        ctx.dry_run(),
                    )?;
                    ctx.kick();
                    o
                }
                _ => return Err(ApiError::method_not_allowed()),
            };
            Ok(object_resp(ctx, r, 200, &o))
        }
        (Some("scale"), Some(name))
            if std::ptr::eq(r, &DEPLOYMENTS) || std::ptr::eq(r, &REPLICASETS) =>
        {
            let ns = ns.unwrap_or("");
            let scale = match m {
                "GET" => ctx.shared.cluster().get_scale(r, ns, name)?,
                "PUT" => {
                    let body = ctx.json_body()?;
                    let s = ctx
                        .shared
                        .cluster()
                        .update_scale(r, ns, name, &body, ctx.dry_run())?;
                    ctx.kick();
                    s
                }
                "PATCH" => {
                    let (kind, patch) = ctx.patch_body()?;
                    let s = ctx.shared.cluster().patch_scale(
                        r,
                        ns,
                        name,
                        kind,
                        &patch,
                        ctx.dry_run(),
                    )?;
                    ctx.kick();
                    s
                }
                _ => return Err(ApiError::method_not_allowed()),
            };
            Ok(json_resp(200, &scale))
        }
        (Some("eviction"), Some(name)) if std::ptr::eq(r, &PODS) => {
            if m != "POST" {
                return Err(ApiError::method_not_allowed());
            }
            let body = ctx.json_body()?;
            let status =
                ctx.shared
                    .cluster()
                    .evict(ns.unwrap_or(""), name, &body, ctx.dry_run())?;
            ctx.kick();
            let code = status["code"].as_u64().unwrap_or(201) as u16;
            Ok(json_resp(code, &status))
        }
        _ => Err(ApiError::path_not_found()),
    }
}

/// One object, shaped by `Accept` (Table, PartialObjectMetadata or the object).
fn object_resp(ctx: &Ctx, r: &'static Res, code: u16, o: &Obj) -> Resp {
    match ctx.shape() {
        Shape::Full => respond(code, "application/json", Bytes::from(o.to_string())),
        Shape::Metadata => json_resp(code, &table::partial(o)),
        Shape::Table(include) => {
            let core = if r.is_events_v1() {
                super::events::v1_to_core(o)
            } else {
                (**o).clone()
            };
            let meta = json!({"resourceVersion": o["metadata"]["resourceVersion"]});
            let t = table::table(
                r,
                std::iter::once((&core, (**o).clone())),
                include,
                meta,
                true,
            );
            json_resp(code, &t)
        }
    }
}

fn selectors(ctx: &Ctx, r: &Res) -> Result<ListOpts, ApiError> {
    let labels = LabelSelector::parse(ctx.q("labelSelector").unwrap_or(""))
        .map_err(ApiError::bad_request)?;
    let fields = FieldSelector::parse(ctx.q("fieldSelector").unwrap_or(""))
        .map_err(ApiError::bad_request)?;
    for (f, _, _) in &fields.reqs {
        if !r.fields.contains(&f.as_str()) {
            return Err(ApiError::bad_request(format!(
                "field label not supported: {f}"
            )));
        }
    }
    Ok(ListOpts {
        labels,
        fields,
        ..ListOpts::default()
    })
}

fn encode_continue(rv: u64, key: &NsName) -> String {
    let token =
        json!({"v": "meta.k8s.io/v1", "rv": rv, "start": format!("{}/{}\u{0}", key.0, key.1)});
    util::b64url_encode(token.to_string().as_bytes())
}

fn decode_continue(token: &str) -> Result<NsName, ApiError> {
    let bad = |why: &str| ApiError::bad_request(format!("continue key is not valid: {why}"));
    let raw = util::b64url_decode(token).ok_or_else(|| bad("illegal base64 data"))?;
    let v: Value = serde_json::from_slice(&raw).map_err(|e| bad(&e.to_string()))?;
    if v["v"] != "meta.k8s.io/v1" {
        return Err(bad(
            "incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
        ));
    }
    let start = v["start"].as_str().ok_or_else(|| bad("no start key"))?;
    let start = start.strip_suffix('\u{0}').unwrap_or(start);
    let (ns, name) = start
        .split_once('/')
        .ok_or_else(|| bad("malformed start key"))?;
    Ok((ns.to_string(), name.to_string()))
}

fn list(ctx: &Ctx, r: &'static Res, ns: Option<&str>) -> Result<Resp, ApiError> {
    let mut opts = selectors(ctx, r)?;
    opts.limit = match ctx.q("limit") {
        None | Some("") => 0,
        Some(l) => l
            .parse::<i64>()
            .map_err(|_| ApiError::bad_request(format!("invalid limit: {l:?}")))?
            .max(0) as usize,
    };
    if let Some(token) = ctx.q("continue").filter(|t| !t.is_empty()) {
        let key = decode_continue(token)?;
        if ns.is_some_and(|ns| key.0 != ns) {
            return Err(ApiError::bad_request(
                "continue key is not valid: namespace does not match",
            ));
        }
        opts.after = Some(key);
    }
    let scope = if r.namespaced { ns } else { None };
    let page = ctx.shared.cluster().list(r, scope, &opts);
    let mut meta = json!({"resourceVersion": page.rv.to_string()});
    if let Some(key) = &page.cont {
        meta["continue"] = json!(encode_continue(page.rv, key));
        if let Some(n) = page.remaining {
            meta["remainingItemCount"] = json!(n);
        }
    }
    let body = match ctx.shape() {
        Shape::Table(include) => {
            let served_items: Vec<Obj> = page.items.iter().map(|o| served(r, o.clone())).collect();
            let t = table::table(
                r,
                page.items
                    .iter()
                    .zip(served_items)
                    .map(|(c, s)| (&**c, (*s).clone())),
                include,
                meta,
                true,
            );
            Bytes::from(t.to_string())
        }
        Shape::Metadata => {
            let items: Vec<Value> = page
                .items
                .iter()
                .map(|o| table::partial(&served(r, o.clone())))
                .collect();
            Bytes::from(
                json!({"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1", "metadata": meta, "items": items})
                    .to_string(),
            )
        }
        Shape::Full => {
            let mut buf = Vec::with_capacity(256 + page.items.len() * 2048);
            buf.extend_from_slice(
                format!(
                    "{{\"kind\":{},\"apiVersion\":{},\"metadata\":{},\"items\":[",
                    json!(r.list_kind()),
                    json!(r.api_version()),
                    meta
                )
                .as_bytes(),
            );
            for (i, o) in page.items.iter().enumerate() {
                if i > 0 {
                    buf.push(b',');
                }
                let o = served(r, o.clone());
                if serde_json::to_writer(&mut buf, &*o).is_err() {
                    return Err(ApiError::injected(500, None));
                }
            }
            buf.extend_from_slice(b"]}");
            Bytes::from(buf)
        }
    };
    Ok(respond(200, "application/json", body))
}

fn delete_opts(ctx: &Ctx) -> Result<DeleteOpts, ApiError> {
    let mut o = DeleteOpts::default();
    if !ctx.body.iter().all(u8::is_ascii_whitespace) {
        let b: Value = serde_json::from_slice(&ctx.body)
            .map_err(|e| ApiError::bad_request(format!("error decoding DeleteOptions: {e}")))?;
        o.grace = b["gracePeriodSeconds"].as_i64();
        o.orphan = b["propagationPolicy"] == "Orphan" || b["orphanDependents"] == true;
        o.uid = b["preconditions"]["uid"].as_str().map(str::to_string);
        o.rv = b["preconditions"]["resourceVersion"]
            .as_str()
            .map(str::to_string);
        o.dry_run = b["dryRun"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x == "All"));
    }
    if let Some(g) = ctx.q("gracePeriodSeconds") {
        o.grace =
            Some(g.parse().map_err(|_| {
                ApiError::bad_request(format!("invalid gracePeriodSeconds: {g:?}"))
            })?);
    }
    if let Some(p) = ctx.q("propagationPolicy") {
        o.orphan = p == "Orphan";
    }
    if ctx.q("orphanDependents") == Some("true") {
        o.orphan = true;
    }
    o.dry_run |= ctx.dry_run();
    Ok(o)
}

fn delete_collection(ctx: &Ctx, r: &'static Res, ns: Option<&str>) -> Result<Resp, ApiError> {
    let opts = selectors(ctx, r)?;
    let del = delete_opts(ctx)?;
    let scope = if r.namespaced { ns } else { None };
    let mut c = ctx.shared.cluster();
    let page = c.list(r, scope, &opts);
    let mut items = Vec::new();
    for o in page.items {
        let ns = o["metadata"]["namespace"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let name = o["metadata"]["name"].as_str().unwrap_or("").to_string();
        if let Ok(Deleted::Object(d)) = c.delete(r, &ns, &name, &del) {
            items.push((*d).clone());
        } else {
            items.push((*served(r, o)).clone());
        }
    }
    let rv = c.store.rv();
    drop(c);
    ctx.kick();
    Ok(json_resp(
        200,
        &json!({"kind": r.list_kind(), "apiVersion": r.api_version(), "metadata": {"resourceVersion": rv.to_string()}, "items": items}),
    ))
}

// ---------------------------------------------------------------------------------------------
// Watch

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

fn watch(
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

/// Test access to the continue-token codec.
#[cfg(test)]
pub(crate) fn continue_round_trip(rv: u64, key: &NsName) -> Result<NsName, ApiError> {
    decode_continue(&encode_continue(rv, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_tokens() {
        let key = ("demo".to_string(), "web-1".to_string());
        assert_eq!(continue_round_trip(42, &key), Ok(key.clone()));
        let token = encode_continue(42, &key);
        let raw = util::b64url_decode(&token).unwrap_or_default();
        let v: Value = serde_json::from_slice(&raw).unwrap_or_default();
        assert_eq!(v["rv"], 42);
        for bad in [
            "!!!",
            "e30",
            &util::b64url_encode(b"{\"v\":\"meta.k8s.io/v1\",\"start\":\"nokey\"}"),
        ] {
            let e = decode_continue(bad);
            assert_eq!(e.map_err(|e| e.code), Err(400), "{bad}");
        }
    }
}
