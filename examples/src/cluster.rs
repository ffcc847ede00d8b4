//! The examples' default Kubernetes cluster: when no kubeconfig is given, each Kubernetes
//! example experiment runs against a simulated cluster of its own (the `kube-sim` crate),
//! seeded with the demo namespace (namespace `demo`, nodes `node-1` to `node-3`, deployment
//! `web` with 3 pods labelled `app=web`).
//!
//! ```no_run
//! // In a harness's setup (see `examples/tests/k8s.rs`):
//! fn setup(s: &mut chaos_harness::Setup) {
//!     s.extension(chaos_harness::k8s::FallbackCluster(chaos_examples::cluster::simulated));
//! }
//! ```

use kube_sim::{Sim, SimConfig};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// The kubeconfig (YAML) of the simulated cluster of `experiment`, started and seeded with the
/// demo on first call; the cluster runs until the process ends.
///
/// # Errors
/// When the simulated cluster cannot bind a loopback port.
pub fn simulated(experiment: &str) -> Result<String, String> {
    static ALL: OnceLock<Mutex<HashMap<String, Sim>>> = OnceLock::new();
    let mut all = ALL
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if let Some(sim) = all.get(experiment) {
        return Ok(sim.kubeconfig("demo"));
    }
    let sim = Sim::start(SimConfig::default())
        .map_err(|e| format!("could not start the simulated cluster for {experiment}: {e}"))?;
    sim.seed_demo();
    tracing::info!(experiment, url = %sim.url(), "no kubeconfig given: using a simulated cluster");
    let text = sim.kubeconfig("demo");
    all.insert(experiment.to_owned(), sim);
    Ok(text)
}
