//! The harness as a Kubernetes Job: `<harness> --k8s-manifests` renders what runs it in a
//! cluster (ServiceAccount, least-privilege RBAC from the experiments' `touches`, a ConfigMap
//! with `chaos.toml`, the Job or CronJobs); in the pod, the harness uses the in-cluster
//! configuration and leaves its verdict as the exit code, an Event on the Job and a result
//! ConfigMap per run (the Kubernetes target's in-cluster observer).

pub(crate) mod cmd;
pub(crate) mod manifests;
pub(crate) mod yaml;
