//! The workspace's end-to-end tests, one module per subject, in one test binary: each test
//! binary here links the world (kube, reqwest, the harness), so they share one link. nextest
//! runs every test in its own process, so the modules cannot disturb each other.

mod chaostoolkit;
#[cfg(feature = "aws")]
mod crash_sweep;
mod ec2;
#[cfg(feature = "aws")]
mod ec2_examples;
mod history;
mod junit;
mod k8s;
mod k8s_job;
mod k8s_journal;
mod moto_smoke;
mod nextest;
mod notify;
mod notify_tls;
mod outcomes;
mod report;
mod schedule;
mod settings_secrets;
mod toxiproxy_client;
