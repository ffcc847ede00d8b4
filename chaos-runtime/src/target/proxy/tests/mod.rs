//! The proxy against real loopback sockets: each toxic's effect measured, toxics on open and
//! new connections, seed replay, removal under traffic, HTTP faults, errors.

mod support;
mod toxics;
