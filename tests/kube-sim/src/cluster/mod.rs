//! The cluster model: writes with the API server's semantics, and the controllers (deployment,
//! replica set, scheduler, kubelet, node lifecycle, garbage collector) driven by a time-ordered
//! queue of due actions plus "dirty" sets settled synchronously after each write.
//!
//! One concern per module; they import each other downwards only, and none imports this one:
//!
//! - [`json`]: JSON paths, metadata accessors, conditions (a leaf).
//! - [`state`]: the [`Cluster`] type, the store with its controller hooks, the action queue.
//! - [`admission`]: type and name checks, defaults of pods, workloads and nodes.
//! - [`verbs`]: list, create, replace, patch, delete.
//! - [`subresources`]: eviction and scale.
//! - [`logs`]: container logs written by tests, read by `pods/{name}/log`.
//! - [`kubelet`]: scheduler, kubelet, pod termination, node lifecycle.
//! - [`controllers`]: replica sets, deployments, garbage collector.
//! - [`fixtures`]: seeding and inspection for the Rust API.

mod admission;
mod controllers;
mod fixtures;
mod json;
mod kubelet;
pub(crate) mod logs;
mod state;
mod subresources;
mod verbs;

pub(crate) use json::{node_ready, set};
pub(crate) use logs::LogOpts;
#[cfg(test)]
pub(crate) use state::HISTORY;
pub(crate) use state::{served, storage, Cluster};
pub(crate) use verbs::{DeleteOpts, Deleted, ListOpts, PatchKind};

#[cfg(test)]
mod tests;
