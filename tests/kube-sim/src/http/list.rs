//! Lists (paging with continue tokens, in the JSON, Table or metadata shapes) and
//! collection deletes.

use super::body::{json_resp, respond, Resp};
use super::request::{selectors, Ctx, Shape};
use crate::cluster::{served, DeleteOpts, Deleted};
use crate::errors::ApiError;
use crate::resources::Res;
use crate::store::{NsName, Obj};
use crate::table;
use crate::util;
use bytes::Bytes;
use serde_json::{json, Value};

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

pub(super) fn list(ctx: &Ctx, r: &'static Res, ns: Option<&str>) -> Result<Resp, ApiError> {
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

pub(super) fn delete_opts(ctx: &Ctx) -> Result<DeleteOpts, ApiError> {
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

pub(super) fn delete_collection(
    ctx: &Ctx,
    r: &'static Res,
    ns: Option<&str>,
) -> Result<Resp, ApiError> {
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
