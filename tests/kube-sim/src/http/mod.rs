//! The HTTP side: routing, request parsing, JSON / Table / metadata answers, watch streams
//! and fault injection.
//!
//! [`body`] and [`request`] are the leaves (the response body, the parsed request); [`mod@list`]
//! (lists, paging, collection deletes) and [`mod@watch`] (watch streams) build on them; this
//! module serves requests and routes them.

mod body;
mod list;
mod request;
mod watch;

use self::body::{error_resp, json_resp, respond, Resp};
use self::list::{delete_collection, delete_opts, list};
use self::request::{Ctx, Shape};
use self::watch::watch;
use crate::cluster::{self, Deleted, PatchKind};
use crate::errors::ApiError;
use crate::resources::{self as res, Res, DEPLOYMENTS, PODS, REPLICASETS};
use crate::shared::{RequestRecord, Shared};
use crate::store::Obj;
use crate::table;
use crate::util;
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::Request;
use serde_json::{json, Value};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

/// Request bodies above this are refused.
const MAX_BODY: usize = 64 << 20;

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
        (Some("log"), Some(name)) if std::ptr::eq(r, &PODS) => {
            if m != "GET" {
                return Err(ApiError::method_not_allowed());
            }
            let flag = |k: &str| ctx.q(k).is_some_and(|v| v == "true" || v == "1");
            let number = |k: &str| -> Result<Option<u64>, ApiError> {
                ctx.q(k)
                    .map(|v| {
                        v.parse()
                            .map_err(|_| ApiError::bad_request(format!("{k}: invalid value {v:?}")))
                    })
                    .transpose()
            };
            let opts = cluster::LogOpts {
                container: ctx.q("container").map(str::to_owned),
                timestamps: flag("timestamps"),
                since_seconds: number("sinceSeconds")?,
                tail_lines: number("tailLines")?.map(|n| n as usize),
                previous: flag("previous"),
            };
            let text = ctx
                .shared
                .cluster()
                .read_log(ns.unwrap_or(""), name, &opts)?;
            Ok(respond(200, "text/plain", Bytes::from(text)))
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
