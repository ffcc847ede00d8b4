//! What an experiment declares it touches in a cluster (`touches = ["pods.terminate"]`), and
//! the least-privilege RBAC rules that follow: each operation of the Kubernetes target names
//! the API calls it makes, and nothing more (the test suite runs every operation against the
//! simulated cluster and compares its request log with these rules). No wildcards.
//!
//! This module has no cargo feature: a harness renders the manifests of its in-cluster Job
//! whether or not it was built with `k8s`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

/// Where a rule applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// In the operation's namespace (a Role).
    Namespace,
    /// Across the cluster: cluster-scoped objects, or objects in every namespace (a
    /// ClusterRole).
    Cluster,
}

/// One RBAC rule of an operation: these verbs on this resource of this API group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    /// The API group (`""` for core, `apps`, `events.k8s.io`).
    pub api_group: &'static str,
    /// The resource, with its subresource (`pods`, `pods/eviction`, `deployments/scale`).
    pub resource: &'static str,
    /// The verbs.
    pub verbs: &'static [&'static str],
    /// Where.
    pub scope: Scope,
}

const fn ns(
    api_group: &'static str,
    resource: &'static str,
    verbs: &'static [&'static str],
) -> Rule {
    Rule {
        api_group,
        resource,
        verbs,
        scope: Scope::Namespace,
    }
}

const fn cluster(
    api_group: &'static str,
    resource: &'static str,
    verbs: &'static [&'static str],
) -> Rule {
    Rule {
        api_group,
        resource,
        verbs,
        scope: Scope::Cluster,
    }
}

macro_rules! operations {
    ($($(#[$doc:meta])* $Variant:ident = $name:literal => [$($rule:expr),* $(,)?],)+) => {
        /// An operation of the Kubernetes target, as `touches = [...]` names it.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
        pub enum Operation {
            $($(#[$doc])* $Variant,)+
        }

        impl Operation {
            /// Every operation, in the documentation's order.
            pub const ALL: &'static [Operation] = &[$(Operation::$Variant,)+];

            /// The name `touches` writes (`pods.terminate`).
            pub fn name(self) -> &'static str {
                match self {
                    $(Operation::$Variant => $name,)+
                }
            }

            /// The API calls it makes, as RBAC rules.
            pub fn rules(self) -> &'static [Rule] {
                match self {
                    $(Operation::$Variant => {
                        const RULES: &[Rule] = &[$($rule),*];
                        RULES
                    })+
                }
            }
        }
    };
}

operations! {
    /// Listing pods and reading them: `list`, `count`, `ready_count`, `phases`, `wait_ready`...
    PodsRead = "pods.read" => [ns("", "pods", &["list"])],
    /// `Pods::terminate`.
    PodsTerminate = "pods.terminate" => [ns("", "pods", &["list", "delete"])],
    /// `Pods::evict`.
    PodsEvict = "pods.evict" => [ns("", "pods", &["list"]), ns("", "pods/eviction", &["create"])],
    /// `Pods::logs`.
    PodsLogs = "pods.logs" => [ns("", "pods", &["list"]), ns("", "pods/log", &["get"])],
    /// Reading a deployment: `state`, `available`, `fully_available`, `wait_fully_available`.
    DeploymentsRead = "deployments.read" => [ns("apps", "deployments", &["get"])],
    /// `Deployment::scale` and its undo (`restore_scales`): the deployment read and marked,
    /// its scale patched.
    DeploymentsScale = "deployments.scale" => [
        ns("apps", "deployments", &["get", "patch"]),
        ns("apps", "deployments/scale", &["patch"]),
    ],
    /// `Deployment::restart`.
    DeploymentsRestart = "deployments.restart" => [ns("apps", "deployments", &["get", "patch"])],
    /// Listing nodes: `nodes(cx).list()`, `all_ready`, `wait_all_ready`...
    NodesRead = "nodes.read" => [cluster("", "nodes", &["list"])],
    /// `Nodes::cordon` and `uncordon` (and `uncordon_cordoned`): nodes listed and patched.
    NodesCordon = "nodes.cordon" => [cluster("", "nodes", &["list", "patch"])],
    /// `Nodes::drain`: nodes cordoned, and the pods on them, in any namespace, evicted.
    NodesDrain = "nodes.drain" => [
        cluster("", "nodes", &["list", "patch"]),
        cluster("", "pods", &["list"]),
        cluster("", "pods/eviction", &["create"]),
    ],
    /// `Nodes::delete`: the pods on the nodes, in any namespace, are listed for the guards.
    NodesDelete = "nodes.delete" => [
        cluster("", "nodes", &["list", "delete"]),
        cluster("", "pods", &["list"]),
    ],
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A touch that does not parse: its text and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("touches entry `{text}`: {what}")]
pub struct TouchError {
    /// The entry.
    pub text: String,
    /// What is wrong.
    pub what: String,
}

/// One declared touch: an operation, in a namespace when it is namespaced (the target
/// namespace when none is named).
///
/// ```
/// use chaos_runtime::target::touches::{Operation, Touch};
/// let t: Touch = "pods.terminate in shop".parse()?;
/// assert_eq!((t.operation, t.namespace.as_deref()), (Operation::PodsTerminate, Some("shop")));
/// let t: Touch = "nodes.drain".parse()?;
/// assert_eq!((t.operation, t.namespace), (Operation::NodesDrain, None));
/// let err = "pods.*".parse::<Touch>().unwrap_err().to_string();
/// assert!(err.starts_with("touches entry `pods.*`: unknown operation `pods.*`; expected one of pods.read, pods.terminate"), "{err}");
/// # Ok::<(), chaos_runtime::target::touches::TouchError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Touch {
    /// The operation.
    pub operation: Operation,
    /// Its namespace (`in NAME`), for a namespaced operation.
    pub namespace: Option<String>,
}

impl Touch {
    /// Whether every rule of the operation is cluster-wide (a namespace means nothing).
    pub fn cluster_wide(&self) -> bool {
        self.operation
            .rules()
            .iter()
            .all(|r| r.scope == Scope::Cluster)
    }
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

impl FromStr for Touch {
    type Err = TouchError;

    fn from_str(text: &str) -> Result<Touch, TouchError> {
        let err = |what: String| TouchError {
            text: text.to_owned(),
            what,
        };
        let words: Vec<&str> = text.split_whitespace().collect();
        let (op, namespace) = match words.as_slice() {
            [op] => (*op, None),
            [op, "in", ns] => (*op, Some(*ns)),
            _ => {
                return Err(err(
                    "expected `<operation>` or `<operation> in <namespace>`, as `pods.terminate in shop`".into(),
                ))
            }
        };
        let operation = Operation::ALL
            .iter()
            .copied()
            .find(|o| o.name() == op)
            .ok_or_else(|| {
                let names: Vec<&str> = Operation::ALL.iter().map(|o| o.name()).collect();
                err(format!(
                    "unknown operation `{op}`; expected one of {}",
                    names.join(", ")
                ))
            })?;
        let touch = Touch {
            operation,
            namespace: namespace.map(str::to_owned),
        };
        if let Some(ns) = namespace {
            if !is_dns_label(ns) {
                return Err(err(format!(
                    "`{ns}` is not a namespace name (lowercase letters, digits and `-`)"
                )));
            }
            if touch.cluster_wide() {
                return Err(err(format!(
                    "`{op}` is cluster-wide: it takes no namespace"
                )));
            }
        }
        Ok(touch)
    }
}

impl fmt::Display for Touch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} in {ns}", self.operation),
            None => f.write_str(self.operation.name()),
        }
    }
}

/// Verbs per (API group, resource).
pub type Grants = BTreeMap<(String, String), BTreeSet<String>>;

/// The RBAC rules a set of touches needs: per namespace (Roles) and cluster-wide (a
/// ClusterRole), verbs merged per resource.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rbac {
    /// Namespace → what a Role there grants.
    pub namespaced: BTreeMap<String, Grants>,
    /// What the ClusterRole grants.
    pub cluster: Grants,
}

impl Rbac {
    /// The rules of `touches`, their namespaced operations in `default_namespace` unless they
    /// name one.
    ///
    /// ```
    /// use chaos_runtime::target::touches::{Rbac, Touch};
    /// let touches: Vec<Touch> = vec!["pods.terminate".parse()?, "deployments.read in shop".parse()?, "nodes.read".parse()?];
    /// let rbac = Rbac::of(&touches, "demo");
    /// let verbs = |g: &chaos_runtime::target::touches::Grants, group: &str, res: &str| {
    ///     g[&(group.to_owned(), res.to_owned())].iter().cloned().collect::<Vec<_>>()
    /// };
    /// assert_eq!(verbs(&rbac.namespaced["demo"], "", "pods"), ["delete", "list"]);
    /// assert_eq!(verbs(&rbac.namespaced["shop"], "apps", "deployments"), ["get"]);
    /// assert_eq!(verbs(&rbac.cluster, "", "nodes"), ["list"]);
    /// # Ok::<(), chaos_runtime::target::touches::TouchError>(())
    /// ```
    pub fn of(touches: &[Touch], default_namespace: &str) -> Rbac {
        let mut rbac = Rbac::default();
        for t in touches {
            let ns = t.namespace.as_deref().unwrap_or(default_namespace);
            for r in t.operation.rules() {
                let grants = match r.scope {
                    Scope::Namespace => rbac.namespaced.entry(ns.to_owned()).or_default(),
                    Scope::Cluster => &mut rbac.cluster,
                };
                grants
                    .entry((r.api_group.to_owned(), r.resource.to_owned()))
                    .or_default()
                    .extend(r.verbs.iter().map(|v| (*v).to_owned()));
            }
        }
        rbac
    }

    /// Adds `verbs` on `resource` of `api_group` in `namespace`.
    pub fn grant(&mut self, namespace: &str, api_group: &str, resource: &str, verbs: &[&str]) {
        self.namespaced
            .entry(namespace.to_owned())
            .or_default()
            .entry((api_group.to_owned(), resource.to_owned()))
            .or_default()
            .extend(verbs.iter().map(|v| (*v).to_owned()));
    }

    /// The number of rules (one per resource with its verbs) of every Role and the ClusterRole.
    pub fn rule_count(&self) -> usize {
        self.namespaced.values().map(BTreeMap::len).sum::<usize>() + self.cluster.len()
    }
}
