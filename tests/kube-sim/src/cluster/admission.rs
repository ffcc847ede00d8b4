//! What the API server does to an object before storing it: type and name checks, and the
//! defaults of pods, workloads (deployments, replica sets) and nodes.

use super::json::{name_of, set, set_condition, st, unset, walk};
use super::state::Cluster;
use crate::errors::ApiError;
use crate::resources::Res;
use crate::selector::LabelSelector;
use crate::util;
use serde_json::{json, Value};
use std::time::SystemTime;

/// The most replicas a deployment or replica set may ask for (the simulation's limit).
pub(super) const MAX_REPLICAS: i64 = 100_000;

/// Checks `kind`/`apiVersion` of a body, when given.
pub(super) fn check_type(r: &Res, body: &Value) -> Result<(), ApiError> {
    if !body.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request must be a JSON object",
        ));
    }
    let kind = st(body, &["kind"]);
    if !kind.is_empty() && kind != r.kind {
        return Err(ApiError::bad_request(format!(
            "the object provided is unrecognized (must be of type {}): kind {kind:?}",
            r.kind
        )));
    }
    let av = st(body, &["apiVersion"]);
    if !av.is_empty() && av != r.api_version() {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({av}) does not match the expected API version ({})",
            r.api_version()
        )));
    }
    Ok(())
}

fn default_container(c: &mut Value) {
    let Some(m) = c.as_object_mut() else {
        return;
    };
    m.entry("image").or_insert(json!("registry.local/demo:1"));
    m.entry("imagePullPolicy").or_insert(json!("IfNotPresent"));
    m.entry("resources").or_insert(json!({}));
    m.entry("terminationMessagePath")
        .or_insert(json!("/dev/termination-log"));
    m.entry("terminationMessagePolicy").or_insert(json!("File"));
}

/// Pod spec defaults (one container "app" when none is given).
pub(super) fn default_pod_spec(spec: &mut Value) {
    if !spec.is_object() {
        *spec = json!({});
    }
    if spec["containers"].as_array().is_none_or(Vec::is_empty) {
        spec["containers"] = json!([{"name": "app", "image": "registry.local/demo:1"}]);
    }
    if let Some(cs) = spec["containers"].as_array_mut() {
        cs.iter_mut().for_each(default_container);
    }
    if let Some(m) = spec.as_object_mut() {
        m.entry("restartPolicy").or_insert(json!("Always"));
        m.entry("terminationGracePeriodSeconds")
            .or_insert(json!(30));
        m.entry("dnsPolicy").or_insert(json!("ClusterFirst"));
        m.entry("schedulerName")
            .or_insert(json!("default-scheduler"));
        m.entry("serviceAccountName").or_insert(json!("default"));
        m.entry("securityContext").or_insert(json!({}));
        m.entry("enableServiceLinks").or_insert(json!(true));
    }
}

impl Cluster {
    pub(super) fn validate_name(r: &Res, name: &str) -> Result<(), ApiError> {
        let ok = if r.storage == "namespaces" {
            util::is_dns_label(name)
        } else {
            util::is_dns_subdomain(name)
        };
        if ok {
            return Ok(());
        }
        let what = if r.storage == "namespaces" {
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character"
        } else {
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
        };
        Err(ApiError::invalid(
            r,
            name,
            &[(
                "metadata.name".into(),
                format!("Invalid value: \"{name}\": {what}"),
            )],
        ))
    }

    pub(super) fn stamp(&mut self, sr: &Res, obj: &mut Value) {
        set(obj, &["apiVersion"], json!(sr.api_version()));
        set(obj, &["kind"], json!(sr.kind));
        let uid = self.rng.uid();
        set(obj, &["metadata", "uid"], json!(uid));
        set(
            obj,
            &["metadata", "creationTimestamp"],
            json!(util::rfc3339(SystemTime::now())),
        );
        for k in [
            "resourceVersion",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
        ] {
            unset(obj, &["metadata", k]);
        }
        if matches!(sr.storage, "deployments" | "replicasets") {
            set(obj, &["metadata", "generation"], json!(1));
        }
    }

    /// Validates and defaults a deployment or replica set.
    pub(super) fn prepare_workload(r: &Res, name: &str, obj: &mut Value) -> Result<(), ApiError> {
        let invalid = |f: &str, m: String| ApiError::invalid(r, name, &[(f.to_string(), m)]);
        let replicas = walk(obj, &["spec", "replicas"]).clone();
        match replicas {
            Value::Null => set(obj, &["spec", "replicas"], json!(1)),
            Value::Number(n) if n.as_i64().is_some_and(|n| (0..=MAX_REPLICAS).contains(&n)) => {}
            other => {
                return Err(invalid(
                    "spec.replicas",
                    format!(
                        "Invalid value: {other}: must be between 0 and {MAX_REPLICAS} (the simulation's limit)"
                    ),
                ))
            }
        }
        let sel_json = walk(obj, &["spec", "selector"]);
        let sel = LabelSelector::from_json(sel_json)
            .map_err(|e| invalid("spec.selector", format!("Invalid value: {e}")))?;
        if sel.is_empty() {
            return Err(invalid("spec.selector", "Required value".into()));
        }
        let labels = obj["spec"]["template"]["metadata"]["labels"].as_object();
        if !sel.matches(labels) {
            return Err(invalid(
                "spec.template.metadata.labels",
                format!(
                    "Invalid value: {}: `selector` does not match template `labels`",
                    obj["spec"]["template"]["metadata"]["labels"]
                ),
            ));
        }
        let mut spec = walk(obj, &["spec", "template", "spec"]).clone();
        default_pod_spec(&mut spec);
        set(obj, &["spec", "template", "spec"], spec);
        if r.storage == "deployments" {
            if let Some(m) = obj["spec"].as_object_mut() {
                m.entry("strategy").or_insert(json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}));
                m.entry("revisionHistoryLimit").or_insert(json!(10));
                m.entry("progressDeadlineSeconds").or_insert(json!(600));
            }
        }
        Ok(())
    }

    pub(super) fn default_node(&mut self, n: &mut Value) {
        let name = name_of(n).to_string();
        let count = self.store.count("nodes", None);
        let labels = [
            ("kubernetes.io/hostname", name.as_str()),
            ("kubernetes.io/os", "linux"),
            ("kubernetes.io/arch", "amd64"),
            ("beta.kubernetes.io/os", "linux"),
            ("beta.kubernetes.io/arch", "amd64"),
        ];
        for (k, v) in labels {
            if n["metadata"]["labels"][k].is_null() {
                set(n, &["metadata", "labels", k], json!(v));
            }
        }
        if !n["spec"].is_object() {
            set(n, &["spec"], json!({}));
        }
        if n["spec"]["podCIDR"].is_null() {
            set(
                n,
                &["spec", "podCIDR"],
                json!(format!("10.244.{count}.0/24")),
            );
        }
        if n["status"]["conditions"]
            .as_array()
            .is_none_or(Vec::is_empty)
        {
            for (kind, reason, msg) in [
                (
                    "MemoryPressure",
                    "KubeletHasSufficientMemory",
                    "kubelet has sufficient memory available",
                ),
                (
                    "DiskPressure",
                    "KubeletHasNoDiskPressure",
                    "kubelet has no disk pressure",
                ),
                (
                    "PIDPressure",
                    "KubeletHasSufficientPID",
                    "kubelet has sufficient PID available",
                ),
            ] {
                set_condition(n, kind, false, Some(reason), Some(msg));
            }
            set_condition(
                n,
                "Ready",
                true,
                Some("KubeletReady"),
                Some("kubelet is posting ready status"),
            );
        }
        if n["status"]["addresses"].is_null() {
            set(
                n,
                &["status", "addresses"],
                json!([{"type": "InternalIP", "address": format!("10.0.0.{}", 10 + count % 240)}, {"type": "Hostname", "address": name}]),
            );
        }
        if n["status"]["nodeInfo"].is_null() {
            let id = self.rng.hex(32);
            set(
                n,
                &["status", "nodeInfo"],
                json!({
                    "kubeletVersion": "v1.32.0", "kubeProxyVersion": "v1.32.0",
                    "containerRuntimeVersion": "containerd://1.7.24",
                    "osImage": "Debian GNU/Linux 12 (bookworm)", "kernelVersion": "6.1.0-28-amd64",
                    "operatingSystem": "linux", "architecture": "amd64",
                    "machineID": id, "systemUUID": self.rng.uid(), "bootID": self.rng.uid(),
                }),
            );
        }
        let resources =
            json!({"cpu": "4", "memory": "16Gi", "pods": "110", "ephemeral-storage": "100Gi"});
        for k in ["capacity", "allocatable"] {
            if n["status"][k].is_null() {
                set(n, &["status", k], resources.clone());
            }
        }
    }
}
