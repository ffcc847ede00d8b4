//! The scheduler, the kubelet and the node lifecycle: where pods run, when they become
//! Ready, how they terminate, and what happens to them when their node goes away or
//! becomes NotReady.

use super::json::{
    controller_of, int, is_terminating, name_of, node_ready, ns_of, pod_finished, pod_ready, set,
    set_condition, st, uid_of,
};
use super::state::{Action, Cluster};
use crate::resources::{NODES, PODS};
use crate::store::{NsName, Obj};
use crate::util;
use serde_json::{json, Value};
use std::time::{Duration, Instant, SystemTime};

fn now_plus(d: Duration) -> Instant {
    Instant::now() + d
}

impl Cluster {
    pub(super) fn remove_node_pods(&mut self, node: &str) {
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
    pub(super) fn mark_gone(&mut self, pod: &Value) {
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
    pub(super) fn delete_pod(
        &mut self,
        ns: &str,
        name: &str,
        grace: Option<i64>,
        user: bool,
    ) -> Option<Obj> {
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

    // -----------------------------------------------------------------------------------------
    // Scheduler and kubelet

    pub(super) fn schedulable_nodes(&self) -> Vec<String> {
        self.store
            .iter("nodes", None, None)
            .filter(|(_, n)| node_ready(n) && n["spec"]["unschedulable"] != true)
            .map(|(k, _)| k.1.clone())
            .collect()
    }

    pub(super) fn pick_from(&mut self, nodes: &[String]) -> Option<String> {
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

    pub(super) fn bind(&mut self, pod: &mut Value, node: &str) {
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

    pub(super) fn make_running(&mut self, pod: &mut Value, ready: bool) {
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
    pub(super) fn place_new_pod(&mut self, pod: &mut Value) {
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

    pub(super) fn schedule_pending(&mut self) {
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
}
