//! Example experiments for chaos-harness and the demo HTTP service they run against.
//!
//! The experiments live in `tests/experiments.rs` (a `harness = false` test target): run them
//! with `cargo test -p chaos-examples`.

pub mod demo;
