//! HTTP-level tests of the simulation, with a minimal HTTP/1.1 client ([`client`]).

mod api;
mod client;
mod failures;
mod server;
mod watch;
