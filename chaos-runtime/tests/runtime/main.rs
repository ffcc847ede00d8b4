//! chaos-runtime's integration tests, one module per subject, in one test binary (with
//! `--all-features` every test binary links kube and aws-sdk-ec2, so they share one link).

mod credentials;
mod events;
mod extend;
mod runner;
mod settings;
mod targets;
