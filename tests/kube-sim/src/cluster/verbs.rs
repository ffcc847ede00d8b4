//! The generic API verbs: list, create, replace, patch and delete, with the API server's
//! semantics (preconditions, dry runs, status subresource, cascading deletion).

use super::admission::{check_type, default_pod_spec};
use super::json::{int, name_of, ns_of, rv_of, set, st, uid_of, unset};
use super::state::{served, storage, Cluster};
use crate::errors::{self, ApiError};
use crate::events;
use crate::patch::{self, PatchError};
use crate::resources::{self as res, Res, NODES};
use crate::selector::{FieldSelector, LabelSelector};
use crate::store::{NsName, Obj};
use serde_json::{json, Value};
use std::sync::Arc;

/// How a patch body is to be read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum PatchKind {
    /// JSON merge patch (and strategic merge patch, read as one).
    Merge,
    /// JSON patch.
    Json,
    /// Server-side apply, approximated: a merge patch onto the object (no field managers).
    Apply,
}

/// Options of a delete.
#[derive(Debug, Clone, Default)]
pub(crate) struct DeleteOpts {
    pub grace: Option<i64>,
    pub orphan: bool,
    pub uid: Option<String>,
    pub rv: Option<String>,
    pub dry_run: bool,
}

/// What a delete answers.
#[derive(Debug)]
pub(crate) enum Deleted {
    /// The object (pods: with deletionTimestamp when graceful, as it was when removed).
    Object(Obj),
    /// `Status` Success with details.
    Status(Value),
}

/// Options of a list.
#[derive(Debug, Clone, Default)]
pub(crate) struct ListOpts {
    pub labels: LabelSelector,
    pub fields: FieldSelector,
    /// 0 = no limit.
    pub limit: usize,
    pub after: Option<NsName>,
}

impl ListOpts {
    /// Whether `obj` (core shape) is selected.
    pub(crate) fn matches(&self, obj: &Value) -> bool {
        self.labels.matches_obj(obj) && self.fields.matches(|f| res::field_value(obj, f))
    }
}

/// One page of a list.
#[derive(Debug)]
pub(crate) struct Page {
    pub rv: u64,
    pub items: Vec<Obj>,
    /// Where the page ended, when more remain.
    pub cont: Option<NsName>,
    pub remaining: Option<usize>,
}

fn details(r: &Res, name: &str, uid: &str) -> Value {
    let mut d = json!({"name": name, "kind": r.name, "uid": uid});
    if !r.group.is_empty() {
        d["group"] = json!(r.group);
    }
    d
}

impl Cluster {
    // -----------------------------------------------------------------------------------------
    // Generic API operations

    /// A list page.
    pub(crate) fn list(&self, r: &'static Res, ns: Option<&str>, o: &ListOpts) -> Page {
        let sr = storage(r);
        let mut items = Vec::new();
        let mut last = None;
        let mut more = false;
        for (k, obj) in self.store.iter(sr.storage, ns, o.after.as_ref()) {
            if !o.matches(obj) {
                continue;
            }
            if o.limit > 0 && items.len() >= o.limit {
                more = true;
                break;
            }
            items.push(obj.clone());
            last = Some(k.clone());
        }
        let unfiltered = o.labels.is_empty() && o.fields.is_empty();
        let remaining = if more && unfiltered {
            Some(self.store.iter(sr.storage, ns, last.as_ref()).count())
        } else {
            None
        };
        Page {
            rv: self.store.rv(),
            items,
            cont: if more { last } else { None },
            remaining,
        }
    }

    /// Creates an object (POST).
    pub(crate) fn create(
        &mut self,
        r: &'static Res,
        ns: &str,
        body: Value,
        dry_run: bool,
    ) -> Result<Obj, ApiError> {
        check_type(r, &body)?;
        let sr = storage(r);
        let mut obj = if r.is_events_v1() {
            events::v1_to_core(&body)
        } else {
            body
        };
        if !obj["metadata"].is_object() {
            set(&mut obj, &["metadata"], json!({}));
        }
        let nsk = if r.namespaced { ns } else { "" };
        if r.namespaced {
            let bns = st(&obj, &["metadata", "namespace"]);
            if !bns.is_empty() && bns != ns {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            if self.store.get("namespaces", "", ns).is_none() {
                return Err(ApiError::namespace_not_found(ns));
            }
            set(&mut obj, &["metadata", "namespace"], json!(ns));
        } else {
            unset(&mut obj, &["metadata", "namespace"]);
        }
        let mut name = name_of(&obj).to_string();
        if name.is_empty() {
            let gen = st(&obj, &["metadata", "generateName"]).to_string();
            if gen.is_empty() {
                return Err(ApiError::invalid(
                    r,
                    "",
                    &[(
                        "metadata.name".into(),
                        "Required value: name or generateName is required".into(),
                    )],
                ));
            }
            loop {
                let cand = format!("{gen}{}", self.rng.suffix(5));
                if self.store.get(sr.storage, nsk, &cand).is_none() {
                    name = cand;
                    break;
                }
            }
            set(&mut obj, &["metadata", "name"], json!(name));
        }
        Self::validate_name(sr, &name)?;
        if self.store.get(sr.storage, nsk, &name).is_some() {
            return Err(ApiError::already_exists(r, &name));
        }
        if r.is_events_v1() {
            let errs = events::validate_v1(&obj);
            if !errs.is_empty() {
                return Err(ApiError::invalid(r, &name, &errs));
            }
        }
        self.stamp(sr, &mut obj);
        match sr.storage {
            "pods" => {
                default_pod_spec(&mut obj["spec"]);
                set(
                    &mut obj,
                    &["status"],
                    json!({"phase": "Pending", "qosClass": "BestEffort"}),
                );
            }
            "deployments" | "replicasets" => {
                Self::prepare_workload(sr, &name, &mut obj)?;
                set(&mut obj, &["status"], json!({}));
            }
            "namespaces" => {
                set(
                    &mut obj,
                    &["metadata", "labels", "kubernetes.io/metadata.name"],
                    json!(name),
                );
                set(&mut obj, &["spec"], json!({"finalizers": ["kubernetes"]}));
                set(&mut obj, &["status"], json!({"phase": "Active"}));
            }
            "nodes" => self.default_node(&mut obj),
            _ => {}
        }
        if dry_run {
            return Ok(Arc::new(obj));
        }
        if sr.storage == "pods" {
            self.place_new_pod(&mut obj);
        }
        let o = self.put(sr, obj);
        self.settle();
        Ok(served(r, o))
    }

    /// Replaces an object (PUT), or its status (`sub` = "status").
    pub(crate) fn update(
        &mut self,
        r: &'static Res,
        ns: &str,
        name: &str,
        body: Value,
        sub: Option<&str>,
        dry_run: bool,
    ) -> Result<Obj, ApiError> {
        check_type(r, &body)?;
        let old = self
            .get(storage(r), ns, name)
            .ok_or_else(|| ApiError::not_found(r, name))?;
        let obj = if r.is_events_v1() {
            events::v1_to_core(&body)
        } else {
            body
        };
        let bname = name_of(&obj);
        if !bname.is_empty() && bname != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({bname}) does not match the name on the URL ({name})"
            )));
        }
        let bns = ns_of(&obj);
        if r.namespaced && !bns.is_empty() && bns != ns {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        let brv = rv_of(&obj);
        if !brv.is_empty() && brv != rv_of(&old) {
            return Err(ApiError::stale(r, name));
        }
        self.finish_update(r, &old, obj, sub, dry_run)
    }

    /// Patches an object, or its status.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn patch(
        &mut self,
        r: &'static Res,
        ns: &str,
        name: &str,
        kind: PatchKind,
        patch: &Value,
        sub: Option<&str>,
        dry_run: bool,
    ) -> Result<Obj, ApiError> {
        let old = self
            .get(storage(r), ns, name)
            .ok_or_else(|| ApiError::not_found(r, name))?;
        let current = (*served(r, old.clone())).clone();
        let patched = apply_patch(current, kind, patch)?;
        let prv = rv_of(&patched);
        if !prv.is_empty() && prv != rv_of(&old) {
            return Err(ApiError::stale(r, name));
        }
        let obj = if r.is_events_v1() {
            events::v1_to_core(&patched)
        } else {
            patched
        };
        self.finish_update(r, &old, obj, sub, dry_run)
    }

    fn finish_update(
        &mut self,
        r: &'static Res,
        old: &Obj,
        mut obj: Value,
        sub: Option<&str>,
        dry_run: bool,
    ) -> Result<Obj, ApiError> {
        let sr = storage(r);
        let name = name_of(old).to_string();
        if !obj.is_object() {
            return Err(ApiError::bad_request("the object must be a JSON object"));
        }
        if !obj["metadata"].is_object() {
            set(&mut obj, &["metadata"], json!({}));
        }
        for k in [
            "name",
            "namespace",
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
            "resourceVersion",
        ] {
            match old["metadata"].get(k) {
                Some(v) => set(&mut obj, &["metadata", k], v.clone()),
                None => unset(&mut obj, &["metadata", k]),
            }
        }
        set(&mut obj, &["apiVersion"], json!(sr.api_version()));
        set(&mut obj, &["kind"], json!(sr.kind));
        if sub == Some("status") {
            let status = obj.get("status").cloned();
            obj = (**old).clone();
            match status {
                Some(s) => set(&mut obj, &["status"], s),
                None => unset(&mut obj, &["status"]),
            }
        } else {
            if sr.has_status {
                match old.get("status") {
                    Some(s) => set(&mut obj, &["status"], s.clone()),
                    None => unset(&mut obj, &["status"]),
                }
            }
            match sr.storage {
                "deployments" | "replicasets" => {
                    Self::prepare_workload(sr, &name, &mut obj)?;
                    if obj["spec"] != old["spec"] {
                        let g = int(old, &["metadata", "generation"], 1) + 1;
                        set(&mut obj, &["metadata", "generation"], json!(g));
                    }
                }
                "pods" => {
                    let node = st(old, &["spec", "nodeName"]).to_string();
                    if !node.is_empty() && st(&obj, &["spec", "nodeName"]).is_empty() {
                        set(&mut obj, &["spec", "nodeName"], json!(node));
                    }
                }
                _ => {}
            }
        }
        if r.is_events_v1() {
            let errs = events::validate_v1(&obj);
            if !errs.is_empty() {
                return Err(ApiError::invalid(r, &name, &errs));
            }
        }
        if obj == **old {
            return Ok(served(r, old.clone()));
        }
        if dry_run {
            return Ok(served(r, Arc::new(obj)));
        }
        let o = self.put(sr, obj);
        self.settle();
        Ok(served(r, o))
    }

    /// Deletes an object.
    pub(crate) fn delete(
        &mut self,
        r: &'static Res,
        ns: &str,
        name: &str,
        opts: &DeleteOpts,
    ) -> Result<Deleted, ApiError> {
        let sr = storage(r);
        let old = self
            .get(sr, ns, name)
            .ok_or_else(|| ApiError::not_found(r, name))?;
        if let Some(uid) = opts.uid.as_deref().filter(|u| !u.is_empty()) {
            if uid != uid_of(&old) {
                return Err(ApiError::conflict(
                    r,
                    name,
                    &format!(
                        "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                        uid_of(&old)
                    ),
                ));
            }
        }
        if let Some(rv) = opts.rv.as_deref().filter(|u| !u.is_empty()) {
            if rv != rv_of(&old) {
                return Err(ApiError::conflict(
                    r,
                    name,
                    &format!(
                        "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
                        rv_of(&old)
                    ),
                ));
            }
        }
        let status = errors::success(200, Some(details(r, name, uid_of(&old))));
        if opts.dry_run {
            return Ok(if sr.storage == "pods" {
                Deleted::Object(old)
            } else {
                Deleted::Status(status)
            });
        }
        let out = match sr.storage {
            "pods" => Deleted::Object(self.delete_pod(ns, name, opts.grace, true).unwrap_or(old)),
            "nodes" => {
                self.remove(&NODES, "", name);
                self.remove_node_pods(name);
                Deleted::Status(status)
            }
            "deployments" | "replicasets" => {
                self.remove(sr, ns, name);
                self.cascade(&old, opts.orphan);
                Deleted::Status(status)
            }
            "namespaces" => {
                self.delete_namespace(name);
                Deleted::Status(status)
            }
            _ => {
                self.remove(sr, if r.namespaced { ns } else { "" }, name);
                Deleted::Status(status)
            }
        };
        self.settle();
        Ok(match out {
            Deleted::Object(o) => Deleted::Object(served(r, o)),
            other => other,
        })
    }
}

/// Applies a merge or JSON patch, mapping failures to API errors.
pub(crate) fn apply_patch(
    current: Value,
    kind: PatchKind,
    patch: &Value,
) -> Result<Value, ApiError> {
    match kind {
        PatchKind::Merge | PatchKind::Apply => {
            if !patch.is_object() {
                return Err(ApiError::bad_request(
                    "the patch must be a JSON object (merge patch)",
                ));
            }
            let mut d = current;
            patch::merge_patch(&mut d, patch);
            Ok(d)
        }
        PatchKind::Json => patch::json_patch(&current, patch).map_err(|e| match e {
            PatchError::Malformed(m) => ApiError::bad_request(m),
            PatchError::Failed(m) => ApiError::unprocessable(m),
        }),
    }
}
