//! Server-side printing: `meta.k8s.io/v1` `Table` answers for `Accept: ...;as=Table`, with the
//! columns kubectl shows.

use super::cluster::node_ready;
use super::resources::Res;
use super::util;
use serde_json::{json, Value};
use std::time::SystemTime;

/// What each row carries in `object` (`includeObject`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Include {
    None,
    Metadata,
    Object,
}

impl Include {
    /// From the `includeObject` query parameter (default Metadata).
    pub(crate) fn parse(v: Option<&str>) -> Include {
        match v {
            Some("None") => Include::None,
            Some("Object") => Include::Object,
            _ => Include::Metadata,
        }
    }
}

fn col(name: &str, kind: &str, format: &str, description: &str, priority: u8) -> Value {
    json!({"name": name, "type": kind, "format": format, "description": description, "priority": priority})
}

fn name_col() -> Value {
    col(
        "Name",
        "string",
        "name",
        "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated.",
        0,
    )
}

fn age_col() -> Value {
    col(
        "Age",
        "string",
        "",
        "CreationTimestamp is a timestamp representing the server time when this object was created.",
        0,
    )
}

/// The column definitions for a resource.
pub(crate) fn columns(r: &Res) -> Value {
    let cols = match r.storage {
        "pods" => vec![
            name_col(),
            col("Ready", "string", "", "The aggregate readiness state of this pod for accepting traffic.", 0),
            col("Status", "string", "", "The aggregate status of the containers in this pod.", 0),
            col("Restarts", "string", "", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.", 0),
            age_col(),
            col("IP", "string", "", "IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.", 1),
            col("Node", "string", "", "NodeName is a request to schedule this pod onto a specific node.", 1),
            col("Nominated Node", "string", "", "nominatedNodeName is set only when this pod preempts other pods on the node.", 1),
            col("Readiness Gates", "string", "", "If specified, all readiness gates will be evaluated for pod readiness.", 1),
        ],
        "deployments" => vec![
            name_col(),
            col("Ready", "string", "", "Number of the pod with ready state", 0),
            col("Up-to-date", "integer", "", "Total number of non-terminated pods targeted by this deployment that have the desired template spec.", 0),
            col("Available", "integer", "", "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.", 0),
            age_col(),
            col("Containers", "string", "", "Names of each container in the template.", 1),
            col("Images", "string", "", "Images referenced by each container in the template.", 1),
            col("Selector", "string", "", "Label selector for pods.", 1),
        ],
        "replicasets" => vec![
            name_col(),
            col("Desired", "integer", "", "Replicas is the number of desired replicas.", 0),
            col("Current", "integer", "", "Replicas is the most recently observed number of replicas.", 0),
            col("Ready", "integer", "", "The number of ready replicas for this replica set.", 0),
            age_col(),
            col("Containers", "string", "", "Names of each container in the template.", 1),
            col("Images", "string", "", "Images referenced by each container in the template.", 1),
            col("Selector", "string", "", "Label selector for pods.", 1),
        ],
        "nodes" => vec![
            name_col(),
            col("Status", "string", "", "The status of the node", 0),
            col("Roles", "string", "", "The roles of the node", 0),
            age_col(),
            col("Version", "string", "", "Kubelet Version reported by the node.", 0),
            col("Internal-IP", "string", "", "List of addresses reachable to the node. Queried from cloud provider, if available.", 1),
            col("External-IP", "string", "", "List of addresses reachable to the node. Queried from cloud provider, if available.", 1),
            col("OS-Image", "string", "", "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).", 1),
            col("Kernel-Version", "string", "", "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1),
            col("Container-Runtime", "string", "", "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).", 1),
        ],
        "namespaces" => vec![
            name_col(),
            col("Status", "string", "", "The status of the namespace", 0),
            age_col(),
        ],
        "events" => vec![
            col("Last Seen", "string", "", "Time when this Event was last seen", 0),
            col("Type", "string", "", "Type of this event (Normal, Warning), new types could be added in the future.", 0),
            col("Reason", "string", "", "This should be a short, machine understandable string that gives the reason for this event being generated.", 0),
            col("Object", "string", "", "The object that this event is about.", 0),
            col("Subobject", "string", "", "The subobject that this event is about.", 1),
            col("Source", "string", "", "The component reporting this event.", 1),
            col("Message", "string", "", "A human-readable description of the status of this operation.", 0),
            col("First Seen", "string", "", "The time at which the event was first recorded.", 1),
            col("Count", "string", "", "The number of times this event has occurred.", 1),
            col("Name", "string", "name", "Name of the event.", 1),
        ],
        "poddisruptionbudgets" => vec![
            name_col(),
            col("Min Available", "string", "", "The minimum number of pods that must be available.", 0),
            col("Max Unavailable", "string", "", "The maximum number of pods that may be unavailable.", 0),
            col("Allowed Disruptions", "integer", "", "Calculated number of pods that may be disrupted at this time.", 0),
            age_col(),
        ],
        _ => vec![name_col(), age_col()],
    };
    Value::Array(cols)
}

fn s<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    path.iter()
        .fold(v, |c, p| &c[*p])
        .as_str()
        .unwrap_or_default()
}

fn or_none(x: &str) -> String {
    if x.is_empty() {
        "<none>".into()
    } else {
        x.to_string()
    }
}

fn age(o: &Value, now: SystemTime) -> String {
    match util::parse_time(s(o, &["metadata", "creationTimestamp"])) {
        Some(t) => util::human_age(t, now),
        None => "<unknown>".into(),
    }
}

fn n(v: &Value) -> i64 {
    v.as_i64().unwrap_or(0)
}

fn template_columns(o: &Value) -> (String, String) {
    let cs = o["spec"]["template"]["spec"]["containers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let names: Vec<&str> = cs.iter().filter_map(|c| c["name"].as_str()).collect();
    let images: Vec<&str> = cs.iter().filter_map(|c| c["image"].as_str()).collect();
    (names.join(","), images.join(","))
}

fn selector(o: &Value) -> String {
    super::selector::LabelSelector::from_json(&o["spec"]["selector"])
        .map(|s| s.to_string())
        .unwrap_or_default()
}

fn pod_status(p: &Value) -> String {
    if !p["metadata"]["deletionTimestamp"].is_null() {
        return "Terminating".into();
    }
    let reason = s(p, &["status", "reason"]);
    if !reason.is_empty() {
        return reason.into();
    }
    let phase = s(p, &["status", "phase"]);
    if phase == "Pending" {
        if let Some(w) = p["status"]["containerStatuses"].as_array().and_then(|cs| {
            cs.iter()
                .find_map(|c| c["state"]["waiting"]["reason"].as_str())
        }) {
            return w.into();
        }
    }
    if phase.is_empty() {
        "Unknown".into()
    } else {
        phase.into()
    }
}

fn event_time(e: &Value, now: SystemTime, first: bool) -> String {
    let keys: &[&str] = if first {
        &["firstTimestamp", "eventTime"]
    } else {
        &["lastTimestamp", "eventTime", "firstTimestamp"]
    };
    keys.iter()
        .find_map(|k| e[*k].as_str().and_then(util::parse_time))
        .map(|t| util::human_age(t, now))
        .unwrap_or_else(|| "<unknown>".into())
}

/// The cells of one row (`o` in the core shape).
pub(crate) fn cells(r: &Res, o: &Value, now: SystemTime) -> Value {
    let name = s(o, &["metadata", "name"]);
    match r.storage {
        "pods" => {
            let cs = o["status"]["containerStatuses"].as_array();
            let total = o["spec"]["containers"].as_array().map_or(0, Vec::len);
            let ready = cs.map_or(0, |cs| cs.iter().filter(|c| c["ready"] == true).count());
            let restarts: i64 = cs.map_or(0, |cs| cs.iter().map(|c| n(&c["restartCount"])).sum());
            json!([
                name,
                format!("{ready}/{total}"),
                pod_status(o),
                restarts.to_string(),
                age(o, now),
                or_none(s(o, &["status", "podIP"])),
                or_none(s(o, &["spec", "nodeName"])),
                or_none(s(o, &["status", "nominatedNodeName"])),
                "<none>",
            ])
        }
        "deployments" => {
            let (c, i) = template_columns(o);
            json!([
                name,
                format!(
                    "{}/{}",
                    n(&o["status"]["readyReplicas"]),
                    o["spec"]["replicas"].as_i64().unwrap_or(1)
                ),
                n(&o["status"]["updatedReplicas"]),
                n(&o["status"]["availableReplicas"]),
                age(o, now),
                c,
                i,
                selector(o),
            ])
        }
        "replicasets" => {
            let (c, i) = template_columns(o);
            json!([
                name,
                o["spec"]["replicas"].as_i64().unwrap_or(1),
                n(&o["status"]["replicas"]),
                n(&o["status"]["readyReplicas"]),
                age(o, now),
                c,
                i,
                selector(o),
            ])
        }
        "nodes" => {
            let known = o["status"]["conditions"]
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c["type"] == "Ready"));
            let mut status = if node_ready(o) {
                "Ready".to_string()
            } else if known {
                "NotReady".to_string()
            } else {
                "Unknown".to_string()
            };
            if o["spec"]["unschedulable"] == true {
                status.push_str(",SchedulingDisabled");
            }
            let mut roles: Vec<String> = o["metadata"]["labels"]
                .as_object()
                .map(|l| {
                    l.iter()
                        .filter_map(|(k, v)| {
                            k.strip_prefix("node-role.kubernetes.io/")
                                .map(str::to_string)
                                .or_else(|| {
                                    (k == "kubernetes.io/role")
                                        .then(|| v.as_str().unwrap_or_default().to_string())
                                })
                        })
                        .filter(|r| !r.is_empty())
                        .collect()
                })
                .unwrap_or_default();
            roles.sort();
            let addr = |t: &str| {
                o["status"]["addresses"]
                    .as_array()
                    .and_then(|a| a.iter().find(|x| x["type"] == t))
                    .and_then(|x| x["address"].as_str())
                    .unwrap_or("<none>")
                    .to_string()
            };
            json!([
                name,
                status,
                if roles.is_empty() {
                    "<none>".to_string()
                } else {
                    roles.join(",")
                },
                age(o, now),
                s(o, &["status", "nodeInfo", "kubeletVersion"]),
                addr("InternalIP"),
                addr("ExternalIP"),
                or_none(s(o, &["status", "nodeInfo", "osImage"])),
                or_none(s(o, &["status", "nodeInfo", "kernelVersion"])),
                or_none(s(o, &["status", "nodeInfo", "containerRuntimeVersion"])),
            ])
        }
        "namespaces" => json!([name, s(o, &["status", "phase"]), age(o, now)]),
        "events" => {
            let kind = s(o, &["involvedObject", "kind"]).to_ascii_lowercase();
            let source = {
                let comp = s(o, &["source", "component"]);
                let comp = if comp.is_empty() {
                    s(o, &["reportingComponent"])
                } else {
                    comp
                };
                let host = s(o, &["source", "host"]);
                if host.is_empty() {
                    comp.to_string()
                } else {
                    format!("{comp}, {host}")
                }
            };
            let count = o["count"].as_i64().unwrap_or(1);
            json!([
                event_time(o, now, false),
                s(o, &["type"]),
                s(o, &["reason"]),
                format!("{kind}/{}", s(o, &["involvedObject", "name"])),
                s(o, &["involvedObject", "fieldPath"]),
                source,
                s(o, &["message"]).trim(),
                event_time(o, now, true),
                count.to_string(),
                name,
            ])
        }
        "poddisruptionbudgets" => {
            let show = |v: &Value| match v {
                Value::Null => "N/A".to_string(),
                Value::String(x) => x.clone(),
                other => other.to_string(),
            };
            json!([
                name,
                show(&o["spec"]["minAvailable"]),
                show(&o["spec"]["maxUnavailable"]),
                n(&o["status"]["disruptionsAllowed"]),
                age(o, now),
            ])
        }
        _ => json!([name, age(o, now)]),
    }
}

/// A `PartialObjectMetadata` of an object.
pub(crate) fn partial(o: &Value) -> Value {
    json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"]})
}

/// A `Table` of `objs`. `core` gives each object in the core shape (printing), `served` the
/// object as the route serves it (the row's `object`).
pub(crate) fn table<'a>(
    r: &Res,
    objs: impl Iterator<Item = (&'a Value, Value)>,
    include: Include,
    list_meta: Value,
    with_columns: bool,
) -> Value {
    let now = SystemTime::now();
    let rows: Vec<Value> = objs
        .map(|(core, served)| {
            let mut row = json!({"cells": cells(r, core, now)});
            match include {
                Include::None => {}
                Include::Metadata => row["object"] = partial(&served),
                Include::Object => row["object"] = served,
            }
            row
        })
        .collect();
    let mut t = json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta,
        "rows": rows,
    });
    if with_columns {
        t["columnDefinitions"] = columns(r);
    } else {
        t["columnDefinitions"] = Value::Null;
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{NODES, PODS};

    #[test]
    fn pod_and_node_rows() {
        let now = SystemTime::now();
        let pod = json!({
            "metadata": {"name": "web-1", "creationTimestamp": util::rfc3339(now - std::time::Duration::from_secs(190))},
            "spec": {"containers": [{"name": "app"}], "nodeName": "node-1"},
            "status": {"phase": "Running", "podIP": "10.244.0.2", "containerStatuses": [{"ready": true, "restartCount": 0}]}
        });
        let c = cells(&PODS, &pod, now);
        assert_eq!(
            c,
            json!([
                "web-1",
                "1/1",
                "Running",
                "0",
                "3m10s",
                "10.244.0.2",
                "node-1",
                "<none>",
                "<none>"
            ])
        );
        let node = json!({"metadata": {"name": "n", "labels": {"node-role.kubernetes.io/control-plane": ""}}, "spec": {"unschedulable": true},
            "status": {"conditions": [{"type": "Ready", "status": "True"}], "nodeInfo": {"kubeletVersion": "v1.32.0"}}});
        let c = cells(&NODES, &node, now);
        assert_eq!(c[1], "Ready,SchedulingDisabled");
        assert_eq!(c[2], "control-plane");
        assert_eq!(c[4], "v1.32.0");
        let t = table(
            &PODS,
            std::iter::once((&pod, pod.clone())),
            Include::Metadata,
            json!({}),
            true,
        );
        assert_eq!(t["rows"][0]["object"]["kind"], "PartialObjectMetadata");
        assert_eq!(t["columnDefinitions"][0]["name"], "Name");
    }
}
