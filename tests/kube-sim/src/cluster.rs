//! The cluster model: writes with the API server's semantics, and the controllers (deployment,
//! replica set, scheduler, kubelet, node lifecycle, garbage collector) driven by a time-ordered
//! queue of due actions plus "dirty" sets settled synchronously after each write.

use super::errors::{self, ApiError};
use super::events;
use super::patch::{self, PatchError};
use super::resources::{
    self as res, Res, DEPLOYMENTS, EVENTS, NAMESPACES, NODES, PODS, REPLICASETS,
};
use super::selector::{FieldSelector, LabelSelector};
use super::store::{NsName, Obj, Store};
use super::util::{self, Rng};
use super::SimConfig;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

const HASH_LABEL: &str = "pod-template-hash";
const REVISION: &str = "deployment.kubernetes.io/revision";
/// The most replicas a deployment or replica set may ask for (the simulation's limit).
const MAX_REPLICAS: i64 = 100_000;
/// How many changes watches can replay.
pub(crate) const HISTORY: usize = 10_000;

/// A controller action due at some instant.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Action {
    /// The kubelet has started the pod's containers.
    PodReady {
        ns: String,
        name: String,
        uid: String,
    },
    /// A terminating pod's grace period (bounded by `max_termination`) is over.
    PodRemove {
        ns: String,
        name: String,
        uid: String,
    },
    /// A replica set may now replace pods that went away.
    ReconcileRs { ns: String, name: String },
}

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

/// The simulated cluster: the store and the controllers' state.
#[derive(Debug)]
pub(crate) struct Cluster {
    pub store: Store,
    pub config: SimConfig,
    rng: Rng,
    queue: BTreeMap<(Instant, u64), Action>,
    seq: u64,
    dirty_rs: BTreeSet<NsName>,
    dirty_deploy: BTreeSet<NsName>,
    /// Replica set -> when it may replace pods that went away.
    replace_due: HashMap<NsName, Instant>,
    /// Replica set -> the wake-up already queued for it.
    rs_wakeups: HashMap<NsName, Instant>,
    unscheduled: BTreeSet<NsName>,
    schedule_needed: bool,
    rr: usize,
    ip_counter: u32,
    /// Seeding: new pods are Running and Ready at once.
    instant: bool,
}

// ---------------------------------------------------------------------------------------------
// JSON helpers

fn walk<'a>(v: &'a Value, path: &[&str]) -> &'a Value {
    path.iter().fold(v, |c, p| &c[*p])
}

fn st<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    walk(v, path).as_str().unwrap_or_default()
}

pub(crate) fn set(v: &mut Value, path: &[&str], x: Value) {
    let Some((last, init)) = path.split_last() else {
        *v = x;
        return;
    };
    let mut cur = v;
    for p in init {
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        cur = match cur {
            Value::Object(m) => m
                .entry((*p).to_string())
                .or_insert_with(|| Value::Object(Map::new())),
            _ => return,
        };
    }
    if !cur.is_object() {
        *cur = Value::Object(Map::new());
    }
    if let Value::Object(m) = cur {
        m.insert((*last).to_string(), x);
    }
}

fn unset(v: &mut Value, path: &[&str]) {
    let Some((last, init)) = path.split_last() else {
        return;
    };
    let mut cur = v;
    for p in init {
        cur = match cur {
            Value::Object(m) => match m.get_mut(*p) {
                Some(x) => x,
                None => return,
            },
            _ => return,
        };
    }
    if let Value::Object(m) = cur {
        m.remove(*last);
    }
}

fn name_of(o: &Value) -> &str {
    st(o, &["metadata", "name"])
}
fn ns_of(o: &Value) -> &str {
    st(o, &["metadata", "namespace"])
}
fn uid_of(o: &Value) -> &str {
    st(o, &["metadata", "uid"])
}
fn rv_of(o: &Value) -> &str {
    st(o, &["metadata", "resourceVersion"])
}

fn is_terminating(o: &Value) -> bool {
    !o["metadata"]["deletionTimestamp"].is_null()
}

fn pod_finished(p: &Value) -> bool {
    matches!(st(p, &["status", "phase"]), "Succeeded" | "Failed")
}

fn has_condition(o: &Value, kind: &str) -> bool {
    o["status"]["conditions"]
        .as_array()
        .is_some_and(|c| c.iter().any(|c| c["type"] == kind && c["status"] == "True"))
}

pub(crate) fn pod_ready(p: &Value) -> bool {
    has_condition(p, "Ready")
}

pub(crate) fn node_ready(n: &Value) -> bool {
    has_condition(n, "Ready")
}

/// (kind, name, uid) of the controller owner.
fn controller_of(o: &Value) -> Option<(String, String, String)> {
    o["metadata"]["ownerReferences"]
        .as_array()?
        .iter()
        .find(|r| r["controller"] == true)
        .map(|r| {
            (
                st(r, &["kind"]).to_string(),
                st(r, &["name"]).to_string(),
                st(r, &["uid"]).to_string(),
            )
        })
}

fn created(o: &Value) -> SystemTime {
    util::parse_time(st(o, &["metadata", "creationTimestamp"])).unwrap_or(SystemTime::UNIX_EPOCH)
}

fn int(v: &Value, path: &[&str], default: i64) -> i64 {
    walk(v, path).as_i64().unwrap_or(default)
}

/// Sets a condition, keeping `lastTransitionTime` when its status does not change.
fn set_condition(o: &mut Value, kind: &str, status: bool, reason: Option<&str>, msg: Option<&str>) {
    let now = util::rfc3339(SystemTime::now());
    let status_s = if status { "True" } else { "False" };
    if !o["status"]["conditions"].is_array() {
        set(o, &["status", "conditions"], json!([]));
    }
    let Some(conds) = o["status"]["conditions"].as_array_mut() else {
        return;
    };
    let mut cond =
        json!({"type": kind, "status": status_s, "lastProbeTime": null, "lastTransitionTime": now});
    if let Some(r) = reason {
        cond["reason"] = json!(r);
    }
    if let Some(m) = msg {
        cond["message"] = json!(m);
    }
    match conds.iter_mut().find(|c| c["type"] == kind) {
        Some(c) => {
            if c["status"] == status_s {
                cond["lastTransitionTime"] = c["lastTransitionTime"].clone();
            }
            *c = cond;
        }
        None => conds.push(cond),
    }
}

/// `o` (core shape) as served by `r` (events.k8s.io events are converted).
pub(crate) fn served(r: &Res, o: Obj) -> Obj {
    if r.is_events_v1() {
        Arc::new(events::core_to_v1(&o))
    } else {
        o
    }
}

/// The resource whose store table holds `r`'s objects.
pub(crate) fn storage(r: &'static Res) -> &'static Res {
    if r.is_events_v1() {
        &EVENTS
    } else {
        r
    }
}

fn details(r: &Res, name: &str, uid: &str) -> Value {
    let mut d = json!({"name": name, "kind": r.name, "uid": uid});
    if !r.group.is_empty() {
        d["group"] = json!(r.group);
    }
    d
}

/// Checks `kind`/`apiVersion` of a body, when given.
fn check_type(r: &Res, body: &Value) -> Result<(), ApiError> {
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
fn default_pod_spec(spec: &mut Value) {
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

fn now_plus(d: Duration) -> Instant {
    Instant::now() + d
}

impl Cluster {
    /// An empty cluster.
    pub(crate) fn new(config: SimConfig) -> Cluster {
        Cluster {
            store: Store::new(HISTORY),
            config,
            rng: Rng::seeded(),
            queue: BTreeMap::new(),
            seq: 0,
            dirty_rs: BTreeSet::new(),
            dirty_deploy: BTreeSet::new(),
            replace_due: HashMap::new(),
            rs_wakeups: HashMap::new(),
            unscheduled: BTreeSet::new(),
            schedule_needed: false,
            rr: 0,
            ip_counter: 0,
            instant: false,
        }
    }

    // -----------------------------------------------------------------------------------------
    // Store access with controller hooks

    fn put(&mut self, r: &'static Res, obj: Value) -> Obj {
        let o = self.store.insert(r.storage, obj);
        self.touched(r, &o, false);
        o
    }

    fn remove(&mut self, r: &'static Res, ns: &str, name: &str) -> Option<Obj> {
        let o = self.store.remove(r.storage, ns, name)?;
        self.touched(r, &o, true);
        Some(o)
    }

    fn touched(&mut self, r: &Res, o: &Value, removed: bool) {
        let key = (ns_of(o).to_string(), name_of(o).to_string());
        match r.storage {
            "pods" => {
                if let Some((kind, owner, _)) = controller_of(o) {
                    if kind == "ReplicaSet" {
                        self.dirty_rs.insert((key.0.clone(), owner));
                    }
                }
                let waiting = !removed
                    && st(o, &["spec", "nodeName"]).is_empty()
                    && !is_terminating(o)
                    && st(o, &["status", "phase"]) == "Pending";
                if waiting {
                    self.unscheduled.insert(key);
                } else {
                    self.unscheduled.remove(&key);
                }
            }
            "replicasets" => {
                if let Some((kind, owner, _)) = controller_of(o) {
                    if kind == "Deployment" {
                        self.dirty_deploy.insert((key.0.clone(), owner));
                    }
                }
                self.dirty_rs.insert(key);
            }
            "deployments" => {
                self.dirty_deploy.insert(key);
            }
            "nodes" => self.schedule_needed = true,
            _ => {}
        }
    }

    fn get(&self, r: &Res, ns: &str, name: &str) -> Option<Obj> {
        let ns = if r.namespaced { ns } else { "" };
        self.store.get(r.storage, ns, name).cloned()
    }

    /// An object as served by `r` (events.k8s.io events are converted).
    pub(crate) fn get_served(&self, r: &'static Res, ns: &str, name: &str) -> Option<Obj> {
        let o = self.get(storage(r), ns, name)?;
        Some(served(r, o))
    }

    fn schedule(&mut self, at: Instant, a: Action) {
        self.seq += 1;
        self.queue.insert((at, self.seq), a);
    }

    /// When the next timed action is due.
    pub(crate) fn next_due(&self) -> Option<Instant> {
        self.queue.keys().next().map(|k| k.0)
    }

    /// Runs the actions due by `now`, then settles.
    pub(crate) fn run_due(&mut self, now: Instant) {
        while let Some(entry) = self.queue.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let a = entry.remove();
            self.exec(a);
        }
        self.settle();
    }

    fn exec(&mut self, a: Action) {
        match a {
            Action::PodReady { ns, name, uid } => {
                let Some(p) = self.store.get("pods", &ns, &name).cloned() else {
                    return;
                };
                let node = st(&p, &["spec", "nodeName"]).to_string();
                if uid_of(&p) != uid
                    || is_terminating(&p)
                    || node.is_empty()
                    || st(&p, &["status", "phase"]) != "Pending"
                {
                    return;
                }
                if !self.get(&NODES, "", &node).is_some_and(|n| node_ready(&n)) {
                    return; // started once the node is Ready again
                }
                let mut p = (*p).clone();
                self.make_running(&mut p, true);
                self.put(&PODS, p);
            }
            Action::PodRemove { ns, name, uid } => {
                if self
                    .store
                    .get("pods", &ns, &name)
                    .is_some_and(|p| uid_of(p) == uid)
                {
                    self.remove(&PODS, &ns, &name);
                }
            }
            Action::ReconcileRs { ns, name } => {
                self.rs_wakeups.remove(&(ns.clone(), name.clone()));
                self.dirty_rs.insert((ns, name));
            }
        }
    }

    /// Reconciles everything made dirty by writes, until nothing changes.
    pub(crate) fn settle(&mut self) {
        for _ in 0..1_000_000 {
            if let Some((ns, name)) = self.dirty_deploy.pop_first() {
                self.reconcile_deployment(&ns, &name);
            } else if let Some((ns, name)) = self.dirty_rs.pop_first() {
                self.reconcile_rs(&ns, &name);
            } else if self.schedule_needed {
                self.schedule_needed = false;
                self.schedule_pending();
            } else {
                return;
            }
        }
    }

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

    fn validate_name(r: &Res, name: &str) -> Result<(), ApiError> {
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

    fn stamp(&mut self, sr: &Res, obj: &mut Value) {
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
    fn prepare_workload(r: &Res, name: &str, obj: &mut Value) -> Result<(), ApiError> {
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

    fn default_node(&mut self, n: &mut Value) {
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

    /// Deletes (or orphans) what `owner` owns: the garbage collector.
    fn cascade(&mut self, owner: &Value, orphan: bool) {
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

    fn delete_namespace(&mut self, ns: &str) {
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

    fn remove_node_pods(&mut self, node: &str) {
        let pods: Vec<Obj> = self
            .store
            .iter("pods", None, None)
            .filter(|(_, p)| st(p, &["spec", "nodeName"]) == node)
            .map(|(_, p)| p.clone())
            .collect();
        for p in pods {
            if !is_terminating(&p) {
                self.mark_gone(&p);
            }
            self.remove(&PODS, ns_of(&p), name_of(&p));
        }
    }

    /// A pod of a replica set went away: the replica set replaces it after `replace_delay`.
    fn mark_gone(&mut self, pod: &Value) {
        if let Some((kind, rs, _)) = controller_of(pod) {
            if kind == "ReplicaSet" {
                let now = Instant::now();
                let due = now + self.config.replace_delay;
                let e = self
                    .replace_due
                    .entry((ns_of(pod).to_string(), rs))
                    .or_insert(due);
                if *e <= now {
                    *e = due;
                }
            }
        }
    }

    /// Deletes a pod: at once with grace 0 (or when unscheduled), else marks it terminating
    /// and removes it after min(grace, max_termination). `user`: deleted from outside (a
    /// replacement is due), not by its own controller.
    fn delete_pod(&mut self, ns: &str, name: &str, grace: Option<i64>, user: bool) -> Option<Obj> {
        let pod = self.store.get("pods", ns, name)?.clone();
        let default = int(&pod, &["spec", "terminationGracePeriodSeconds"], 30);
        let mut grace = grace.filter(|g| *g >= 0).unwrap_or(default).max(0);
        if st(&pod, &["spec", "nodeName"]).is_empty() || pod_finished(&pod) {
            grace = 0;
        }
        let was_terminating = is_terminating(&pod);
        if user && !was_terminating {
            self.mark_gone(&pod);
        }
        if grace == 0 {
            return self.remove(&PODS, ns, name);
        }
        if was_terminating && grace >= int(&pod, &["metadata", "deletionGracePeriodSeconds"], 0) {
            return Some(pod);
        }
        let mut p = (*pod).clone();
        let now = SystemTime::now();
        let at = now
            .checked_add(Duration::from_secs(grace as u64))
            .unwrap_or(now);
        set(
            &mut p,
            &["metadata", "deletionTimestamp"],
            json!(util::rfc3339(at)),
        );
        set(
            &mut p,
            &["metadata", "deletionGracePeriodSeconds"],
            json!(grace),
        );
        let uid = uid_of(&p).to_string();
        let o = self.put(&PODS, p);
        let wait = Duration::from_secs(grace as u64).min(self.config.max_termination);
        self.schedule(
            now_plus(wait),
            Action::PodRemove {
                ns: ns.into(),
                name: name.into(),
                uid,
            },
        );
        Some(o)
    }

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

    // -----------------------------------------------------------------------------------------
    // Scheduler and kubelet

    fn schedulable_nodes(&self) -> Vec<String> {
        self.store
            .iter("nodes", None, None)
            .filter(|(_, n)| node_ready(n) && n["spec"]["unschedulable"] != true)
            .map(|(k, _)| k.1.clone())
            .collect()
    }

    fn pick_from(&mut self, nodes: &[String]) -> Option<String> {
        if nodes.is_empty() {
            return None;
        }
        let n = nodes[self.rr % nodes.len()].clone();
        self.rr = self.rr.wrapping_add(1);
        Some(n)
    }

    fn node_ip(&self, node: &str) -> String {
        self.store
            .get("nodes", "", node)
            .and_then(|n| {
                n["status"]["addresses"].as_array().and_then(|a| {
                    a.iter()
                        .find(|x| x["type"] == "InternalIP")
                        .and_then(|x| x["address"].as_str().map(str::to_string))
                })
            })
            .unwrap_or_default()
    }

    fn bind(&mut self, pod: &mut Value, node: &str) {
        set(pod, &["spec", "nodeName"], json!(node));
        let ip = self.node_ip(node);
        if !ip.is_empty() {
            set(pod, &["status", "hostIP"], json!(ip));
            set(pod, &["status", "hostIPs"], json!([{"ip": ip}]));
        }
        set_condition(pod, "PodScheduled", true, None, None);
        for kind in ["PodReadyToStartContainers", "Initialized"] {
            set_condition(pod, kind, kind == "Initialized", None, None);
        }
        for kind in ["Ready", "ContainersReady"] {
            set_condition(
                pod,
                kind,
                false,
                Some("ContainersNotReady"),
                Some("containers with unready status: [app]"),
            );
        }
        let statuses: Vec<Value> =
            pod["spec"]["containers"]
                .as_array()
                .map(|cs| {
                    cs.iter()
                    .map(|c| json!({
                        "name": c["name"], "image": c["image"], "imageID": "",
                        "ready": false, "started": false, "restartCount": 0,
                        "state": {"waiting": {"reason": "ContainerCreating"}}, "lastState": {},
                    }))
                    .collect()
                })
                .unwrap_or_default();
        set(
            pod,
            &["status", "containerStatuses"],
            Value::Array(statuses),
        );
    }

    fn make_running(&mut self, pod: &mut Value, ready: bool) {
        self.ip_counter = self.ip_counter.wrapping_add(1);
        let c = self.ip_counter;
        let ip = format!("10.244.{}.{}", (c / 250) % 256, c % 250 + 2);
        let now = util::rfc3339(SystemTime::now());
        set(pod, &["status", "phase"], json!("Running"));
        set(pod, &["status", "podIP"], json!(ip));
        set(pod, &["status", "podIPs"], json!([{"ip": ip}]));
        set(pod, &["status", "startTime"], json!(now));
        for kind in ["PodReadyToStartContainers", "Initialized", "PodScheduled"] {
            set_condition(pod, kind, true, None, None);
        }
        let statuses: Vec<Value> = pod["spec"]["containers"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|c| {
                let image = c["image"].as_str().unwrap_or("registry.local/demo:1");
                let repo = image.split(':').next().unwrap_or(image);
                json!({
                    "name": c["name"], "image": image,
                    "imageID": format!("{repo}@sha256:{}", util::fnv32a(image.as_bytes()).to_string().repeat(7).chars().take(64).collect::<String>()),
                    "containerID": format!("containerd://{}", self.rng.hex(64)),
                    "ready": ready, "started": true, "restartCount": 0,
                    "state": {"running": {"startedAt": now}}, "lastState": {},
                })
            })
            .collect();
        set(
            pod,
            &["status", "containerStatuses"],
            Value::Array(statuses),
        );
        Self::set_pod_ready(pod, ready);
    }

    fn set_pod_ready(pod: &mut Value, ready: bool) {
        for kind in ["Ready", "ContainersReady"] {
            if ready {
                set_condition(pod, kind, true, None, None);
            } else {
                set_condition(
                    pod,
                    kind,
                    false,
                    Some("ContainersNotReady"),
                    Some("containers with unready status: [app]"),
                );
            }
        }
        if let Some(cs) = pod["status"]["containerStatuses"].as_array_mut() {
            for c in cs.iter_mut().filter_map(Value::as_object_mut) {
                c.insert("ready".into(), json!(ready));
            }
        }
    }

    /// Binds a new pod (or keeps its given node) and makes it Running now (seeding) or
    /// after `ready_delay`; without a node it stays Pending.
    fn place_new_pod(&mut self, pod: &mut Value) {
        let mut node = st(pod, &["spec", "nodeName"]).to_string();
        if node.is_empty() {
            let nodes = self.schedulable_nodes();
            node = self.pick_from(&nodes).unwrap_or_default();
        }
        if !node.is_empty() {
            self.bind(pod, &node);
        }
        if self.instant {
            self.make_running(pod, true);
        } else if !node.is_empty() {
            self.schedule(
                now_plus(self.config.ready_delay),
                Action::PodReady {
                    ns: ns_of(pod).into(),
                    name: name_of(pod).into(),
                    uid: uid_of(pod).into(),
                },
            );
        }
    }

    fn schedule_pending(&mut self) {
        let nodes = self.schedulable_nodes();
        if nodes.is_empty() {
            return;
        }
        let waiting: Vec<NsName> = self.unscheduled.iter().cloned().collect();
        for (ns, name) in waiting {
            let Some(p) = self.store.get("pods", &ns, &name).cloned() else {
                self.unscheduled.remove(&(ns, name));
                continue;
            };
            let mut p = (*p).clone();
            self.place_new_pod(&mut p);
            self.put(&PODS, p);
        }
    }

    // -----------------------------------------------------------------------------------------
    // Replica sets and deployments

    fn reconcile_rs(&mut self, ns: &str, name: &str) {
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

    fn reconcile_deployment(&mut self, ns: &str, name: &str) {
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

    /// Marks a node Ready or NotReady; its pods' readiness follows (node lifecycle).
    pub(crate) fn set_node_ready(&mut self, name: &str, ready: bool) -> bool {
        let Some(n) = self.get(&NODES, "", name) else {
            return false;
        };
        let mut n = (*n).clone();
        if ready {
            set_condition(
                &mut n,
                "Ready",
                true,
                Some("KubeletReady"),
                Some("kubelet is posting ready status"),
            );
        } else {
            set_condition(
                &mut n,
                "Ready",
                false,
                Some("NodeStatusUnknown"),
                Some("Kubelet stopped posting node status."),
            );
        }
        self.put(&NODES, n);
        let pods: Vec<Obj> = self
            .store
            .iter("pods", None, None)
            .filter(|(_, p)| st(p, &["spec", "nodeName"]) == name && !is_terminating(p))
            .map(|(_, p)| p.clone())
            .collect();
        for p in pods {
            match st(&p, &["status", "phase"]) {
                "Running" if pod_ready(&p) != ready => {
                    let mut q = (*p).clone();
                    Self::set_pod_ready(&mut q, ready);
                    self.put(&PODS, q);
                }
                "Pending" if ready => self.schedule(
                    now_plus(self.config.ready_delay),
                    Action::PodReady {
                        ns: ns_of(&p).into(),
                        name: name_of(&p).into(),
                        uid: uid_of(&p).into(),
                    },
                ),
                _ => {}
            }
        }
        self.settle();
        true
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

/// `labels` as a JSON object.
fn label_map(labels: &[(&str, &str)]) -> Map<String, Value> {
    labels
        .iter()
        .map(|(k, v)| ((*k).to_string(), json!(v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast() -> SimConfig {
        SimConfig {
            replace_delay: Duration::from_millis(50),
            ready_delay: Duration::from_millis(30),
            max_termination: Duration::from_millis(20),
        }
    }

    /// Runs the queue until `deadline` (simulating the controller task).
    fn run_for(c: &mut Cluster, d: Duration) {
        let end = Instant::now() + d;
        while Instant::now() < end {
            c.run_due(Instant::now());
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    fn web_pods(c: &Cluster) -> Vec<Value> {
        c.objects("pods", "demo")
    }

    fn seeded() -> Cluster {
        let mut c = Cluster::new(fast());
        for n in ["node-1", "node-2", "node-3"] {
            c.add_node(n, &[]);
        }
        c.add_deployment("demo", "web", 3, &[("app", "web")]);
        c
    }

    #[test]
    fn seeded_deployment_is_ready_at_once() {
        let c = seeded();
        let pods = web_pods(&c);
        assert_eq!(pods.len(), 3);
        let nodes: BTreeSet<&str> = pods.iter().map(|p| st(p, &["spec", "nodeName"])).collect();
        assert_eq!(nodes.len(), 3, "round-robin over the nodes");
        assert!(pods.iter().all(pod_ready));
        let d = c.object("deployments", "demo", "web").unwrap_or_default();
        assert_eq!(d["status"]["readyReplicas"], 3);
        assert_eq!(d["status"]["availableReplicas"], 3);
        assert_eq!(d["status"]["conditions"][0]["type"], "Available");
        assert_eq!(d["status"]["conditions"][0]["status"], "True");
        let rs = c.objects("replicasets", "demo");
        assert_eq!(rs.len(), 1);
        assert_eq!(rs[0]["status"]["readyReplicas"], 3);
        assert!(name_of(&rs[0]).starts_with("web-"));
        assert_eq!(
            pods[0]["metadata"]["labels"][HASH_LABEL],
            rs[0]["metadata"]["labels"][HASH_LABEL]
        );
    }

    #[test]
    fn deleted_pod_is_replaced_after_the_delay() {
        let mut c = seeded();
        let victim = name_of(&web_pods(&c)[0]).to_string();
        let t0 = Instant::now();
        let out = c.delete(&PODS, "demo", &victim, &DeleteOpts::default());
        assert!(matches!(&out, Ok(Deleted::Object(o)) if is_terminating(o)));
        // Terminating pods no longer count: 2 active, and no replacement yet.
        assert_eq!(
            web_pods(&c).iter().filter(|p| !is_terminating(p)).count(),
            2
        );
        let mut replaced_at = None;
        while t0.elapsed() < Duration::from_secs(2) {
            c.run_due(Instant::now());
            if replaced_at.is_none()
                && web_pods(&c).iter().filter(|p| !is_terminating(p)).count() == 3
            {
                replaced_at = Some(t0.elapsed());
            }
            if replaced_at.is_some()
                && web_pods(&c).iter().all(pod_ready)
                && web_pods(&c).len() == 3
            {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        let at = replaced_at.unwrap_or_default();
        assert!(at >= Duration::from_millis(50), "replaced after {at:?}");
        assert!(at < Duration::from_millis(500), "replaced after {at:?}");
        let pods = web_pods(&c);
        assert_eq!(pods.len(), 3);
        assert!(pods.iter().all(pod_ready));
        assert!(pods.iter().all(|p| name_of(p) != victim));
    }

    #[test]
    fn scale_rollout_and_cascade() {
        let mut c = seeded();
        let patch = json!({"spec": {"replicas": 5}});
        assert!(c
            .patch_scale(&DEPLOYMENTS, "demo", "web", PatchKind::Merge, &patch, false)
            .is_ok());
        run_for(&mut c, Duration::from_millis(150));
        assert_eq!(web_pods(&c).iter().filter(|p| pod_ready(p)).count(), 5);
        let restart = json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "now"}}}}});
        let before: BTreeSet<String> = web_pods(&c)
            .iter()
            .map(|p| name_of(p).to_string())
            .collect();
        assert!(c
            .patch(
                &DEPLOYMENTS,
                "demo",
                "web",
                PatchKind::Merge,
                &restart,
                None,
                false
            )
            .is_ok());
        run_for(&mut c, Duration::from_millis(200));
        let rs = c.objects("replicasets", "demo");
        assert_eq!(rs.len(), 2);
        let pods = web_pods(&c);
        assert_eq!(pods.len(), 5);
        assert!(pods.iter().all(|p| !before.contains(name_of(p))));
        let d = c.object("deployments", "demo", "web").unwrap_or_default();
        assert_eq!(d["metadata"]["generation"], 3, "scale, then template");
        assert_eq!(d["status"]["observedGeneration"], 3);
        assert_eq!(d["status"]["updatedReplicas"], 5);
        assert_eq!(d["metadata"]["annotations"][REVISION], "2");
        // Scale down: newest go first.
        c.set_pod_age("demo", name_of(&pods[0]), Duration::from_secs(3600));
        let keep = name_of(&pods[0]).to_string();
        assert!(c
            .patch(
                &DEPLOYMENTS,
                "demo",
                "web",
                PatchKind::Merge,
                &json!({"spec": {"replicas": 1}}),
                None,
                false
            )
            .is_ok());
        run_for(&mut c, Duration::from_millis(100));
        let pods = web_pods(&c);
        assert_eq!(pods.len(), 1);
        assert_eq!(name_of(&pods[0]), keep);
        // Cascade.
        assert!(matches!(
            c.delete(&DEPLOYMENTS, "demo", "web", &DeleteOpts::default()),
            Ok(Deleted::Status(_))
        ));
        run_for(&mut c, Duration::from_millis(60));
        assert!(c.objects("replicasets", "demo").is_empty());
        assert!(web_pods(&c).is_empty());
    }

    #[test]
    fn pods_wait_for_nodes_and_move_off_deleted_ones() {
        let mut c = Cluster::new(fast());
        c.ensure_namespace("demo");
        let rs = json!({"metadata": {"name": "rs"}, "spec": {"replicas": 2, "selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}}}}});
        assert!(c.create(&REPLICASETS, "demo", rs, false).is_ok());
        let pods = web_pods(&c);
        assert_eq!(pods.len(), 2);
        assert!(pods
            .iter()
            .all(|p| p["status"]["phase"] == "Pending" && p["spec"]["nodeName"].is_null()));
        c.add_node("n1", &[]);
        run_for(&mut c, Duration::from_millis(80));
        assert!(web_pods(&c)
            .iter()
            .all(|p| p["status"]["phase"] == "Running" && pod_ready(p)));
        c.add_node("n2", &[]);
        assert!(c.delete(&NODES, "", "n1", &DeleteOpts::default()).is_ok());
        assert!(web_pods(&c).is_empty());
        run_for(&mut c, Duration::from_millis(150));
        let pods = web_pods(&c);
        assert_eq!(pods.len(), 2);
        assert!(pods
            .iter()
            .all(|p| p["spec"]["nodeName"] == "n2" && pod_ready(p)));
        // Cordon: new pods stay Pending.
        assert!(c
            .patch(
                &NODES,
                "",
                "n2",
                PatchKind::Merge,
                &json!({"spec": {"unschedulable": true}}),
                None,
                false
            )
            .is_ok());
        assert!(c
            .delete(
                &PODS,
                "demo",
                name_of(&pods[0]),
                &DeleteOpts {
                    grace: Some(0),
                    ..Default::default()
                }
            )
            .is_ok());
        run_for(&mut c, Duration::from_millis(100));
        assert_eq!(
            web_pods(&c)
                .iter()
                .filter(|p| p["status"]["phase"] == "Pending")
                .count(),
            1
        );
        // NotReady node: pods lose readiness.
        c.set_node_ready("n2", false);
        assert!(web_pods(&c).iter().all(|p| !pod_ready(p)));
    }

    #[test]
    fn api_errors() {
        let mut c = seeded();
        let e = c.create(&PODS, "nope", json!({"metadata": {"name": "x"}}), false);
        assert_eq!(
            e.err().map(|e| e.message),
            Some("namespaces \"nope\" not found".into())
        );
        let e = c.create(&DEPLOYMENTS, "demo", json!({"metadata": {"name": "web"}, "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}}}}}), false);
        assert_eq!(e.err().map(|e| e.code), Some(409));
        let e = c.create(
            &PODS,
            "demo",
            json!({"metadata": {"name": "Bad_Name"}}),
            false,
        );
        assert_eq!(e.err().map(|e| e.code), Some(422));
        let p = c.create(
            &PODS,
            "demo",
            json!({"metadata": {"generateName": "gen-"}}),
            false,
        );
        assert!(p
            .as_ref()
            .is_ok_and(|p| name_of(p).starts_with("gen-") && name_of(p).len() == 9));
        let name = p.map(|p| name_of(&p).to_string()).unwrap_or_default();
        let stale = json!({"metadata": {"name": name, "resourceVersion": "1"}});
        assert_eq!(
            c.update(&PODS, "demo", &name, stale, None, false)
                .err()
                .map(|e| e.code),
            Some(409)
        );
        let e = c.patch(
            &PODS,
            "demo",
            &name,
            PatchKind::Json,
            &json!([{"op": "test", "path": "/metadata/name", "value": "x"}]),
            None,
            false,
        );
        assert_eq!(e.err().map(|e| e.code), Some(422));
        let e = c.delete(&PODS, "demo", "nope", &DeleteOpts::default());
        assert_eq!(
            e.err().map(|e| e.message),
            Some("pods \"nope\" not found".into())
        );
        let ev = json!({"metadata": {"name": "e"}, "reason": "R"});
        let e = c.create(&res::EVENTS_V1, "demo", ev, false);
        assert_eq!(e.err().map(|e| e.code), Some(422));
    }

    #[test]
    fn eviction_honours_budgets() {
        let mut c = seeded();
        let pdb = json!({"metadata": {"name": "web"}, "spec": {"minAvailable": 3, "selector": {"matchLabels": {"app": "web"}}}});
        assert!(c.create(&res::PDBS, "demo", pdb, false).is_ok());
        let victim = name_of(&web_pods(&c)[0]).to_string();
        let e = c.evict(
            "demo",
            &victim,
            &json!({"metadata": {"name": victim}}),
            false,
        );
        assert_eq!(e.err().map(|e| e.code), Some(429));
        assert!(c
            .patch(
                &res::PDBS,
                "demo",
                "web",
                PatchKind::Merge,
                &json!({"spec": {"minAvailable": 2}}),
                None,
                false
            )
            .is_ok());
        let ok = c.evict(
            "demo",
            &victim,
            &json!({"metadata": {"name": victim}}),
            false,
        );
        assert_eq!(ok.map(|s| s["code"].clone()), Ok(json!(201)));
        assert!(c
            .object("pods", "demo", &victim)
            .is_some_and(|p| is_terminating(&p)));
    }

    #[test]
    fn paging() {
        let mut c = Cluster::new(fast());
        c.add_pods("demo", "p", 25, &[("app", "bulk")]);
        let mut o = ListOpts {
            limit: 10,
            ..Default::default()
        };
        let page = c.list(&PODS, Some("demo"), &o);
        assert_eq!(page.items.len(), 10);
        assert_eq!(page.remaining, Some(15));
        assert_eq!(page.cont.as_ref().map(|k| k.1.as_str()), Some("p-00009"));
        o.after = page.cont;
        let page = c.list(&PODS, Some("demo"), &o);
        assert_eq!(name_of(&page.items[0]), "p-00010");
        o.after = page.cont;
        let page = c.list(&PODS, Some("demo"), &o);
        assert_eq!(page.items.len(), 5);
        assert!(page.cont.is_none());
    }
}
