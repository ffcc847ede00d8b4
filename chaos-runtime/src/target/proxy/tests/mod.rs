//! The proxy against real loopback sockets: each toxic's effect measured, toxics on open and
//! new connections, seed replay, removal under traffic, self-revert, HTTP faults, errors.

mod changes;
mod errors;
mod http;
mod revert;
mod seed;
pub(super) mod support;
mod toxics;
