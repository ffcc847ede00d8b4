//! The manifests that run a harness binary as a Kubernetes Job: its ServiceAccount, a
//! least-privilege Role (per namespace) and ClusterRole derived from what the experiments
//! declare they touch, their bindings, a ConfigMap holding `chaos.toml`, and the Job (or
//! CronJobs). No wildcard anywhere: every rule names its group, resource and verbs.

use chaos_runtime::target::touches::{Grants, Rbac, Touch};
use serde_json::{json, Value};
use std::time::Duration;

/// Where the settings ConfigMap is mounted in the pod.
pub(crate) const SETTINGS_DIR: &str = "/etc/chaos";
/// The pod's writable directory (journals, ledger, history, report).
pub(crate) const WORK_DIR: &str = "/tmp/chaos";
/// The label every object of one harness Job carries, with the Job's name.
pub(crate) const JOB_LABEL: &str = "chaos-harness.dev/job";

/// When a CronJob runs the harness.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Schedule {
    /// The CronJob's name.
    pub name: String,
    /// Five cron fields.
    pub cron: String,
    /// The IANA zone the fields are read in.
    pub time_zone: String,
    /// What the harness is given (`--exact <experiment>` for a planned run; none: every
    /// experiment).
    pub args: Vec<String>,
}

/// What the manifests are made from.
#[derive(Clone, Debug)]
pub(crate) struct JobSpec {
    /// The Job's (and its ServiceAccount's, Role's...) name.
    pub name: String,
    /// Where the Job runs.
    pub namespace: String,
    /// The namespace of the experiments' namespaced touches that name none.
    pub target_namespace: String,
    /// The image holding the harness binary.
    pub image: String,
    /// The harness binary's path in the image.
    pub binary: String,
    /// `activeDeadlineSeconds`.
    pub deadline: Duration,
    /// Pods of an Indexed Job, each running one partition (1: a plain Job).
    pub shards: u32,
    /// The `chaos.toml` the pod reads.
    pub settings: String,
    /// CronJobs instead of a Job (empty: a Job).
    pub schedules: Vec<Schedule>,
    /// What the experiments declare they touch.
    pub touches: Vec<Touch>,
}

fn labels(spec: &JobSpec) -> Value {
    json!({
        "app.kubernetes.io/name": "chaos-harness",
        "app.kubernetes.io/instance": spec.name,
        JOB_LABEL: spec.name,
    })
}

fn meta(spec: &JobSpec, name: &str, namespace: Option<&str>) -> Value {
    let mut m = json!({ "name": name, "labels": labels(spec) });
    if let Some(ns) = namespace {
        m["namespace"] = json!(ns);
    }
    m
}

/// The RBAC the Job needs: its experiments' touches (and the Events the Kubernetes target
/// writes where they act), and its own results: a ConfigMap per run, the summary, and an
/// Event on the Job, in its namespace.
pub(crate) fn rbac(spec: &JobSpec) -> Rbac {
    let mut rbac = Rbac::of(&spec.touches, &spec.target_namespace);
    if !spec.touches.is_empty() {
        let mut namespaces: Vec<String> = rbac.namespaced.keys().cloned().collect();
        namespaces.push(spec.target_namespace.clone());
        for ns in namespaces {
            rbac.grant(&ns, "events.k8s.io", "events", &["create"]);
        }
    }
    // The result ConfigMaps, and the summary every pod adds to.
    rbac.grant(
        &spec.namespace,
        "",
        "configmaps",
        &["create", "get", "update"],
    );
    rbac.grant(&spec.namespace, "events.k8s.io", "events", &["create"]);
    rbac
}

fn rules(grants: &Grants) -> Value {
    let rules: Vec<Value> = grants
        .iter()
        .map(|((group, resource), verbs)| {
            json!({ "apiGroups": [group], "resources": [resource], "verbs": verbs })
        })
        .collect();
    json!(rules)
}

fn subject(spec: &JobSpec) -> Value {
    json!([{ "kind": "ServiceAccount", "name": spec.name, "namespace": spec.namespace }])
}

/// The pod template: the harness binary with `extra` arguments, its settings mounted, the
/// Job's identity from the downward API (for the result ConfigMaps and the Event on the Job).
fn pod_template(spec: &JobSpec, extra: &[String]) -> Value {
    let field = |path: &str| json!({ "fieldRef": { "fieldPath": path } });
    let mut args: Vec<String> = extra.to_vec();
    if spec.shards > 1 {
        args.push("--partition".into());
        args.push(format!("index:$(JOB_COMPLETION_INDEX)/{}", spec.shards));
    }
    let mut container = json!({
        "name": "harness",
        "image": spec.image,
        "command": [spec.binary],
        "env": [
            { "name": "CHAOS_SETTINGS", "value": format!("{SETTINGS_DIR}/chaos.toml") },
            { "name": "CHAOS_K8S_JOB", "valueFrom": field("metadata.labels['batch.kubernetes.io/job-name']") },
            { "name": "CHAOS_K8S_JOB_UID", "valueFrom": field("metadata.labels['batch.kubernetes.io/controller-uid']") },
            { "name": "CHAOS_K8S_NAMESPACE", "valueFrom": field("metadata.namespace") },
            { "name": "CHAOS_K8S_POD", "valueFrom": field("metadata.name") },
        ],
        "volumeMounts": [
            { "name": "settings", "mountPath": SETTINGS_DIR, "readOnly": true },
            { "name": "work", "mountPath": WORK_DIR },
        ],
    });
    if !args.is_empty() {
        container["args"] = json!(args);
    }
    json!({
        "metadata": { "labels": labels(spec) },
        "spec": {
            "serviceAccountName": spec.name,
            "restartPolicy": "Never",
            "containers": [container],
            "volumes": [
                { "name": "settings", "configMap": { "name": format!("{}-settings", spec.name) } },
                { "name": "work", "emptyDir": {} },
            ],
        },
    })
}

fn job_spec(spec: &JobSpec, extra: &[String]) -> Value {
    let mut s = json!({
        "backoffLimit": 0,
        "activeDeadlineSeconds": spec.deadline.as_secs().max(1),
        "template": pod_template(spec, extra),
    });
    if spec.shards > 1 {
        s["completionMode"] = json!("Indexed");
        s["completions"] = json!(spec.shards);
        s["parallelism"] = json!(spec.shards);
    }
    s
}

/// The manifests, in the order `kubectl apply` should create them.
pub(crate) fn render(spec: &JobSpec) -> Vec<Value> {
    let mut docs = vec![json!({
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": meta(spec, &spec.name, Some(&spec.namespace)),
    })];
    let rbac = rbac(spec);
    for (ns, grants) in &rbac.namespaced {
        docs.push(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": meta(spec, &spec.name, Some(ns)),
            "rules": rules(grants),
        }));
        docs.push(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": meta(spec, &spec.name, Some(ns)),
            "subjects": subject(spec),
            "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": spec.name },
        }));
    }
    if !rbac.cluster.is_empty() {
        // Cluster-wide names are shared by every namespace: the Job's namespace is part of it.
        let name = format!("{}-{}", spec.namespace, spec.name);
        docs.push(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": meta(spec, &name, None),
            "rules": rules(&rbac.cluster),
        }));
        docs.push(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": meta(spec, &name, None),
            "subjects": subject(spec),
            "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name },
        }));
    }
    docs.push(json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": meta(spec, &format!("{}-settings", spec.name), Some(&spec.namespace)),
        "data": { "chaos.toml": spec.settings },
    }));
    if spec.schedules.is_empty() {
        docs.push(json!({
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": meta(spec, &spec.name, Some(&spec.namespace)),
            "spec": job_spec(spec, &[]),
        }));
    }
    for s in &spec.schedules {
        docs.push(json!({
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": meta(spec, &s.name, Some(&spec.namespace)),
            "spec": {
                "schedule": s.cron,
                "timeZone": s.time_zone,
                "concurrencyPolicy": "Forbid",
                "jobTemplate": { "metadata": { "labels": labels(spec) }, "spec": job_spec(spec, &s.args) },
            },
        }));
    }
    docs
}

/// `settings` (a `chaos.toml`, possibly empty) made for the pod: the cluster is the pod's own
/// (`[targets.k8s] in_cluster = true`, no kubeconfig nor context; `namespace` the target
/// namespace unless set), and journals, ledger, history and report go to the pod's writable
/// directory. Everything else is kept.
pub(crate) fn pod_settings(settings: &str, target_namespace: &str) -> Result<String, String> {
    let mut t: toml::Table = toml::from_str(settings).map_err(|e| e.to_string())?;
    let table = |t: &mut toml::Table, key: &str| -> Result<toml::Table, String> {
        match t.remove(key) {
            None => Ok(toml::Table::new()),
            Some(toml::Value::Table(x)) => Ok(x),
            Some(_) => Err(format!("`{key}` is not a table")),
        }
    };
    let mut targets = table(&mut t, "targets")?;
    let mut k8s = table(&mut targets, "k8s")?;
    k8s.remove("kubeconfig");
    k8s.remove("context");
    k8s.insert("in_cluster".into(), toml::Value::Boolean(true));
    k8s.entry("namespace")
        .or_insert_with(|| toml::Value::String(target_namespace.to_owned()));
    targets.insert("k8s".into(), toml::Value::Table(k8s));
    t.insert("targets".into(), toml::Value::Table(targets));
    let mut journal = table(&mut t, "journal")?;
    journal.insert("dir".into(), format!("{WORK_DIR}/journals").into());
    journal.remove("ledger_dir");
    t.insert("journal".into(), toml::Value::Table(journal));
    let mut report = table(&mut t, "report")?;
    report.remove("junit");
    report.insert("html".into(), format!("{WORK_DIR}/report.html").into());
    report.insert(
        "history".into(),
        format!("{WORK_DIR}/history.sqlite").into(),
    );
    t.insert("report".into(), toml::Value::Table(report));
    toml::to_string(&t).map_err(|e| e.to_string())
}
