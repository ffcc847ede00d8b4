//! `chaos-toxiproxy`: a Toxiproxy-compatible server (toxiproxy-server's API and flags) over
//! chaos-runtime's network fault proxy, with seeded toxics. See
//! `chaos_runtime::target::proxy::server` for the API.
//!
//! ```text
//! cargo install --path chaos-runtime --features proxy --bin chaos-toxiproxy
//! chaos-toxiproxy -host 127.0.0.1 -port 8474 -config proxies.json -seed 42
//! ```

use chaos_runtime::target::proxy::server::{self, Command, USAGE, VERSION};
use std::process::ExitCode;

fn main() -> ExitCode {
    let command = match server::parse_args(std::env::args().skip(1)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("chaos-toxiproxy: {e}");
            return ExitCode::from(2);
        }
    };
    let options = match command {
        Command::Help => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Command::Version => {
            println!("chaos-toxiproxy version {VERSION}");
            return ExitCode::SUCCESS;
        }
        Command::Run(options) => options,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("chaos-toxiproxy: cannot start the tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(server::run(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chaos-toxiproxy: {e}");
            ExitCode::FAILURE
        }
    }
}
