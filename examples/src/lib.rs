//! Example experiments for chaos-harness and the demo HTTP service they run against.
//!
//! The experiments live in `tests/experiments.rs`, `tests/k8s.rs` and `tests/ec2.rs`
//! (`harness = false` test targets): run them with `cargo test -p chaos-examples`. The
//! Kubernetes ones run against a simulated cluster ([`kube_sim`]) unless a kubeconfig is given.

pub mod cluster;
pub mod demo;
pub mod kube_sim;
