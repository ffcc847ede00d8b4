//! The Kubernetes API simulation (`kube_sim`) checked against the real
//! `kubectl`: every operation the Kubernetes target relies on, as kubectl performs it.
//!
//! kubectl must be on PATH (CI machine images have it); without it these tests fail, unless
//! `CHAOS_SKIP_KUBECTL=1`. Each test has its own simulated cluster, kubeconfig and `HOME`
//! (kubectl's discovery cache), and every kubectl run is killed after 60 s.

//!
//! One test binary (every test binary costs link time): [`harness`] runs kubectl against a
//! simulated cluster; the other modules hold the checks.

mod events_and_errors;
mod harness;
mod kube_rs;
mod workloads;
