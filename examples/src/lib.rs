//! Example experiments for chaos-harness and the demo HTTP service they run against.
//!
//! The experiments live in `tests/experiments.rs`, `tests/k8s.rs` and `tests/ec2.rs`
//! (`harness = false` test targets): run them with `cargo test -p chaos-examples`. The
//! Kubernetes ones run against a simulated cluster (the `kube-sim` crate in `tests/kube-sim/`)
//! unless a kubeconfig is given. The network examples run the demo service against a backend
//! through two network fault proxies ([`demo::linked`]).

pub mod backend;
#[cfg(feature = "k8s")]
pub mod cluster;
pub mod demo;
mod linked;
mod serve;
