//! The `chaos-toxiproxy` binary's flags (`toxiproxy-server`'s) and its run: the config file
//! populated, the API served until Ctrl-C.

use super::error::ServerError;
use super::json::ProxyConfig;
use super::registry::Registry;
use super::Server;
use std::path::{Path, PathBuf};

/// The binary's help.
pub const USAGE: &str = "\
chaos-toxiproxy: a Toxiproxy-compatible server (toxiproxy-server's API and flags) over
chaos-runtime's network fault proxy, with seeded toxics.

Usage: chaos-toxiproxy [flags]

Flags (-flag or --flag; a value as -flag value or -flag=value):
  -host HOST        host for the API to listen on (default 127.0.0.1)
  -port PORT        port for the API to listen on (default 8474)
  -config FILE      JSON file of proxies to create on startup, as POST /populate takes:
                    [{\"name\": \"db\", \"listen\": \"127.0.0.1:26379\", \"upstream\": \"127.0.0.1:6379\"}]
  -seed N           seed of every toxic's random draws (default: CHAOS_SEED, else a fresh one);
                    the same seed replays the same draws for the same order of connections
  -version          print the version and exit
  -proxy-metrics, -runtime-metrics
                    accepted for toxiproxy-server's sake; there are no Prometheus metrics
  -help, -h         this help

Stop it with Ctrl-C (or SIGTERM).";

/// The settings of a run of the binary.
///
/// ```
/// use chaos_runtime::target::proxy::server::{parse_args, Command};
/// let Command::Run(o) = parse_args(["--port=0", "-seed", "7"]).unwrap() else { panic!() };
/// assert_eq!((o.addr(), o.seed), ("127.0.0.1:0".to_string(), Some(7)));
/// let err = parse_args(["-prot", "1"]).unwrap_err();
/// assert!(err.to_string().contains("unknown flag `-prot`"), "{err}");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// The API's host (default `127.0.0.1`).
    pub host: String,
    /// The API's port (default 8474).
    pub port: u16,
    /// The populate file to load on startup.
    pub config: Option<PathBuf>,
    /// The seed of the toxics' draws (default: `CHAOS_SEED`, else fresh).
    pub seed: Option<u64>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            host: "127.0.0.1".into(),
            port: 8474,
            config: None,
            seed: None,
        }
    }
}

impl Options {
    /// The API's listen address, `host:port` (an IPv6 host in brackets).
    pub fn addr(&self) -> String {
        if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// What the command line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Serve the API.
    Run(Options),
    /// Print [`USAGE`].
    Help,
    /// Print the version.
    Version,
}

/// Parses the binary's arguments (without the program name), as Go's `flag` package does
/// for `toxiproxy-server`: `-flag value`, `-flag=value`, `--flag` alike; boolean flags take no
/// value (or `=true`/`=false`).
///
/// # Errors
/// [`ServerError::Flag`]: an unknown flag (the message lists the flags), a missing or bad
/// value (naming the flag), or a positional argument.
pub fn parse_args<I, S>(args: I) -> Result<Command, ServerError>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let mut options = Options::default();
    let mut args = args.into_iter().map(Into::into);
    let flag_err = |m: String| ServerError::Flag(m);
    while let Some(arg) = args.next() {
        let Some(stripped) = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')) else {
            return Err(flag_err(format!(
                "unexpected argument `{arg}`: chaos-toxiproxy takes flags only"
            )));
        };
        let (name, inline) = match stripped.split_once('=') {
            Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
            None => (stripped.to_owned(), None),
        };
        let mut value = |flag: &str| -> Result<String, ServerError> {
            match inline.clone().or_else(|| args.next()) {
                Some(v) => Ok(v),
                None => Err(flag_err(format!("flag `-{flag}` needs a value"))),
            }
        };
        match name.as_str() {
            "host" => options.host = value("host")?,
            "port" => {
                let v = value("port")?;
                options.port = v.parse().map_err(|_| {
                    flag_err(format!("flag `-port`: `{v}` is not a port (0 to 65535)"))
                })?;
            }
            "config" => {
                let v = value("config")?;
                options.config = (!v.is_empty()).then(|| PathBuf::from(v));
            }
            "seed" => {
                let v = value("seed")?;
                // toxiproxy-server's seed is an int64: a negative one is taken as its bits.
                let seed = v
                    .parse::<u64>()
                    .ok()
                    .or_else(|| v.parse::<i64>().ok().map(|n| n as u64))
                    .ok_or_else(|| {
                        flag_err(format!("flag `-seed`: `{v}` is not a whole number"))
                    })?;
                options.seed = Some(seed);
            }
            "help" | "h" => return Ok(Command::Help),
            "version" | "proxy-metrics" | "runtime-metrics" => {
                let on = match inline.as_deref() {
                    None | Some("true" | "1" | "t" | "T" | "TRUE" | "True") => true,
                    Some("false" | "0" | "f" | "F" | "FALSE" | "False") => false,
                    Some(v) => {
                        return Err(flag_err(format!(
                            "flag `-{name}` is true or false, not `{v}`"
                        )))
                    }
                };
                if name == "version" && on {
                    return Ok(Command::Version);
                }
            }
            "" => {
                return Err(flag_err(format!("bad flag `{arg}`")));
            }
            _ => {
                return Err(flag_err(format!(
                    "unknown flag `{arg}`; the flags are -host, -port, -config, -seed, \
                     -version, -proxy-metrics, -runtime-metrics, -help"
                )))
            }
        }
    }
    Ok(Command::Run(options))
}

/// Reads a populate file: a JSON array of proxies.
///
/// # Errors
/// [`ServerError::Config`] naming the file: it cannot be read, is not JSON (line and column),
/// or a proxy in it is wrong (named by its place).
pub fn load_config(path: &Path) -> Result<Vec<ProxyConfig>, ServerError> {
    let err = |problem: String| ServerError::Config {
        path: path.to_owned(),
        problem,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(format!("cannot read it: {e}")))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| err(format!("not JSON: {e}")))?;
    ProxyConfig::list_from_json(&value).map_err(|e| err(e.message().to_owned()))
}

/// Runs the binary: loads `-config` into a registry seeded by `-seed`, serves the API on
/// `-host:-port` until Ctrl-C or SIGTERM.
///
/// # Errors
/// The config file is wrong or one of its proxies cannot be created, or the API's address
/// cannot be bound.
pub async fn run(options: Options) -> Result<(), ServerError> {
    let registry = match options.seed {
        Some(seed) => Registry::with_seed(seed),
        None => Registry::new(),
    };
    if let Some(path) = &options.config {
        let configs = load_config(path)?;
        let (proxies, error) = registry.populate(configs).await;
        if let Some(e) = error {
            return Err(ServerError::Config {
                path: path.clone(),
                problem: e.message().to_owned(),
            });
        }
        for p in &proxies {
            eprintln!(
                "chaos-toxiproxy: proxy `{}` listening on {} to {}",
                p.name(),
                p.addr(),
                p.upstream()
            );
        }
    }
    let server = Server::bind(&options.addr(), registry).await?;
    eprintln!(
        "chaos-toxiproxy {}: API listening on {} (seed {})",
        super::VERSION,
        server.url(),
        server.registry().seed()
    );
    server.run_until(shutdown_signal()).await;
    eprintln!("chaos-toxiproxy: stopped");
    Ok(())
}

/// Ctrl-C, or SIGTERM on Unix.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    Ok(()) = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot watch SIGTERM; Ctrl-C stops the server");
                if tokio::signal::ctrl_c().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    ctrl_c().await;
}

/// Ctrl-C; never, if it cannot be watched (the process is then stopped by other means).
#[cfg(not(unix))]
async fn ctrl_c() {
    if let Err(e) = tokio::signal::ctrl_c().await {
        tracing::warn!(error = %e, "cannot watch Ctrl-C");
        std::future::pending::<()>().await;
    }
}
