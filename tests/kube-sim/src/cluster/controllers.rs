//! The workload controllers: replica sets (pods to match `replicas`, replacements after a
//! delay), deployments (rollouts through replica sets, status and conditions) and the
//! garbage collector (cascading deletion, namespace deletion).

use super::admission::default_pod_spec;
use super::json::{
    controller_of, created, int, is_terminating, name_of, ns_of, pod_finished, pod_ready, set,
    set_condition, st, uid_of,
};
use super::state::{Action, Cluster};
use crate::resources::{self as res, DEPLOYMENTS, NAMESPACES, PODS, REPLICASETS};
use crate::selector::LabelSelector;
use crate::store::Obj;
use crate::util;
use serde_json::{json, Value};
use std::time::{Instant, SystemTime};

pub(super) const HASH_LABEL: &str = "pod-template-hash";
pub(super) const REVISION: &str = "deployment.kubernetes.io/revision";

impl Cluster {
    /// Deletes (or orphans) what `owner` owns: the garbage collector.
    pub(super) fn cascade(&mut self, owner: &Value, orphan: bool) {
        let uid = uid_of(owner).to_string();
        for (resource, ns, name) in self.store.owned_by(&uid) {
            let Some(r) = res::by_name(resource) else {
                continue;
            };
            if orphan {
                if let Some(o) = self.get(r, &ns, &name) {
                    let mut o = (*o).clone();
                    if let Some(refs) = o["metadata"]["ownerReferences"].as_array_mut() {
                        refs.retain(|x| x["uid"] != uid.as_str());
                    }
                    self.put(r, o);
                }
                continue;
            }
            match resource {
                "pods" => {
                    self.delete_pod(&ns, &name, None, false);
                }
                _ => {
                    if let Some(o) = self.remove(r, &ns, &name) {
                        self.cascade(&o, false);
                    }
                }
            }
        }
    }

    pub(super) fn delete_namespace(&mut self, ns: &str) {
        for r in res::ALL
            .iter()
            .copied()
            .filter(|r| r.namespaced && !r.is_events_v1())
        {
            let names: Vec<String> = self
                .store
                .iter(r.storage, Some(ns), None)
                .map(|(k, _)| k.1.clone())
                .collect();
            for name in names {
                self.remove(r, ns, &name);
            }
        }
        self.remove(&NAMESPACES, "", ns);
    }

    // -----------------------------------------------------------------------------------------
    // Replica sets and deployments

    pub(super) fn reconcile_rs(&mut self, ns: &str, name: &str) {
        let key = (ns.to_string(), name.to_string());
        let Some(rs) = self.store.get("replicasets", ns, name).cloned() else {
            self.replace_due.remove(&key);
            return;
        };
        let uid = uid_of(&rs).to_string();
        let replicas = int(&rs, &["spec", "replicas"], 1).max(0) as usize;
        let sel = LabelSelector::from_json(&rs["spec"]["selector"]).unwrap_or_default();
        let owned: Vec<Obj> = self
            .store
            .owned_by(&uid)
            .into_iter()
            .filter(|(r, _, _)| *r == "pods")
            .filter_map(|(_, pns, pname)| self.store.get("pods", &pns, &pname).cloned())
            .filter(|p| controller_of(p).is_some_and(|c| c.2 == uid))
            .collect();
        let mut active = Vec::new();
        for p in owned {
            if !sel.is_empty() && !sel.matches_obj(&p) {
                // Released: no longer selected, no longer ours.
                let mut q = (*p).clone();
                if let Some(refs) = q["metadata"]["ownerReferences"].as_array_mut() {
                    refs.retain(|x| x["uid"] != uid.as_str());
                }
                if !is_terminating(&p) {
                    self.mark_gone(&p);
                }
                self.put(&PODS, q);
            } else if !is_terminating(&p) && !pod_finished(&p) {
                active.push(p);
            }
        }
        let now = Instant::now();
        if active.len() < replicas {
            match self.replace_due.get(&key).copied() {
                Some(due) if due > now && !self.instant => {
                    if self.rs_wakeups.get(&key) != Some(&due) {
                        self.rs_wakeups.insert(key.clone(), due);
                        self.schedule(
                            due,
                            Action::ReconcileRs {
                                ns: ns.into(),
                                name: name.into(),
                            },
                        );
                    }
                }
                _ => {
                    self.replace_due.remove(&key);
                    for _ in active.len()..replicas {
                        self.create_rs_pod(&rs);
                    }
                }
            }
        } else {
            self.replace_due.remove(&key);
            if active.len() > replicas {
                // Unscheduled first, then not ready, then newest.
                active.sort_by(|a, b| {
                    let rank = |p: &Value| (!st(p, &["spec", "nodeName"]).is_empty(), pod_ready(p));
                    rank(a)
                        .cmp(&rank(b))
                        .then_with(|| created(b).cmp(&created(a)))
                        .then_with(|| name_of(b).cmp(name_of(a)))
                });
                let excess = active.len() - replicas;
                for p in active.into_iter().take(excess) {
                    self.delete_pod(ns, name_of(&p), None, false);
                }
            }
        }
        self.update_rs_status(ns, name);
    }

    fn create_rs_pod(&mut self, rs: &Value) {
        let ns = ns_of(rs).to_string();
        let rs_name = name_of(rs).to_string();
        let name = loop {
            let cand = format!("{rs_name}-{}", self.rng.suffix(5));
            if self.store.get("pods", &ns, &cand).is_none() {
                break cand;
            }
        };
        let tmpl = &rs["spec"]["template"];
        let mut meta = json!({
            "name": name,
            "generateName": format!("{rs_name}-"),
            "namespace": ns,
            "labels": tmpl["metadata"]["labels"].clone(),
            "ownerReferences": [{
                "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs_name,
                "uid": uid_of(rs), "controller": true, "blockOwnerDeletion": true,
            }],
        });
        if tmpl["metadata"]["annotations"].is_object() {
            meta["annotations"] = tmpl["metadata"]["annotations"].clone();
        }
        let mut pod = json!({"metadata": meta, "spec": tmpl["spec"].clone()});
        default_pod_spec(&mut pod["spec"]);
        self.stamp(&PODS, &mut pod);
        set(
            &mut pod,
            &["status"],
            json!({"phase": "Pending", "qosClass": "BestEffort"}),
        );
        self.place_new_pod(&mut pod);
        self.put(&PODS, pod);
    }

    fn update_rs_status(&mut self, ns: &str, name: &str) {
        let Some(rs) = self.store.get("replicasets", ns, name).cloned() else {
            return;
        };
        let uid = uid_of(&rs).to_string();
        let tmpl_labels = rs["spec"]["template"]["metadata"]["labels"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let (mut replicas, mut labeled, mut ready) = (0, 0, 0);
        for (r, pns, pname) in self.store.owned_by(&uid) {
            let Some(p) = self.store.get(r, &pns, &pname) else {
                continue;
            };
            if r != "pods"
                || controller_of(p).is_none_or(|c| c.2 != uid)
                || is_terminating(p)
                || pod_finished(p)
            {
                continue;
            }
            replicas += 1;
            let labels = p["metadata"]["labels"].as_object();
            if tmpl_labels
                .iter()
                .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
            {
                labeled += 1;
            }
            if pod_ready(p) {
                ready += 1;
            }
        }
        let mut status = json!({"replicas": replicas});
        for (k, v) in [
            ("fullyLabeledReplicas", labeled),
            ("readyReplicas", ready),
            ("availableReplicas", ready),
        ] {
            if v > 0 {
                status[k] = json!(v);
            }
        }
        status["observedGeneration"] = json!(int(&rs, &["metadata", "generation"], 1));
        if rs["status"] != status {
            let mut rs = (*rs).clone();
            rs["status"] = status;
            self.put(&REPLICASETS, rs);
        }
    }

    fn owned_rs(&self, uid: &str) -> Vec<Obj> {
        self.store
            .owned_by(uid)
            .into_iter()
            .filter(|(r, _, _)| *r == "replicasets")
            .filter_map(|(_, ns, name)| self.store.get("replicasets", &ns, &name).cloned())
            .filter(|rs| controller_of(rs).is_some_and(|c| c.2 == uid))
            .collect()
    }

    pub(super) fn reconcile_deployment(&mut self, ns: &str, name: &str) {
        let Some(d) = self.store.get("deployments", ns, name).cloned() else {
            return;
        };
        if is_terminating(&d) {
            return;
        }
        let uid = uid_of(&d).to_string();
        let replicas = int(&d, &["spec", "replicas"], 1).max(0);
        let template = d["spec"]["template"].clone();
        let hash = util::template_hash(&template);
        let owned = self.owned_rs(&uid);
        let revision = |rs: &Value| -> i64 {
            st(rs, &["metadata", "annotations", REVISION])
                .parse()
                .unwrap_or(0)
        };
        let max_rev = owned.iter().map(|rs| revision(rs)).max().unwrap_or(0);
        let current = owned
            .iter()
            .find(|rs| st(rs, &["metadata", "labels", HASH_LABEL]) == hash)
            .cloned();
        match current {
            None => {
                let rs_name = format!("{name}-{hash}");
                if self.store.get("replicasets", ns, &rs_name).is_none() {
                    let mut labels = template["metadata"]["labels"].clone();
                    set(&mut labels, &[HASH_LABEL], json!(hash));
                    let mut tmpl = template.clone();
                    set(&mut tmpl, &["metadata", "labels"], labels.clone());
                    let mut selector = d["spec"]["selector"].clone();
                    set(&mut selector, &["matchLabels", HASH_LABEL], json!(hash));
                    let mut rs = json!({
                        "metadata": {
                            "name": rs_name, "namespace": ns, "labels": labels,
                            "annotations": {
                                REVISION: (max_rev + 1).to_string(),
                                "deployment.kubernetes.io/desired-replicas": replicas.to_string(),
                                "deployment.kubernetes.io/max-replicas": (replicas + (replicas + 3) / 4).to_string(),
                            },
                            "ownerReferences": [{
                                "apiVersion": "apps/v1", "kind": "Deployment", "name": name,
                                "uid": uid, "controller": true, "blockOwnerDeletion": true,
                            }],
                        },
                        "spec": {"replicas": replicas, "selector": selector, "template": tmpl},
                    });
                    self.stamp(&REPLICASETS, &mut rs);
                    if Self::prepare_workload(&REPLICASETS, &rs_name, &mut rs).is_ok() {
                        set(&mut rs, &["status"], json!({"replicas": 0}));
                        self.put(&REPLICASETS, rs);
                    }
                }
            }
            Some(rs) => {
                let rev = revision(&rs);
                let mut changed = (*rs).clone();
                if int(&rs, &["spec", "replicas"], 1) != replicas {
                    set(&mut changed, &["spec", "replicas"], json!(replicas));
                    set(
                        &mut changed,
                        &[
                            "metadata",
                            "annotations",
                            "deployment.kubernetes.io/desired-replicas",
                        ],
                        json!(replicas.to_string()),
                    );
                    let g = int(&rs, &["metadata", "generation"], 1) + 1;
                    set(&mut changed, &["metadata", "generation"], json!(g));
                }
                if rev < max_rev {
                    set(
                        &mut changed,
                        &["metadata", "annotations", REVISION],
                        json!((max_rev + 1).to_string()),
                    );
                }
                if changed != *rs {
                    self.put(&REPLICASETS, changed);
                }
            }
        }
        for rs in self.owned_rs(&uid) {
            if st(&rs, &["metadata", "labels", HASH_LABEL]) != hash
                && int(&rs, &["spec", "replicas"], 1) != 0
            {
                let mut o = (*rs).clone();
                set(&mut o, &["spec", "replicas"], json!(0));
                let g = int(&rs, &["metadata", "generation"], 1) + 1;
                set(&mut o, &["metadata", "generation"], json!(g));
                self.put(&REPLICASETS, o);
            }
        }
        self.update_deployment_status(ns, name, &hash);
    }

    fn update_deployment_status(&mut self, ns: &str, name: &str, hash: &str) {
        let Some(d) = self.store.get("deployments", ns, name).cloned() else {
            return;
        };
        let all = self.owned_rs(uid_of(&d));
        let sum = |f: &str| -> i64 { all.iter().map(|rs| int(rs, &["status", f], 0)).sum() };
        let new_rs = all
            .iter()
            .find(|rs| st(rs, &["metadata", "labels", HASH_LABEL]) == hash);
        let spec_replicas = int(&d, &["spec", "replicas"], 1);
        let replicas = sum("replicas");
        let updated = new_rs.map_or(0, |rs| int(rs, &["status", "replicas"], 0));
        let ready = sum("readyReplicas");
        let available = sum("availableReplicas");
        let total_spec: i64 = all.iter().map(|rs| int(rs, &["spec", "replicas"], 0)).sum();
        let unavailable = (total_spec - available).max(0);
        let rs_name = new_rs.map(|rs| name_of(rs).to_string()).unwrap_or_default();
        let mut status = json!({"observedGeneration": int(&d, &["metadata", "generation"], 1)});
        for (k, v) in [
            ("replicas", replicas),
            ("updatedReplicas", updated),
            ("readyReplicas", ready),
            ("availableReplicas", available),
            ("unavailableReplicas", unavailable),
        ] {
            if v > 0 {
                status[k] = json!(v);
            }
        }
        let old_status = if d["status"].is_object() {
            d["status"].clone()
        } else {
            json!({})
        };
        let mut with_conds = json!({"status": old_status});
        let is_available = available >= spec_replicas;
        let (areason, amsg) = if is_available {
            (
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
            )
        } else {
            (
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
            )
        };
        let complete = updated == spec_replicas && replicas == updated && available >= updated;
        let (preason, pmsg) = if complete {
            (
                "NewReplicaSetAvailable",
                format!("ReplicaSet \"{rs_name}\" has successfully progressed."),
            )
        } else {
            (
                "ReplicaSetUpdated",
                format!("ReplicaSet \"{rs_name}\" is progressing."),
            )
        };
        for (kind, ok, reason, msg) in [
            ("Available", is_available, areason, amsg.to_string()),
            ("Progressing", true, preason, pmsg),
        ] {
            let old = with_conds["status"]["conditions"]
                .as_array()
                .and_then(|c| c.iter().find(|c| c["type"] == kind))
                .cloned();
            let same = old.as_ref().is_some_and(|o| {
                o["status"] == if ok { "True" } else { "False" }
                    && o["reason"] == reason
                    && o["message"] == msg.as_str()
            });
            if !same {
                set_condition(&mut with_conds, kind, ok, Some(reason), Some(&msg));
                if let Some(c) = with_conds["status"]["conditions"]
                    .as_array_mut()
                    .and_then(|c| c.iter_mut().find(|c| c["type"] == kind))
                {
                    if let Some(m) = c.as_object_mut() {
                        m.remove("lastProbeTime");
                        m.insert(
                            "lastUpdateTime".into(),
                            json!(util::rfc3339(SystemTime::now())),
                        );
                    }
                }
            }
        }
        let mut conds = with_conds["status"]["conditions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        conds.retain(|c| c["type"] == "Available" || c["type"] == "Progressing");
        conds.sort_by_key(|c| c["type"] != "Available");
        status["conditions"] = Value::Array(conds);
        let revision = new_rs
            .map(|rs| st(rs, &["metadata", "annotations", REVISION]).to_string())
            .unwrap_or_default();
        let mut o = (*d).clone();
        o["status"] = status;
        if !revision.is_empty() {
            set(
                &mut o,
                &["metadata", "annotations", REVISION],
                json!(revision),
            );
        }
        if o != *d {
            self.put(&DEPLOYMENTS, o);
        }
    }
}
