//! Seeding and inspection for the Rust API ([`crate::Sim`]): namespaces, nodes, deployments
//! and bare pods created ready at once, labels, ages, and objects read back.

use super::admission::default_pod_spec;
use super::json::set;
use super::state::{storage, Cluster};
use crate::resources::{self as res, DEPLOYMENTS, NAMESPACES, NODES, PODS};
use crate::util;
use serde_json::{json, Map, Value};
use std::time::{Duration, SystemTime};

impl Cluster {
    // -----------------------------------------------------------------------------------------
    // Seeding and inspection for the Rust API

    /// Creates a namespace when missing.
    pub(crate) fn ensure_namespace(&mut self, name: &str) {
        if self.store.get("namespaces", "", name).is_none() {
            let _ = self.create(&NAMESPACES, "", json!({"metadata": {"name": name}}), false);
        }
    }

    /// Adds a Ready node (or adds labels to an existing one).
    pub(crate) fn add_node(&mut self, name: &str, labels: &[(&str, &str)]) {
        let label_map = label_map(labels);
        if let Some(n) = self.get(&NODES, "", name) {
            let mut n = (*n).clone();
            for (k, v) in label_map {
                set(&mut n, &["metadata", "labels", &k], v);
            }
            self.put(&NODES, n);
        } else {
            let _ = self.create(
                &NODES,
                "",
                json!({"metadata": {"name": name, "labels": label_map}}),
                false,
            );
        }
        self.settle();
    }

    /// A deployment with Running and Ready pods.
    pub(crate) fn add_deployment(
        &mut self,
        ns: &str,
        name: &str,
        replicas: u32,
        labels: &[(&str, &str)],
    ) {
        self.ensure_namespace(ns);
        let label_map = label_map(labels);
        let d = json!({
            "metadata": {"name": name, "labels": label_map},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": label_map},
                "template": {
                    "metadata": {"labels": label_map},
                    "spec": {"containers": [{"name": "app", "image": "registry.local/demo:1"}]},
                },
            },
        });
        self.instant = true;
        let _ = self.create(&DEPLOYMENTS, ns, d, false);
        self.settle();
        self.instant = false;
    }

    /// Bare Running and Ready pods `{prefix}-{i:05}`.
    pub(crate) fn add_pods(
        &mut self,
        ns: &str,
        prefix: &str,
        count: usize,
        labels: &[(&str, &str)],
    ) {
        self.ensure_namespace(ns);
        let label_map = label_map(labels);
        let nodes = self.schedulable_nodes();
        for i in 0..count {
            let name = format!("{prefix}-{i:05}");
            if self.store.get("pods", ns, &name).is_some() {
                continue;
            }
            let mut pod = json!({"metadata": {"name": name, "namespace": ns, "labels": label_map}, "spec": {}});
            default_pod_spec(&mut pod["spec"]);
            self.stamp(&PODS, &mut pod);
            set(
                &mut pod,
                &["status"],
                json!({"phase": "Pending", "qosClass": "BestEffort"}),
            );
            if let Some(node) = self.pick_from(&nodes) {
                self.bind(&mut pod, &node);
            }
            self.make_running(&mut pod, true);
            self.put(&PODS, pod);
        }
        self.settle();
    }

    /// Sets `metadata.{field}.{key}` (labels or annotations) on an object.
    pub(crate) fn set_meta(
        &mut self,
        resource: &str,
        ns: &str,
        name: &str,
        field: &str,
        key: &str,
        value: &str,
    ) -> bool {
        let Some(r) = res::by_name(resource) else {
            return false;
        };
        let Some(o) = self.get(r, ns, name) else {
            return false;
        };
        let mut o = (*o).clone();
        set(&mut o, &["metadata", field, key], json!(value));
        self.put(r, o);
        self.settle();
        true
    }

    /// Makes a pod `age` old.
    pub(crate) fn set_pod_age(&mut self, ns: &str, name: &str, age: Duration) -> bool {
        let Some(p) = self.get(&PODS, ns, name) else {
            return false;
        };
        let mut p = (*p).clone();
        let t = util::rfc3339(
            SystemTime::now()
                .checked_sub(age)
                .unwrap_or(SystemTime::UNIX_EPOCH),
        );
        set(&mut p, &["metadata", "creationTimestamp"], json!(t));
        if !p["status"]["startTime"].is_null() {
            set(&mut p, &["status", "startTime"], json!(t));
        }
        self.put(&PODS, p);
        self.settle();
        true
    }

    /// Objects of a resource (core shapes), sorted.
    pub(crate) fn objects(&self, resource: &str, ns: &str) -> Vec<Value> {
        let Some(r) = res::by_name(resource) else {
            return Vec::new();
        };
        let scope = if ns.is_empty() || !r.namespaced {
            None
        } else {
            Some(ns)
        };
        self.store
            .iter(storage(r).storage, scope, None)
            .map(|(_, o)| (**o).clone())
            .collect()
    }

    /// One object (core shape).
    pub(crate) fn object(&self, resource: &str, ns: &str, name: &str) -> Option<Value> {
        let r = res::by_name(resource)?;
        self.get(storage(r), ns, name).map(|o| (*o).clone())
    }
}

/// `labels` as a JSON object.
fn label_map(labels: &[(&str, &str)]) -> Map<String, Value> {
    labels
        .iter()
        .map(|(k, v)| ((*k).to_string(), json!(v)))
        .collect()
}
