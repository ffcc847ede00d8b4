//! The resources the simulation serves, their field selectors and the discovery documents.

use serde_json::{json, Value};

/// A subresource as discovery lists it.
#[derive(Debug)]
pub(crate) struct Sub {
    pub name: &'static str,
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub verbs: &'static [&'static str],
}

/// A served resource.
#[derive(Debug)]
pub(crate) struct Res {
    /// Plural, as in URLs.
    pub name: &'static str,
    pub singular: &'static str,
    /// The store table (core/v1 and events.k8s.io/v1 events share one).
    pub storage: &'static str,
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    pub short: &'static [&'static str],
    pub verbs: &'static [&'static str],
    pub categories: &'static [&'static str],
    pub subs: &'static [Sub],
    /// Fields a field selector may use.
    pub fields: &'static [&'static str],
    /// Whether writes to the main resource keep the stored `status` (status subresource).
    pub has_status: bool,
}

impl Res {
    /// `v1` or `apps/v1`.
    pub(crate) fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `pods`, `deployments.apps`: how error messages name the resource.
    pub(crate) fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.name.to_string()
        } else {
            format!("{}.{}", self.name, self.group)
        }
    }

    /// `PodList`.
    pub(crate) fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }

    /// Whether this is the events.k8s.io shape of events.
    pub(crate) fn is_events_v1(&self) -> bool {
        self.group == "events.k8s.io"
    }
}

const ALL_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
const STATUS_VERBS: &[&str] = &["get", "patch", "update"];
const META: &[&str] = &["metadata.name", "metadata.namespace"];
const EVENT_FIELDS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "regarding.kind",
    "regarding.namespace",
    "regarding.name",
    "regarding.uid",
    "regarding.apiVersion",
    "regarding.resourceVersion",
    "regarding.fieldPath",
    "reason",
    "reportingComponent",
    "reportingController",
    "source",
    "type",
];

/// core/v1 namespaces.
pub(crate) static NAMESPACES: Res = Res {
    name: "namespaces",
    singular: "namespace",
    storage: "namespaces",
    group: "",
    version: "v1",
    kind: "Namespace",
    namespaced: false,
    short: &["ns"],
    verbs: &[
        "create", "delete", "get", "list", "patch", "update", "watch",
    ],
    categories: &[],
    subs: &[Sub {
        name: "namespaces/status",
        group: "",
        version: "",
        kind: "Namespace",
        verbs: STATUS_VERBS,
    }],
    fields: &["metadata.name", "status.phase"],
    has_status: true,
};

/// core/v1 nodes.
pub(crate) static NODES: Res = Res {
    name: "nodes",
    singular: "node",
    storage: "nodes",
    group: "",
    version: "v1",
    kind: "Node",
    namespaced: false,
    short: &["no"],
    verbs: ALL_VERBS,
    categories: &[],
    subs: &[Sub {
        name: "nodes/status",
        group: "",
        version: "",
        kind: "Node",
        verbs: STATUS_VERBS,
    }],
    fields: &["metadata.name", "spec.unschedulable"],
    has_status: true,
};

/// core/v1 pods.
pub(crate) static PODS: Res = Res {
    name: "pods",
    singular: "pod",
    storage: "pods",
    group: "",
    version: "v1",
    kind: "Pod",
    namespaced: true,
    short: &["po"],
    verbs: ALL_VERBS,
    categories: &["all"],
    subs: &[
        Sub {
            name: "pods/log",
            group: "",
            version: "",
            kind: "Pod",
            verbs: &["get"],
        },
        Sub {
            name: "pods/eviction",
            group: "policy",
            version: "v1",
            kind: "Eviction",
            verbs: &["create"],
        },
        Sub {
            name: "pods/status",
            group: "",
            version: "",
            kind: "Pod",
            verbs: STATUS_VERBS,
        },
    ],
    fields: &[
        "metadata.name",
        "metadata.namespace",
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.nominatedNodeName",
    ],
    has_status: true,
};

/// core/v1 events.
pub(crate) static EVENTS: Res = Res {
    name: "events",
    singular: "event",
    storage: "events",
    group: "",
    version: "v1",
    kind: "Event",
    namespaced: true,
    short: &["ev"],
    verbs: ALL_VERBS,
    categories: &[],
    subs: &[],
    fields: EVENT_FIELDS,
    has_status: false,
};

/// events.k8s.io/v1 events (same storage as core/v1 events).
pub(crate) static EVENTS_V1: Res = Res {
    name: "events",
    singular: "event",
    storage: "events",
    group: "events.k8s.io",
    version: "v1",
    kind: "Event",
    namespaced: true,
    short: &["ev"],
    verbs: ALL_VERBS,
    categories: &[],
    subs: &[],
    fields: EVENT_FIELDS,
    has_status: false,
};

/// apps/v1 deployments.
pub(crate) static DEPLOYMENTS: Res = Res {
    name: "deployments",
    singular: "deployment",
    storage: "deployments",
    group: "apps",
    version: "v1",
    kind: "Deployment",
    namespaced: true,
    short: &["deploy"],
    verbs: ALL_VERBS,
    categories: &["all"],
    subs: &[
        Sub {
            name: "deployments/scale",
            group: "autoscaling",
            version: "v1",
            kind: "Scale",
            verbs: STATUS_VERBS,
        },
        Sub {
            name: "deployments/status",
            group: "",
            version: "",
            kind: "Deployment",
            verbs: STATUS_VERBS,
        },
    ],
    fields: META,
    has_status: true,
};

/// apps/v1 replicasets.
pub(crate) static REPLICASETS: Res = Res {
    name: "replicasets",
    singular: "replicaset",
    storage: "replicasets",
    group: "apps",
    version: "v1",
    kind: "ReplicaSet",
    namespaced: true,
    short: &["rs"],
    verbs: ALL_VERBS,
    categories: &["all"],
    subs: &[
        Sub {
            name: "replicasets/scale",
            group: "autoscaling",
            version: "v1",
            kind: "Scale",
            verbs: STATUS_VERBS,
        },
        Sub {
            name: "replicasets/status",
            group: "",
            version: "",
            kind: "ReplicaSet",
            verbs: STATUS_VERBS,
        },
    ],
    fields: &["metadata.name", "metadata.namespace", "status.replicas"],
    has_status: true,
};

/// policy/v1 poddisruptionbudgets (stored as given; evictions honour them).
pub(crate) static PDBS: Res = Res {
    name: "poddisruptionbudgets",
    singular: "poddisruptionbudget",
    storage: "poddisruptionbudgets",
    group: "policy",
    version: "v1",
    kind: "PodDisruptionBudget",
    namespaced: true,
    short: &["pdb"],
    verbs: ALL_VERBS,
    categories: &[],
    subs: &[],
    fields: META,
    has_status: true,
};

/// A resource stored as given, with every verb: what the harness's manifests need (the
/// simulation runs no Job, CronJob nor RBAC check; it keeps the objects for `kubectl get`).
macro_rules! stored {
    ($(#[$doc:meta])* $static:ident, $name:literal, $singular:literal, $group:literal, $kind:literal, $namespaced:literal, [$($short:literal),*], status = $status:literal) => {
        $(#[$doc])*
        pub(crate) static $static: Res = Res {
            name: $name,
            singular: $singular,
            storage: $name,
            group: $group,
            version: "v1",
            kind: $kind,
            namespaced: $namespaced,
            short: &[$($short),*],
            verbs: ALL_VERBS,
            categories: &[],
            subs: if $status {
                &[Sub {
                    name: concat!($name, "/status"),
                    group: "",
                    version: "",
                    kind: $kind,
                    verbs: STATUS_VERBS,
                }]
            } else {
                &[]
            },
            fields: META,
            has_status: $status,
        };
    };
}

stored!(
    /// core/v1 serviceaccounts.
    SERVICEACCOUNTS, "serviceaccounts", "serviceaccount", "", "ServiceAccount", true, ["sa"], status = false
);
stored!(
    /// core/v1 configmaps.
    CONFIGMAPS, "configmaps", "configmap", "", "ConfigMap", true, ["cm"], status = false
);
stored!(
    /// batch/v1 jobs.
    JOBS, "jobs", "job", "batch", "Job", true, [], status = true
);
stored!(
    /// batch/v1 cronjobs.
    CRONJOBS, "cronjobs", "cronjob", "batch", "CronJob", true, ["cj"], status = true
);
stored!(
    /// rbac.authorization.k8s.io/v1 roles.
    ROLES, "roles", "role", "rbac.authorization.k8s.io", "Role", true, [], status = false
);
stored!(
    /// rbac.authorization.k8s.io/v1 rolebindings.
    ROLEBINDINGS, "rolebindings", "rolebinding", "rbac.authorization.k8s.io", "RoleBinding", true, [], status = false
);
stored!(
    /// rbac.authorization.k8s.io/v1 clusterroles.
    CLUSTERROLES, "clusterroles", "clusterrole", "rbac.authorization.k8s.io", "ClusterRole", false, [], status = false
);
stored!(
    /// rbac.authorization.k8s.io/v1 clusterrolebindings.
    CLUSTERROLEBINDINGS, "clusterrolebindings", "clusterrolebinding", "rbac.authorization.k8s.io", "ClusterRoleBinding", false, [], status = false
);

/// Every served resource.
pub(crate) static ALL: &[&Res] = &[
    &NAMESPACES,
    &NODES,
    &PODS,
    &EVENTS,
    &DEPLOYMENTS,
    &REPLICASETS,
    &EVENTS_V1,
    &PDBS,
    &SERVICEACCOUNTS,
    &CONFIGMAPS,
    &JOBS,
    &CRONJOBS,
    &ROLES,
    &ROLEBINDINGS,
    &CLUSTERROLES,
    &CLUSTERROLEBINDINGS,
];

/// The resource at `/{prefix}/{group}/{version}/.../{name}`.
pub(crate) fn lookup(group: &str, version: &str, name: &str) -> Option<&'static Res> {
    ALL.iter()
        .copied()
        .find(|r| r.group == group && r.version == version && r.name == name)
}

/// The resource for a plural name given to the Rust API ("pods", "deployments", "events"
/// is core/v1); kinds and short names are accepted too.
pub(crate) fn by_name(name: &str) -> Option<&'static Res> {
    let lower = name.to_ascii_lowercase();
    ALL.iter()
        .copied()
        .find(|r| r.name == lower || r.singular == lower || r.short.contains(&lower.as_str()))
}

/// The value of a selectable field of an object in the core shape (`regarding.*` and
/// `reportingController` of events.k8s.io map to their core names).
pub(crate) fn field_value(obj: &Value, field: &str) -> String {
    let mapped;
    let field = if let Some(rest) = field.strip_prefix("regarding.") {
        mapped = format!("involvedObject.{rest}");
        mapped.as_str()
    } else {
        match field {
            "reportingController" => "reportingComponent",
            "source" => "source.component",
            other => other,
        }
    };
    let mut cur = obj;
    for part in field.split('.') {
        match cur.get(part) {
            Some(v) => cur = v,
            None => {
                cur = &Value::Null;
                break;
            }
        }
    }
    match cur {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Null if matches!(field, "spec.unschedulable" | "spec.hostNetwork") => "false".into(),
        Value::Null if field == "status.replicas" => "0".into(),
        _ => String::new(),
    }
}

/// `/version`.
pub(crate) fn version() -> Value {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    json!({
        "major": "1",
        "minor": "32",
        "gitVersion": "v1.32.0-kube-sim",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2024-12-11T00:00:00Z",
        "goVersion": "go1.23.4",
        "compiler": "gc",
        "platform": format!("{}/{arch}", std::env::consts::OS),
    })
}

/// `/api`.
pub(crate) fn api_versions(server: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server}],
    })
}

const GROUPS: &[&str] = &[
    "apps",
    "events.k8s.io",
    "policy",
    "batch",
    "rbac.authorization.k8s.io",
];

fn group_doc(name: &str) -> Value {
    let gv = json!({"groupVersion": format!("{name}/v1"), "version": "v1"});
    json!({"name": name, "versions": [gv.clone()], "preferredVersion": gv})
}

/// `/apis`.
pub(crate) fn group_list() -> Value {
    json!({
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": GROUPS.iter().map(|g| group_doc(g)).collect::<Vec<_>>(),
    })
}

/// `/apis/{group}`.
pub(crate) fn group(name: &str) -> Option<Value> {
    if !GROUPS.contains(&name) {
        return None;
    }
    let mut g = group_doc(name);
    if let Some(m) = g.as_object_mut() {
        m.insert("kind".into(), json!("APIGroup"));
        m.insert("apiVersion".into(), json!("v1"));
    }
    Some(g)
}

/// `/api/v1` or `/apis/{group}/{version}`.
pub(crate) fn resource_list(group: &str, version: &str) -> Option<Value> {
    if version != "v1" || !(group.is_empty() || GROUPS.contains(&group)) {
        return None;
    }
    let mut resources = Vec::new();
    for r in ALL
        .iter()
        .filter(|r| r.group == group && r.version == version)
    {
        let mut doc = json!({
            "name": r.name,
            "singularName": r.singular,
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": r.verbs,
        });
        if let Some(m) = doc.as_object_mut() {
            if !r.short.is_empty() {
                m.insert("shortNames".into(), json!(r.short));
            }
            if !r.categories.is_empty() {
                m.insert("categories".into(), json!(r.categories));
            }
        }
        resources.push(doc);
        for s in r.subs {
            let mut doc = json!({
                "name": s.name,
                "singularName": "",
                "namespaced": r.namespaced,
                "kind": s.kind,
                "verbs": s.verbs,
            });
            if let Some(m) = doc.as_object_mut() {
                if !s.group.is_empty() {
                    m.insert("group".into(), json!(s.group));
                    m.insert("version".into(), json!(s.version));
                }
            }
            resources.push(doc);
        }
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": gv,
        "resources": resources,
    }))
}

/// The group-versions with an OpenAPI v3 document, as `/openapi/v3` names them.
const OPENAPI_GVS: &[(&str, &str)] = &[
    ("api/v1", ""),
    ("apis/apps/v1", "apps"),
    ("apis/events.k8s.io/v1", "events.k8s.io"),
    ("apis/policy/v1", "policy"),
    ("apis/batch/v1", "batch"),
    (
        "apis/rbac.authorization.k8s.io/v1",
        "rbac.authorization.k8s.io",
    ),
];

/// `/openapi/v3`: the index of per-group-version documents.
pub(crate) fn openapi_root() -> Value {
    let mut paths = serde_json::Map::new();
    for (gv, _) in OPENAPI_GVS {
        paths.insert(
            (*gv).to_string(),
            json!({"serverRelativeURL": format!("/openapi/v3/{gv}?hash=kube-sim-1")}),
        );
    }
    json!({"paths": paths})
}

/// `/openapi/v3/{api/v1 | apis/group/v1}`: a minimal document. It has no schemas, only the
/// PATCH operations with `x-kubernetes-group-version-kind` and the `fieldValidation`
/// parameter, which is what kubectl looks for to leave validation to the server (so
/// `kubectl create -f` works).
pub(crate) fn openapi_gv(gv: &str) -> Option<Value> {
    let (_, group) = OPENAPI_GVS.iter().find(|(p, _)| *p == gv)?;
    let mut paths = serde_json::Map::new();
    for r in ALL.iter().filter(|r| r.group == *group) {
        let prefix = format!("/{gv}");
        let path = if r.namespaced {
            format!("{prefix}/namespaces/{{namespace}}/{}/{{name}}", r.name)
        } else {
            format!("{prefix}/{}/{{name}}", r.name)
        };
        paths.insert(
            path,
            json!({"patch": {
                "operationId": format!("patch{}", r.kind),
                "x-kubernetes-action": "patch",
                "x-kubernetes-group-version-kind": {"group": r.group, "version": r.version, "kind": r.kind},
                "parameters": [
                    {"name": "dryRun", "in": "query", "schema": {"type": "string"}},
                    {"name": "fieldManager", "in": "query", "schema": {"type": "string"}},
                    {"name": "fieldValidation", "in": "query", "schema": {"type": "string"}},
                ],
                "responses": {"200": {"description": "OK"}},
            }}),
        );
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0-kube-sim"},
        "paths": paths,
        "components": {"schemas": {}},
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_documents() {
        let core = resource_list("", "v1").unwrap_or_default();
        let names: Vec<&str> = core["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["name"].as_str())
            .collect();
        for n in [
            "namespaces",
            "nodes",
            "pods",
            "pods/eviction",
            "pods/status",
            "events",
        ] {
            assert!(names.contains(&n), "{n} missing from {names:?}");
        }
        let ev = core["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["name"] == "pods/eviction")
            .cloned()
            .unwrap_or_default();
        assert_eq!(ev["group"], "policy");
        assert_eq!(ev["kind"], "Eviction");
        let apps = resource_list("apps", "v1").unwrap_or_default();
        assert_eq!(apps["groupVersion"], "apps/v1");
        assert!(resource_list("autoscaling", "v1").is_none());
        let batch = resource_list("batch", "v1").unwrap_or_default();
        assert_eq!(batch["resources"][0]["name"], "jobs");
        assert_eq!(
            group_list()["groups"][0]["preferredVersion"]["groupVersion"],
            "apps/v1"
        );
        assert_eq!(by_name("deploy").map(|r| r.name), Some("deployments"));
        assert_eq!(
            lookup("events.k8s.io", "v1", "events").map(|r| r.is_events_v1()),
            Some(true)
        );
    }

    #[test]
    fn field_values() {
        let pod = json!({"metadata": {"name": "p"}, "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}});
        assert_eq!(field_value(&pod, "spec.nodeName"), "n1");
        assert_eq!(field_value(&pod, "status.phase"), "Running");
        assert_eq!(field_value(&pod, "status.podIP"), "");
        assert_eq!(field_value(&json!({}), "spec.unschedulable"), "false");
        let ev = json!({"involvedObject": {"name": "x"}, "source": {"component": "c"}});
        assert_eq!(field_value(&ev, "regarding.name"), "x");
        assert_eq!(field_value(&ev, "source"), "c");
    }
}
