//! Shared fixtures for the workspace's tests: [`receiver`], one HTTP/1.1 receiver on loopback
//! (hyper) that records every request and answers as told, plain or over TLS; [`moto`], a
//! dedicated moto server (a local fake of the AWS APIs) per test; and with the `tls` feature
//! [`tls_forward`], a TLS front for a plain server (the simulated cluster as a pod sees its
//! API server).
//!
//! The crate depends on no chaos crate, so every crate of the workspace (`chaos-runtime`
//! included) can use it in its tests.

pub mod moto;
pub mod receiver;
#[cfg(feature = "tls")]
pub mod tls_forward;
