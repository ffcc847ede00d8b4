//! The cluster's state: the store, with hooks that mark what the controllers must look at
//! after each write, and the time-ordered queue of due controller actions.

use super::json::{controller_of, is_terminating, name_of, node_ready, ns_of, st, uid_of};
use super::logs::LogLine;
use crate::config::SimConfig;
use crate::events;
use crate::resources::{Res, EVENTS, NODES, PODS};
use crate::store::{NsName, Obj, Store};
use crate::util::Rng;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Instant;

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

/// The simulated cluster: the store and the controllers' state.
#[derive(Debug)]
pub(crate) struct Cluster {
    pub store: Store,
    pub config: SimConfig,
    pub(super) rng: Rng,
    queue: BTreeMap<(Instant, u64), Action>,
    seq: u64,
    dirty_rs: BTreeSet<NsName>,
    dirty_deploy: BTreeSet<NsName>,
    /// Replica set -> when it may replace pods that went away.
    pub(super) replace_due: HashMap<NsName, Instant>,
    /// Replica set -> the wake-up already queued for it.
    pub(super) rs_wakeups: HashMap<NsName, Instant>,
    pub(super) unscheduled: BTreeSet<NsName>,
    schedule_needed: bool,
    pub(super) rr: usize,
    pub(super) ip_counter: u32,
    /// Seeding: new pods are Running and Ready at once.
    pub(super) instant: bool,
    /// Container logs by (namespace, pod, container); a pod's go when it is removed.
    pub(super) logs: HashMap<(String, String, String), Vec<LogLine>>,
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
            logs: HashMap::new(),
        }
    }

    // -----------------------------------------------------------------------------------------
    // Store access with controller hooks

    pub(super) fn put(&mut self, r: &'static Res, obj: Value) -> Obj {
        let o = self.store.insert(r.storage, obj);
        self.touched(r, &o, false);
        o
    }

    pub(super) fn remove(&mut self, r: &'static Res, ns: &str, name: &str) -> Option<Obj> {
        let o = self.store.remove(r.storage, ns, name)?;
        self.touched(r, &o, true);
        Some(o)
    }

    fn touched(&mut self, r: &Res, o: &Value, removed: bool) {
        let key = (ns_of(o).to_string(), name_of(o).to_string());
        match r.storage {
            "pods" => {
                if removed {
                    self.logs
                        .retain(|(ns, pod, _), _| !(*ns == key.0 && *pod == key.1));
                }
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

    pub(super) fn get(&self, r: &Res, ns: &str, name: &str) -> Option<Obj> {
        let ns = if r.namespaced { ns } else { "" };
        self.store.get(r.storage, ns, name).cloned()
    }

    /// An object as served by `r` (events.k8s.io events are converted).
    pub(crate) fn get_served(&self, r: &'static Res, ns: &str, name: &str) -> Option<Obj> {
        let o = self.get(storage(r), ns, name)?;
        Some(served(r, o))
    }

    pub(super) fn schedule(&mut self, at: Instant, a: Action) {
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
}
