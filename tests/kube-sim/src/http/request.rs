//! One request, parsed: query, headers, body, the answer's shape, selectors.

use crate::cluster::{ListOpts, PatchKind};
use crate::errors::ApiError;
use crate::resources::Res;
use crate::selector::{FieldSelector, LabelSelector};
use crate::shared::Shared;
use crate::table::Include;
use bytes::Bytes;
use hyper::HeaderMap;
use serde_json::Value;
use std::sync::Arc;

/// One request, parsed.
pub(super) struct Ctx {
    pub(super) shared: Arc<Shared>,
    pub(super) method: String,
    pub(super) headers: HeaderMap,
    pub(super) query: Vec<(String, String)>,
    pub(super) body: Bytes,
}

/// How a GET answer is shaped (`Accept`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Shape {
    Full,
    Table(Include),
    Metadata,
}

impl Ctx {
    pub(super) fn q(&self, key: &str) -> Option<&str> {
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

    pub(super) fn shape(&self) -> Shape {
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

    pub(super) fn dry_run(&self) -> bool {
        self.q("dryRun") == Some("All")
    }

    /// The request body as JSON (POST / PUT).
    pub(super) fn json_body(&self) -> Result<Value, ApiError> {
        let ct = self.header("content-type");
        let media = ct.split(';').next().unwrap_or("").trim();
        if !(media.is_empty() || media == "application/json" || media == "*/*") {
            return Err(ApiError::unsupported_media(media, "application/json"));
        }
        serde_json::from_slice(&self.body)
            .map_err(|e| ApiError::bad_request(format!("error decoding the request body: {e}")))
    }

    pub(super) fn patch_body(&self) -> Result<(PatchKind, Value), ApiError> {
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

    pub(super) fn kick(&self) {
        self.shared.kick.notify_one();
    }
}

pub(super) fn selectors(ctx: &Ctx, r: &Res) -> Result<ListOpts, ApiError> {
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
