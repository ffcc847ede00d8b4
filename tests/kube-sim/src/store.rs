//! The object store: JSON objects keyed by (resource, namespace, name), a global
//! resourceVersion, an owner index and a bounded history of changes for watches.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::ops::Bound;
use std::sync::Arc;

/// A stored object; shared with list pages, watch history and in-flight responses.
pub(crate) type Obj = Arc<Value>;
/// (namespace, name); namespace is "" for cluster-scoped objects.
pub(crate) type NsName = (String, String);

/// What a change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChangeKind {
    Added,
    Modified,
    Deleted,
}

/// One write, as watches replay it.
#[derive(Debug, Clone)]
pub(crate) struct Change {
    pub rv: u64,
    pub resource: &'static str,
    pub kind: ChangeKind,
    /// The object after the change (for deletions: its last state, with the deletion's rv).
    pub obj: Obj,
    /// The object before the change (selector transitions).
    pub prev: Option<Obj>,
}

/// The store.
#[derive(Debug)]
pub(crate) struct Store {
    rv: u64,
    tables: HashMap<&'static str, BTreeMap<NsName, Obj>>,
    owners: HashMap<String, BTreeSet<(&'static str, String, String)>>,
    history: VecDeque<Change>,
    /// Changes with rv <= floor have left the history.
    floor: u64,
    cap: usize,
    rv_tx: tokio::sync::watch::Sender<u64>,
}

fn meta_str<'a>(obj: &'a Value, key: &str) -> &'a str {
    obj["metadata"][key].as_str().unwrap_or_default()
}

fn owner_uids(obj: &Value) -> Vec<String> {
    obj["metadata"]["ownerReferences"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|o| o["uid"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

impl Store {
    /// An empty store keeping the last `cap` changes for watches.
    pub(crate) fn new(cap: usize) -> Store {
        Store {
            rv: 1,
            tables: HashMap::new(),
            owners: HashMap::new(),
            history: VecDeque::new(),
            floor: 1,
            cap: cap.max(1),
            rv_tx: tokio::sync::watch::channel(1).0,
        }
    }

    /// The current resourceVersion.
    pub(crate) fn rv(&self) -> u64 {
        self.rv
    }

    /// Woken with the new resourceVersion after every write.
    pub(crate) fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.rv_tx.subscribe()
    }

    /// How many watch streams are subscribed.
    #[cfg(test)]
    pub(crate) fn watchers(&self) -> usize {
        self.rv_tx.receiver_count()
    }

    pub(crate) fn get(&self, res: &str, ns: &str, name: &str) -> Option<&Obj> {
        self.tables
            .get(res)?
            .get(&(ns.to_string(), name.to_string()))
    }

    /// Objects of `res` in `ns` (every namespace when None) after `after`, in key order.
    pub(crate) fn iter<'a>(
        &'a self,
        res: &str,
        ns: Option<&'a str>,
        after: Option<&NsName>,
    ) -> impl Iterator<Item = (&'a NsName, &'a Obj)> + 'a {
        let start: Bound<NsName> = match (after, ns) {
            (Some(k), _) => Bound::Excluded(k.clone()),
            (None, Some(ns)) => Bound::Included((ns.to_string(), String::new())),
            (None, None) => Bound::Unbounded,
        };
        self.tables
            .get(res)
            .into_iter()
            .flat_map(move |t| t.range((start.clone(), Bound::Unbounded)))
            .take_while(move |(k, _)| ns.is_none_or(|n| k.0 == n))
    }

    /// How many objects `res` has in `ns` (every namespace when None).
    pub(crate) fn count(&self, res: &str, ns: Option<&str>) -> usize {
        match ns {
            None => self.tables.get(res).map_or(0, BTreeMap::len),
            Some(_) => self.iter(res, ns, None).count(),
        }
    }

    /// The objects whose ownerReferences name `uid`: (resource, namespace, name).
    pub(crate) fn owned_by(&self, uid: &str) -> Vec<(&'static str, String, String)> {
        self.owners
            .get(uid)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    fn record(&mut self, change: Change) {
        self.history.push_back(change);
        while self.history.len() > self.cap {
            if let Some(old) = self.history.pop_front() {
                self.floor = old.rv;
            }
        }
        self.rv_tx.send_replace(self.rv);
    }

    /// Writes `obj` (namespace and name from its metadata) with a new resourceVersion.
    pub(crate) fn insert(&mut self, res: &'static str, mut obj: Value) -> Obj {
        self.rv += 1;
        let rv = self.rv;
        if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            m.insert("resourceVersion".into(), Value::String(rv.to_string()));
        }
        let key = (
            meta_str(&obj, "namespace").to_string(),
            meta_str(&obj, "name").to_string(),
        );
        let new_owners = owner_uids(&obj);
        let obj = Arc::new(obj);
        let prev = self
            .tables
            .entry(res)
            .or_default()
            .insert(key.clone(), obj.clone());
        let old_owners = prev.as_deref().map(owner_uids).unwrap_or_default();
        if old_owners != new_owners {
            self.unindex(res, &key, &old_owners);
            for uid in new_owners {
                self.owners
                    .entry(uid)
                    .or_default()
                    .insert((res, key.0.clone(), key.1.clone()));
            }
        }
        let kind = if prev.is_some() {
            ChangeKind::Modified
        } else {
            ChangeKind::Added
        };
        self.record(Change {
            rv,
            resource: res,
            kind,
            obj: obj.clone(),
            prev,
        });
        obj
    }

    fn unindex(&mut self, res: &'static str, key: &NsName, uids: &[String]) {
        for uid in uids {
            if let Some(set) = self.owners.get_mut(uid) {
                set.remove(&(res, key.0.clone(), key.1.clone()));
                if set.is_empty() {
                    self.owners.remove(uid);
                }
            }
        }
    }

    /// Removes an object; returns its last state.
    pub(crate) fn remove(&mut self, res: &'static str, ns: &str, name: &str) -> Option<Obj> {
        let key = (ns.to_string(), name.to_string());
        let old = self.tables.get_mut(res)?.remove(&key)?;
        self.unindex(res, &key, &owner_uids(&old));
        self.rv += 1;
        let mut last = (*old).clone();
        if let Some(m) = last.get_mut("metadata").and_then(Value::as_object_mut) {
            m.insert("resourceVersion".into(), Value::String(self.rv.to_string()));
        }
        let last = Arc::new(last);
        self.record(Change {
            rv: self.rv,
            resource: res,
            kind: ChangeKind::Deleted,
            obj: last.clone(),
            prev: Some(old),
        });
        Some(last)
    }

    /// Up to `max` changes with rv > `after`, oldest first; `Err(floor)` when changes after
    /// `after` have already left the history.
    pub(crate) fn changes_after(&self, after: u64, max: usize) -> Result<Vec<Change>, u64> {
        if after < self.floor {
            return Err(self.floor);
        }
        let start = self.history.partition_point(|c| c.rv <= after);
        Ok(self.history.range(start..).take(max).cloned().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, owner: Option<&str>) -> Value {
        let mut p = json!({"metadata": {"name": name, "namespace": "demo"}});
        if let Some(uid) = owner {
            p["metadata"]["ownerReferences"] = json!([{"uid": uid, "controller": true}]);
        }
        p
    }

    #[test]
    fn store_writes_index_and_history() {
        let mut s = Store::new(3);
        let a = s.insert("pods", pod("a", Some("rs1")));
        assert_eq!(a["metadata"]["resourceVersion"], "2");
        s.insert("pods", pod("b", Some("rs1")));
        s.insert(
            "pods",
            json!({"metadata": {"name": "c", "namespace": "other"}}),
        );
        assert_eq!(s.owned_by("rs1").len(), 2);
        assert_eq!(s.count("pods", Some("demo")), 2);
        assert_eq!(s.count("pods", None), 3);
        let names: Vec<String> = s
            .iter("pods", Some("demo"), Some(&("demo".into(), "a".into())))
            .map(|(k, _)| k.1.clone())
            .collect();
        assert_eq!(names, ["b"]);
        s.insert("pods", pod("a", None));
        assert_eq!(s.owned_by("rs1").len(), 1);
        let gone = s.remove("pods", "demo", "b");
        assert!(gone.is_some_and(|g| g["metadata"]["resourceVersion"] == "6"));
        assert!(s.owned_by("rs1").is_empty());
        // Capacity 3: changes 4..=6 remain; the floor is 3.
        assert_eq!(s.changes_after(1, 10).map(|c| c.len()), Err(3));
        let ch = s.changes_after(4, 10).unwrap_or_default();
        assert_eq!(ch.iter().map(|c| c.rv).collect::<Vec<_>>(), [5, 6]);
        assert_eq!(ch[0].kind, ChangeKind::Modified);
        assert_eq!(ch[1].kind, ChangeKind::Deleted);
        assert!(s.changes_after(6, 10).is_ok_and(|c| c.is_empty()));
    }
}
