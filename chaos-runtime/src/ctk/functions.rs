//! The Python functions of Chaos Toolkit's extensions that have a native equivalent here, by
//! module and name, with their parameters as the Python signatures declare them (without
//! `secrets` and `configuration`, which Chaos Toolkit passes itself). Validation resolves a
//! `python` provider against this list; a module or function not in it cannot run here.
//!
//! Deprecated names that experiments still use resolve to the function they call
//! (`chaosk8s.actions.scale_microservice` → `chaosk8s.deployment.actions.scale_deployment`).

/// One parameter: its name and whether the signature gives it no default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Param {
    /// The Python parameter's name.
    pub name: &'static str,
    /// Whether it must be given.
    pub required: bool,
}

/// What a function acts on, and so which cargo feature runs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A Kubernetes cluster (feature `k8s`).
    Kubernetes,
    /// AWS EC2 (feature `aws`).
    Ec2,
}

/// A function with a native equivalent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Function {
    /// Its module, as experiments name it (`chaosk8s.pod.actions`).
    pub module: &'static str,
    /// Its name.
    pub name: &'static str,
    /// Its parameters, in the signature's order.
    pub params: &'static [Param],
    /// What it acts on.
    pub target: Target,
    /// For a deprecated name, the function it calls (`module.name`); `None` otherwise.
    pub calls: Option<&'static str>,
}

impl Function {
    /// `module.name`.
    pub fn path(&self) -> String {
        format!("{}.{}", self.module, self.name)
    }
}

const fn req(name: &'static str) -> Param {
    Param {
        name,
        required: true,
    }
}

const fn opt(name: &'static str) -> Param {
    Param {
        name,
        required: false,
    }
}

const fn k8s(
    module: &'static str,
    name: &'static str,
    params: &'static [Param],
    calls: Option<&'static str>,
) -> Function {
    Function {
        module,
        name,
        params,
        target: Target::Kubernetes,
        calls,
    }
}

const fn ec2(module: &'static str, name: &'static str, params: &'static [Param]) -> Function {
    Function {
        module,
        name,
        params,
        target: Target::Ec2,
        calls: None,
    }
}

const TERMINATE_PODS: &[Param] = &[
    opt("label_selector"),
    opt("name_pattern"),
    opt("all"),
    opt("rand"),
    opt("mode"),
    opt("qty"),
    opt("grace_period"),
    opt("ns"),
    opt("order"),
];
const READ_POD_LOGS: &[Param] = &[
    opt("name"),
    opt("last"),
    opt("ns"),
    opt("from_previous"),
    opt("label_selector"),
    opt("container_name"),
];
const DEPLOYMENT_WAIT: &[Param] = &[
    req("name"),
    opt("ns"),
    opt("label_selector"),
    opt("timeout"),
];
const POD_NOT_AVAILABLE: &[Param] = &[
    req("name"),
    opt("ns"),
    opt("label_selector"),
    opt("raise_on_is_available"),
];
const EC2_BY_ONE: &[Param] = &[opt("instance_id"), opt("az"), opt("filters")];
const EC2_BY_MANY: &[Param] = &[opt("instance_ids"), opt("az"), opt("filters")];

/// Every function with a native equivalent, deprecated names included.
pub const FUNCTIONS: &[Function] = &[
    // chaosk8s.pod.actions
    k8s(
        "chaosk8s.pod.actions",
        "terminate_pods",
        TERMINATE_PODS,
        None,
    ),
    k8s(
        "chaosk8s.pod.actions",
        "delete_pods",
        &[opt("name"), opt("ns"), opt("label_selector")],
        Some("chaosk8s.pod.actions.terminate_pods"),
    ),
    // chaosk8s.pod.probes
    k8s(
        "chaosk8s.pod.probes",
        "pods_in_phase",
        &[
            req("label_selector"),
            opt("phase"),
            opt("ns"),
            opt("raise_on_invalid_phase"),
        ],
        None,
    ),
    k8s(
        "chaosk8s.pod.probes",
        "pods_not_in_phase",
        &[
            req("label_selector"),
            opt("phase"),
            opt("ns"),
            opt("raise_on_in_phase"),
        ],
        None,
    ),
    k8s(
        "chaosk8s.pod.probes",
        "count_pods",
        &[req("label_selector"), opt("phase"), opt("ns")],
        None,
    ),
    k8s(
        "chaosk8s.pod.probes",
        "count_min_pods",
        &[
            req("label_selector"),
            opt("phase"),
            opt("min_count"),
            opt("ns"),
        ],
        None,
    ),
    k8s("chaosk8s.pod.probes", "read_pod_logs", READ_POD_LOGS, None),
    k8s(
        "chaosk8s.pod.probes",
        "pod_is_not_available",
        POD_NOT_AVAILABLE,
        None,
    ),
    k8s(
        "chaosk8s.pod.probes",
        "all_pods_healthy",
        &[opt("ns"), opt("raise_on_any_unhealthy")],
        None,
    ),
    k8s(
        "chaosk8s.pod.probes",
        "should_be_found_in_logs",
        &[req("pattern"), opt("all_containers"), opt("value")],
        None,
    ),
    // chaosk8s.deployment.actions
    k8s(
        "chaosk8s.deployment.actions",
        "scale_deployment",
        &[req("name"), req("replicas"), opt("ns")],
        None,
    ),
    k8s(
        "chaosk8s.deployment.actions",
        "rollout_deployment",
        &[opt("name"), opt("ns")],
        None,
    ),
    // chaosk8s.deployment.probes
    k8s(
        "chaosk8s.deployment.probes",
        "deployment_available_and_healthy",
        &[
            req("name"),
            opt("ns"),
            opt("label_selector"),
            opt("raise_on_unavailable"),
        ],
        None,
    ),
    k8s(
        "chaosk8s.deployment.probes",
        "deployment_partially_available",
        &[
            req("name"),
            opt("ns"),
            opt("label_selector"),
            opt("raise_on_not_partially_available"),
        ],
        None,
    ),
    k8s(
        "chaosk8s.deployment.probes",
        "deployment_fully_available",
        &[
            req("name"),
            opt("ns"),
            opt("label_selector"),
            opt("timeout"),
            opt("raise_on_not_fully_available"),
        ],
        None,
    ),
    k8s(
        "chaosk8s.deployment.probes",
        "deployment_not_fully_available",
        &[
            req("name"),
            opt("ns"),
            opt("label_selector"),
            opt("timeout"),
            opt("raise_on_fully_available"),
        ],
        None,
    ),
    // chaosk8s.node.actions
    k8s(
        "chaosk8s.node.actions",
        "cordon_node",
        &[opt("name"), opt("label_selector")],
        None,
    ),
    k8s(
        "chaosk8s.node.actions",
        "uncordon_node",
        &[opt("name"), opt("label_selector")],
        None,
    ),
    k8s(
        "chaosk8s.node.actions",
        "drain_nodes",
        &[
            opt("name"),
            opt("label_selector"),
            opt("delete_pods_with_local_storage"),
            opt("timeout"),
            opt("count"),
            opt("pod_label_selector"),
            opt("pod_namespace"),
        ],
        None,
    ),
    k8s(
        "chaosk8s.node.actions",
        "delete_nodes",
        &[
            opt("label_selector"),
            opt("all"),
            opt("rand"),
            opt("count"),
            opt("grace_period_seconds"),
            opt("pod_label_selector"),
            opt("pod_namespace"),
        ],
        None,
    ),
    // chaosk8s.node.probes
    k8s(
        "chaosk8s.node.probes",
        "get_nodes",
        &[opt("label_selector")],
        None,
    ),
    k8s(
        "chaosk8s.node.probes",
        "all_nodes_must_be_ready_to_schedule",
        &[opt("label_selector")],
        None,
    ),
    // chaosk8s.actions (deprecated)
    k8s(
        "chaosk8s.actions",
        "kill_microservice",
        &[req("name"), opt("ns"), opt("label_selector")],
        Some("chaosk8s.pod.actions.terminate_pods"),
    ),
    k8s(
        "chaosk8s.actions",
        "scale_microservice",
        &[req("name"), req("replicas"), opt("ns")],
        Some("chaosk8s.deployment.actions.scale_deployment"),
    ),
    k8s(
        "chaosk8s.actions",
        "delete_pods",
        &[opt("name"), opt("ns"), opt("label_selector")],
        Some("chaosk8s.pod.actions.terminate_pods"),
    ),
    k8s(
        "chaosk8s.actions",
        "scale_deployment",
        &[req("name"), req("replicas"), opt("ns")],
        Some("chaosk8s.deployment.actions.scale_deployment"),
    ),
    // chaosk8s.probes (re-exports and deprecated wrappers)
    k8s(
        "chaosk8s.probes",
        "all_microservices_healthy",
        &[opt("ns")],
        Some("chaosk8s.pod.probes.all_pods_healthy"),
    ),
    k8s(
        "chaosk8s.probes",
        "all_pods_healthy",
        &[opt("ns"), opt("raise_on_any_unhealthy")],
        Some("chaosk8s.pod.probes.all_pods_healthy"),
    ),
    k8s(
        "chaosk8s.probes",
        "microservice_available_and_healthy",
        &[req("name"), opt("ns"), opt("label_selector")],
        Some("chaosk8s.deployment.probes.deployment_available_and_healthy"),
    ),
    k8s(
        "chaosk8s.probes",
        "microservice_is_not_available",
        &[req("name"), opt("ns"), opt("label_selector")],
        Some("chaosk8s.pod.probes.pod_is_not_available"),
    ),
    k8s(
        "chaosk8s.probes",
        "pod_is_not_available",
        POD_NOT_AVAILABLE,
        Some("chaosk8s.pod.probes.pod_is_not_available"),
    ),
    k8s(
        "chaosk8s.probes",
        "deployment_is_fully_available",
        DEPLOYMENT_WAIT,
        Some("chaosk8s.deployment.probes.deployment_fully_available"),
    ),
    k8s(
        "chaosk8s.probes",
        "deployment_is_not_fully_available",
        DEPLOYMENT_WAIT,
        Some("chaosk8s.deployment.probes.deployment_not_fully_available"),
    ),
    k8s(
        "chaosk8s.probes",
        "deployment_available_and_healthy",
        &[
            req("name"),
            opt("ns"),
            opt("label_selector"),
            opt("raise_on_unavailable"),
        ],
        Some("chaosk8s.deployment.probes.deployment_available_and_healthy"),
    ),
    k8s(
        "chaosk8s.probes",
        "deployment_fully_available",
        &[
            req("name"),
            opt("ns"),
            opt("label_selector"),
            opt("timeout"),
            opt("raise_on_not_fully_available"),
        ],
        Some("chaosk8s.deployment.probes.deployment_fully_available"),
    ),
    k8s(
        "chaosk8s.probes",
        "read_microservices_logs",
        READ_POD_LOGS,
        Some("chaosk8s.pod.probes.read_pod_logs"),
    ),
    k8s(
        "chaosk8s.probes",
        "read_pod_logs",
        READ_POD_LOGS,
        Some("chaosk8s.pod.probes.read_pod_logs"),
    ),
    // chaosaws.ec2.actions
    ec2(
        "chaosaws.ec2.actions",
        "stop_instance",
        &[opt("instance_id"), opt("az"), opt("force"), opt("filters")],
    ),
    ec2(
        "chaosaws.ec2.actions",
        "stop_instances",
        &[opt("instance_ids"), opt("az"), opt("filters"), opt("force")],
    ),
    ec2("chaosaws.ec2.actions", "terminate_instance", EC2_BY_ONE),
    ec2("chaosaws.ec2.actions", "terminate_instances", EC2_BY_MANY),
    ec2("chaosaws.ec2.actions", "start_instances", EC2_BY_MANY),
    ec2("chaosaws.ec2.actions", "restart_instances", EC2_BY_MANY),
    // chaosaws.ec2.probes
    ec2(
        "chaosaws.ec2.probes",
        "describe_instances",
        &[req("filters")],
    ),
    ec2("chaosaws.ec2.probes", "count_instances", &[req("filters")]),
    ec2(
        "chaosaws.ec2.probes",
        "instance_state",
        &[req("state"), opt("instance_ids"), opt("filters")],
    ),
    ec2(
        "chaosaws.ec2.probes",
        "count_min_instances",
        &[req("filters"), opt("min_count")],
    ),
];

/// The function `module`.`name`, if it has a native equivalent.
pub fn find(module: &str, name: &str) -> Option<&'static Function> {
    FUNCTIONS
        .iter()
        .find(|f| f.module == module && f.name == name)
}

/// What a Kubernetes function touches, as the operations of `touches = [...]` name it: the
/// RBAC of an in-cluster Job that runs the file is derived from them. Empty for EC2 functions.
pub fn touches(f: &Function) -> &'static [crate::target::touches::Operation] {
    use crate::target::touches::Operation::*;
    if f.target != Target::Kubernetes {
        return &[];
    }
    match f.name {
        "terminate_pods" | "delete_pods" | "kill_microservice" => &[PodsTerminate],
        "read_pod_logs" | "should_be_found_in_logs" => &[PodsLogs],
        "pods_in_phase"
        | "pods_not_in_phase"
        | "count_pods"
        | "count_min_pods"
        | "pod_is_not_available"
        | "all_pods_healthy"
        | "all_microservices_healthy" => &[PodsRead],
        "scale_deployment" | "scale_microservice" => &[DeploymentsScale],
        "rollout_deployment" => &[DeploymentsRestart],
        "cordon_node" | "uncordon_node" => &[NodesCordon],
        "drain_nodes" => &[NodesDrain],
        "delete_nodes" => &[NodesDelete],
        "get_nodes" | "all_nodes_must_be_ready_to_schedule" => &[NodesRead],
        _ => &[DeploymentsRead],
    }
}

/// Whether any function of `module` has a native equivalent.
pub fn knows_module(module: &str) -> bool {
    FUNCTIONS.iter().any(|f| f.module == module)
}

/// The names of `module`'s functions with a native equivalent.
pub fn names_in(module: &str) -> Vec<&'static str> {
    FUNCTIONS
        .iter()
        .filter(|f| f.module == module)
        .map(|f| f.name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_deprecated_name_calls_a_function_of_the_list_with_its_parameters() {
        for f in FUNCTIONS {
            if let Some(target) = f.calls {
                let (module, name) = target.rsplit_once('.').expect("module.name");
                let callee = find(module, name).unwrap_or_else(|| panic!("{target}"));
                assert_eq!(callee.calls, None, "{}", f.path());
                assert_eq!(callee.target, f.target);
            }
        }
        let mut paths: Vec<String> = FUNCTIONS.iter().map(Function::path).collect();
        paths.sort();
        let n = paths.len();
        paths.dedup();
        assert_eq!(paths.len(), n, "a function is listed twice");
        assert!(knows_module("chaosk8s.probes"));
        assert!(names_in("chaosaws.ec2.probes").contains(&"instance_state"));
    }
}
