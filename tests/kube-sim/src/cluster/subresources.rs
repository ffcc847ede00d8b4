//! The subresources beyond status: a pod's eviction (honouring PodDisruptionBudgets) and
//! the scale of deployments and replica sets.

use super::admission::MAX_REPLICAS;
use super::json::{int, is_terminating, name_of, pod_finished, pod_ready, rv_of, set, st};
use super::state::Cluster;
use super::verbs::{apply_patch, PatchKind};
use crate::errors::{self, ApiError};
use crate::resources::{Res, PODS};
use crate::selector::LabelSelector;
use crate::store::Obj;
use serde_json::{json, Map, Value};

fn int_or_percent(v: &Value, total: usize) -> Option<usize> {
    match v {
        Value::Number(n) => n.as_u64().map(|n| n as usize),
        Value::String(s) => {
            let p: usize = s.strip_suffix('%')?.parse().ok()?;
            Some(p.saturating_mul(total).div_ceil(100))
        }
        _ => None,
    }
}

impl Cluster {
    /// `POST pods/{name}/eviction`: honours PodDisruptionBudgets, then deletes gracefully.
    pub(crate) fn evict(
        &mut self,
        ns: &str,
        name: &str,
        body: &Value,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        if !body.is_object() {
            return Err(ApiError::bad_request(
                "the body of the request must be an Eviction object",
            ));
        }
        let kind = st(body, &["kind"]);
        if !kind.is_empty() && kind != "Eviction" {
            return Err(ApiError::bad_request(format!(
                "the object provided is unrecognized (must be of type Eviction): kind {kind:?}"
            )));
        }
        let bname = name_of(body);
        if !bname.is_empty() && bname != name {
            return Err(ApiError::bad_request(
                "name in URL does not match name in Eviction object",
            ));
        }
        let pod = self
            .get(&PODS, ns, name)
            .ok_or_else(|| ApiError::not_found(&PODS, name))?;
        if is_terminating(&pod) {
            return Ok(errors::success(200, None));
        }
        self.check_budgets(ns, &pod)?;
        let dry = dry_run
            || body["deleteOptions"]["dryRun"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == "All"));
        if !dry {
            let grace = body["deleteOptions"]["gracePeriodSeconds"].as_i64();
            self.delete_pod(ns, name, grace, true);
            self.settle();
        }
        Ok(errors::success(201, None))
    }

    fn check_budgets(&self, ns: &str, pod: &Value) -> Result<(), ApiError> {
        if !pod_ready(pod) {
            return Ok(());
        }
        for (_, pdb) in self.store.iter("poddisruptionbudgets", Some(ns), None) {
            let Ok(sel) = LabelSelector::from_json(&pdb["spec"]["selector"]) else {
                continue;
            };
            if !sel.matches_obj(pod) {
                continue;
            }
            let matching: Vec<&Obj> = self
                .store
                .iter("pods", Some(ns), None)
                .map(|(_, p)| p)
                .filter(|p| !is_terminating(p) && !pod_finished(p) && sel.matches_obj(p))
                .collect();
            let expected = matching.len();
            let healthy = matching.iter().filter(|p| pod_ready(p)).count();
            let spec = &pdb["spec"];
            let desired = if !spec["minAvailable"].is_null() {
                int_or_percent(&spec["minAvailable"], expected)
            } else if !spec["maxUnavailable"].is_null() {
                int_or_percent(&spec["maxUnavailable"], expected)
                    .map(|m| expected.saturating_sub(m))
            } else {
                None
            };
            let Some(desired) = desired else {
                continue;
            };
            if healthy <= desired {
                return Err(ApiError {
                    code: 429,
                    reason: "TooManyRequests",
                    message: "Cannot evict pod as it would violate the pod's disruption budget."
                        .into(),
                    details: Some(json!({"causes": [{
                        "reason": "DisruptionBudget",
                        "message": format!(
                            "The disruption budget {} needs {desired} healthy pods and has {healthy} currently",
                            name_of(pdb)
                        ),
                    }]})),
                    retry_after: None,
                });
            }
        }
        Ok(())
    }

    // -----------------------------------------------------------------------------------------
    // Scale subresource

    fn scale_of(o: &Value) -> Value {
        let selector = LabelSelector::from_json(&o["spec"]["selector"])
            .map(|s| s.to_string())
            .unwrap_or_default();
        let mut meta = Map::new();
        for k in [
            "name",
            "namespace",
            "uid",
            "resourceVersion",
            "creationTimestamp",
        ] {
            if let Some(v) = o["metadata"].get(k) {
                meta.insert(k.into(), v.clone());
            }
        }
        json!({
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": meta,
            "spec": {"replicas": int(o, &["spec", "replicas"], 1)},
            "status": {"replicas": int(o, &["status", "replicas"], 0), "selector": selector},
        })
    }

    /// `GET .../scale`.
    pub(crate) fn get_scale(
        &self,
        r: &'static Res,
        ns: &str,
        name: &str,
    ) -> Result<Value, ApiError> {
        let o = self
            .get(r, ns, name)
            .ok_or_else(|| ApiError::not_found(r, name))?;
        Ok(Self::scale_of(&o))
    }

    /// `PUT .../scale`.
    pub(crate) fn update_scale(
        &mut self,
        r: &'static Res,
        ns: &str,
        name: &str,
        body: &Value,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        let old = self
            .get(r, ns, name)
            .ok_or_else(|| ApiError::not_found(r, name))?;
        let kind = st(body, &["kind"]);
        if !body.is_object() || (!kind.is_empty() && kind != "Scale") {
            return Err(ApiError::bad_request(
                "the object provided is unrecognized (must be of type Scale)",
            ));
        }
        let brv = rv_of(body);
        if !brv.is_empty() && brv != rv_of(&old) {
            return Err(ApiError::stale(r, name));
        }
        let replicas = &body["spec"]["replicas"];
        let n = match replicas {
            Value::Null => 0,
            v => v.as_i64().filter(|n| (0..=MAX_REPLICAS).contains(n)).ok_or_else(|| ApiError {
                details: Some(json!({"name": name, "group": "autoscaling", "kind": "Scale"})),
                ..ApiError::invalid(
                    r,
                    name,
                    &[(
                        "spec.replicas".into(),
                        format!("Invalid value: {v}: must be between 0 and {MAX_REPLICAS} (the simulation's limit)"),
                    )],
                )
            })?,
        };
        if n == int(&old, &["spec", "replicas"], 1) {
            return Ok(Self::scale_of(&old));
        }
        let mut o = (*old).clone();
        set(&mut o, &["spec", "replicas"], json!(n));
        let g = int(&old, &["metadata", "generation"], 1) + 1;
        set(&mut o, &["metadata", "generation"], json!(g));
        if dry_run {
            return Ok(Self::scale_of(&o));
        }
        let o = self.put(r, o);
        self.settle();
        let latest = self.get(r, ns, name).unwrap_or(o);
        Ok(Self::scale_of(&latest))
    }

    /// `PATCH .../scale`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn patch_scale(
        &mut self,
        r: &'static Res,
        ns: &str,
        name: &str,
        kind: PatchKind,
        patch: &Value,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        let current = self.get_scale(r, ns, name)?;
        let patched = apply_patch(current, kind, patch)?;
        self.update_scale(r, ns, name, &patched, dry_run)
    }
}
