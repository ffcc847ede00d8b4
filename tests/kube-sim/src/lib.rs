//! A Kubernetes API server simulation, served over real HTTP on loopback, that kube-rs and
//! `kubectl` accept as a cluster.
//!
//! It models what chaos experiments need: discovery, namespaces, nodes, pods, deployments and
//! replica sets (with controllers that schedule pods round-robin, make them Ready after a
//! delay, replace pods that go away after a delay, roll out template changes and cascade
//! deletions), core/v1 and events.k8s.io/v1 events (one storage, two shapes), label and field
//! selectors, paging, watch, server-side tables for `kubectl get`, the scale and status
//! subresources, eviction (honouring PodDisruptionBudgets), and injectable API faults. It also
//! stores, as given, what a harness's in-cluster manifests hold: ServiceAccounts, ConfigMaps,
//! Jobs and CronJobs (batch/v1), Roles, RoleBindings, ClusterRoles and ClusterRoleBindings
//! (rbac.authorization.k8s.io/v1): no Job runs and no RBAC rule is enforced, the request log
//! tells what a client did.
//!
//! Objects are plain JSON (`serde_json::Value`): the simulation depends on no Kubernetes
//! client crate. The server runs on its own thread and tokio runtime, so it outlives the
//! short-lived runtimes of callers; it stops when the last [`Sim`] handle is dropped.
//!
//! Not modelled: authentication (any token is accepted), server-side apply, protobuf, OpenAPI
//! documents (`/openapi/*` answer 404), admission, quotas, and the many resources beyond those
//! above.

mod cluster;
mod config;
mod errors;
mod events;
mod http;
mod patch;
mod resources;
mod selector;
mod shared;
mod store;
mod table;
mod util;

use cluster::Cluster;
pub use config::SimConfig;
use shared::{lock, Shared};
pub use shared::{Fault, FaultKind, RequestRecord};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug)]
struct Inner {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: Mutex<Option<tokio::sync::watch::Sender<bool>>>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        drop(lock(&self.stop).take());
        if let Some(t) = lock(&self.thread).take() {
            if t.thread().id() != std::thread::current().id() {
                let _ = t.join();
            }
        }
    }
}

/// A running simulated cluster. Clones share it; the server stops when the last is dropped.
///
/// ```
/// use kube_sim::{Fault, Sim, SimConfig};
///
/// let sim = Sim::start(SimConfig::default()).expect("loopback port");
/// sim.seed_demo();
/// assert!(sim.url().starts_with("http://127.0.0.1:"));
/// assert_eq!(sim.list("pods", "demo").len(), 3);
/// assert_eq!(sim.list("nodes", "").len(), 3);
///
/// // Point kubectl or kube-rs at it:
/// let kubeconfig = sim.kubeconfig("demo");
/// assert!(kubeconfig.contains(&sim.url()));
///
/// // Make the next pod list fail with 429 TooManyRequests.
/// sim.inject(Fault::status(Some("GET"), "/pods", 429, Some(1)));
/// ```
#[derive(Debug, Clone)]
pub struct Sim {
    inner: Arc<Inner>,
}

async fn controller(shared: Arc<Shared>) {
    loop {
        let next = {
            let mut c = shared.cluster();
            c.run_due(Instant::now());
            c.next_due()
        };
        let kicked = shared.kick.notified();
        match next {
            Some(at) => {
                tokio::select! {
                    _ = tokio::time::sleep_until(tokio::time::Instant::from_std(at)) => {}
                    _ = kicked => {}
                }
            }
            None => kicked.await,
        }
    }
}

async fn serve(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.changed() => return,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Out of descriptors or similar: back off instead of spinning.
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| http::handle(shared.clone(), req));
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                .await;
        });
    }
}

fn yaml_str(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

impl Sim {
    /// Starts a simulated cluster on a free loopback port (`127.0.0.1:0`). It starts with the
    /// namespace `default`, like a real cluster, and nothing else.
    pub fn start(config: SimConfig) -> std::io::Result<Sim> {
        Sim::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), config)
    }

    /// Starts a simulated cluster on `addr`.
    pub fn start_on(addr: SocketAddr, config: SimConfig) -> std::io::Result<Sim> {
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let local = listener.local_addr()?;
        let shared = Arc::new(Shared {
            cluster: Mutex::new(Cluster::new(config)),
            kick: tokio::sync::Notify::new(),
            requests: Mutex::new(Vec::new()),
            faults: Mutex::new(Vec::new()),
            server: local.to_string(),
        });
        shared.cluster().ensure_namespace("default");
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<std::io::Result<()>>();
        let served = shared.clone();
        let thread = std::thread::Builder::new()
            .name("kube-sim".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("kube-sim-worker")
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                rt.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(()));
                    tokio::spawn(controller(served.clone()));
                    serve(listener, served, stop_rx).await;
                });
            })?;
        ready_rx
            .recv()
            .map_err(|_| std::io::Error::other("the kube-sim thread ended early"))??;
        Ok(Sim {
            inner: Arc::new(Inner {
                shared,
                addr: local,
                stop: Mutex::new(Some(stop_tx)),
                thread: Mutex::new(Some(thread)),
            }),
        })
    }

    fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    fn with<T>(&self, f: impl FnOnce(&mut Cluster) -> T) -> T {
        let out = f(&mut self.shared().cluster());
        self.shared().kick.notify_one();
        out
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.inner.addr)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.inner.addr.port()
    }

    /// A kubeconfig (YAML) with one cluster (server = [`Sim::url`]), one user (token
    /// "kube-sim") and one context "kube-sim" (current) whose namespace is `namespace`.
    pub fn kubeconfig(&self, namespace: &str) -> String {
        format!(
            "apiVersion: v1\n\
             kind: Config\n\
             clusters:\n\
             - name: kube-sim\n  cluster:\n    server: {}\n\
             users:\n\
             - name: kube-sim\n  user:\n    token: kube-sim\n\
             contexts:\n\
             - name: kube-sim\n  context:\n    cluster: kube-sim\n    user: kube-sim\n    namespace: {}\n\
             current-context: kube-sim\n\
             preferences: {{}}\n",
            yaml_str(&self.url()),
            yaml_str(namespace)
        )
    }

    /// Writes [`Sim::kubeconfig`] to `path`, creating its parent directories.
    pub fn write_kubeconfig(&self, path: &Path, namespace: &str) -> std::io::Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, self.kubeconfig(namespace))
    }

    /// Adds a namespace (no-op when it exists).
    pub fn add_namespace(&self, name: &str) {
        self.with(|c| c.ensure_namespace(name));
    }

    /// Adds a Ready node with these labels besides the usual `kubernetes.io/hostname`, `os`
    /// and `arch` (an existing node gets the labels added). Pending pods get scheduled.
    pub fn add_node(&self, name: &str, labels: &[(&str, &str)]) {
        self.with(|c| c.add_node(name, labels));
    }

    /// Marks a node Ready or NotReady; the readiness of its Running pods follows. Returns
    /// false when there is no such node.
    pub fn set_node_ready(&self, name: &str, ready: bool) -> bool {
        self.with(|c| c.set_node_ready(name, ready))
    }

    /// A Deployment (selector matchLabels = labels, pod template labels = labels) with its
    /// ReplicaSet and `replicas` Running+Ready pods; the namespace is created if missing.
    /// Pods are scheduled round-robin on schedulable Ready nodes (without any, they are
    /// Running without a node).
    pub fn add_deployment(
        &self,
        namespace: &str,
        name: &str,
        replicas: u32,
        labels: &[(&str, &str)],
    ) {
        self.with(|c| c.add_deployment(namespace, name, replicas, labels));
    }

    /// `count` bare pods (no owner, never replaced) named `{prefix}-{i:05}`, Running and
    /// Ready, with `labels`; the namespace is created if missing.
    pub fn add_pods(&self, namespace: &str, prefix: &str, count: usize, labels: &[(&str, &str)]) {
        self.with(|c| c.add_pods(namespace, prefix, count, labels));
    }

    /// Sets a label on an existing object (resource plural e.g. "pods", "nodes"; namespace ""
    /// for cluster-scoped). Returns false if missing.
    pub fn set_label(
        &self,
        resource: &str,
        namespace: &str,
        name: &str,
        key: &str,
        value: &str,
    ) -> bool {
        self.with(|c| c.set_meta(resource, namespace, name, "labels", key, value))
    }

    /// Sets an annotation on an existing object, like [`Sim::set_label`].
    pub fn set_annotation(
        &self,
        resource: &str,
        namespace: &str,
        name: &str,
        key: &str,
        value: &str,
    ) -> bool {
        self.with(|c| c.set_meta(resource, namespace, name, "annotations", key, value))
    }

    /// Appends `line` to the log of a pod's `container` (its only container when `None`), as
    /// `GET pods/{name}/log` and `kubectl logs` then serve it. Returns false if the pod or the
    /// container is missing. A pod's logs go with the pod.
    ///
    /// ```
    /// let sim = kube_sim::Sim::start(kube_sim::SimConfig::default()).expect("loopback port");
    /// sim.add_pods("demo", "api", 1, &[("app", "api")]);
    /// assert!(sim.write_pod_log("demo", "api-00000", None, "listening on :8080"));
    /// assert!(!sim.write_pod_log("demo", "nope", None, "x"));
    /// ```
    pub fn write_pod_log(
        &self,
        namespace: &str,
        pod: &str,
        container: Option<&str>,
        line: &str,
    ) -> bool {
        self.with(|c| c.write_log(namespace, pod, container, line))
    }

    /// Makes a pod's creationTimestamp `age` older than now (for oldest-first selection tests).
    pub fn set_pod_age(&self, namespace: &str, name: &str, age: Duration) -> bool {
        self.with(|c| c.set_pod_age(namespace, name, age))
    }

    /// Namespace "demo", nodes "node-1".."node-3" (zones `zone-a`..`zone-c` in
    /// `topology.kubernetes.io/zone`), deployment "web" (3 replicas, labels app=web,
    /// tier=frontend): what the standalone binary seeds.
    pub fn seed_demo(&self) {
        self.add_namespace("demo");
        for (node, zone) in [
            ("node-1", "zone-a"),
            ("node-2", "zone-b"),
            ("node-3", "zone-c"),
        ] {
            self.add_node(node, &[("topology.kubernetes.io/zone", zone)]);
        }
        self.add_deployment("demo", "web", 3, &[("app", "web"), ("tier", "frontend")]);
    }

    /// An object as the API serves it (core/v1 or apps/v1 shape; events in the core/v1
    /// shape). `resource` is a plural ("pods"), singular or short name; namespace "" for
    /// cluster-scoped ones.
    pub fn get(&self, resource: &str, namespace: &str, name: &str) -> Option<serde_json::Value> {
        self.shared().cluster().object(resource, namespace, name)
    }

    /// All objects of a resource in a namespace ("" = all namespaces / cluster-scoped),
    /// sorted by namespace and name.
    pub fn list(&self, resource: &str, namespace: &str) -> Vec<serde_json::Value> {
        self.shared().cluster().objects(resource, namespace)
    }

    /// Events in a namespace ("" = all), in the events.k8s.io/v1 shape.
    pub fn events(&self, namespace: &str) -> Vec<serde_json::Value> {
        self.list("events", namespace)
            .iter()
            .map(events::core_to_v1)
            .collect()
    }

    /// Every request served so far: method, path and query, response status, timestamps.
    pub fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.shared().requests).clone()
    }

    /// Forgets the requests served so far.
    pub fn clear_requests(&self) {
        lock(&self.shared().requests).clear();
    }

    /// Adds a fault; faults apply in the order they were added (latencies add up, the first
    /// matching status answers).
    pub fn inject(&self, fault: Fault) {
        lock(&self.shared().faults).push(fault);
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        lock(&self.shared().faults).clear();
    }
}

#[cfg(test)]
mod tests;
