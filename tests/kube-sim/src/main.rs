//! `kube-sim`: the simulated Kubernetes API server as a standalone process, for `kubectl` and
//! kube-rs clients.
//!
//! ```text
//! cargo run -p kube-sim -- [--port N] [--kubeconfig PATH] [--namespace NS] [--no-seed]
//!
//! Besides the kubeconfig it writes `chaos.toml` next to it, whose `[targets.k8s]` names the
//! kubeconfig: `CHAOS_SETTINGS=<that file>` runs experiments against this cluster.
//! ```

use kube_sim::{Sim, SimConfig};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
kube-sim: a simulated Kubernetes API server on loopback

USAGE:
    kube-sim [OPTIONS]

OPTIONS:
    --port <N>           Port to listen on, on 127.0.0.1 (default: 0, a free port)
    --kubeconfig <PATH>  Where to write the kubeconfig (default: target/kube-sim/kubeconfig)
    --namespace <NS>     Namespace of the kubeconfig's context (default: demo)
    --no-seed            Start empty: no demo namespace, nodes nor deployment
    -h, --help           Print this help

Unless --no-seed, it seeds namespace \"demo\", nodes node-1..node-3 and deployment \"web\"
(3 replicas, app=web, tier=frontend). It runs until Ctrl-C or SIGTERM.";

#[derive(Debug)]
struct Args {
    port: u16,
    kubeconfig: PathBuf,
    namespace: String,
    seed: bool,
}

fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Args>, String> {
    let mut out = Args {
        port: 0,
        kubeconfig: PathBuf::from("target/kube-sim/kubeconfig"),
        namespace: "demo".into(),
        seed: true,
    };
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--port" => {
                let v = value("--port")?;
                out.port = v
                    .parse()
                    .map_err(|_| format!("--port: {v:?} is not a port number (0-65535)"))?;
            }
            "--kubeconfig" => out.kubeconfig = PathBuf::from(value("--kubeconfig")?),
            "--namespace" => {
                out.namespace = value("--namespace")?;
                if out.namespace.is_empty() {
                    return Err("--namespace must not be empty".into());
                }
            }
            "--no-seed" => out.seed = false,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Some(out))
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("kube-sim: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let sim = match Sim::start_on(
        SocketAddr::from(([127, 0, 0, 1], args.port)),
        SimConfig::default(),
    ) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("kube-sim: cannot listen on 127.0.0.1:{}: {e}", args.port);
            return ExitCode::FAILURE;
        }
    };
    if args.seed {
        sim.seed_demo();
    } else {
        sim.add_namespace(&args.namespace);
    }
    if let Err(e) = sim.write_kubeconfig(&args.kubeconfig, &args.namespace) {
        eprintln!("kube-sim: cannot write {}: {e}", args.kubeconfig.display());
        return ExitCode::FAILURE;
    }
    let kubeconfig = std::fs::canonicalize(&args.kubeconfig).unwrap_or(args.kubeconfig.clone());
    // Settings that point experiments at this cluster (`[targets.k8s]` names it, so the
    // examples use it instead of a simulated cluster of their own).
    let settings = kubeconfig.with_file_name("chaos.toml");
    let text = format!(
        "# Settings for experiments against kube-sim: CHAOS_SETTINGS={}\n[targets.k8s]\nkubeconfig = {:?}\n",
        settings.display(),
        kubeconfig.display().to_string()
    );
    if let Err(e) = std::fs::write(&settings, text) {
        eprintln!("kube-sim: cannot write {}: {e}", settings.display());
        return ExitCode::FAILURE;
    }
    println!("kube-sim listening on {}", sim.url());
    println!("export KUBECONFIG={}", kubeconfig.display());
    println!("kubectl get pods -n {}", args.namespace);
    println!(
        "CHAOS_SETTINGS={} cargo test -p chaos-examples --test k8s -- --test-threads 1",
        settings.display()
    );
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("kube-sim: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(wait_for_signal());
    println!("kube-sim: stopped");
    ExitCode::SUCCESS
}
