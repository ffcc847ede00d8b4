//! The Kubernetes target (cargo feature `k8s`), on kube-rs: select pods by namespace, label
//! and field selectors and a name pattern (over every page), choose some (all, a count or a
//! percentage, at random from the run's seed or oldest first), and terminate or evict them;
//! scale and restart deployments; cordon, uncordon, drain and delete nodes; probe readiness,
//! phases and availability, and wait for recovery. Every action, the experiment's start, its
//! rollbacks and its verdict are written as Kubernetes Events (events.k8s.io/v1) in the
//! target namespace, so `kubectl get events` tells the story.
//!
//! ```no_run
//! # async fn method(cx: &chaos_runtime::Context) -> Result<(), chaos_runtime::BoxError> {
//! use chaos_runtime::target::{k8s, Select};
//! let web = k8s::pods(cx, "shop").labeled("app=web");
//! let before = web.ready_count().await?;
//! let report = web.terminate(Select::random(1)).await?;
//! k8s::deployment(cx, "shop", "web").wait_fully_available(std::time::Duration::from_secs(60)).await?;
//! # let _ = (before, report); Ok(()) }
//! ```
//!
//! # Which cluster
//!
//! In order, the first that applies:
//! 1. `in_cluster = true` in `[targets.k8s]`: the pod's service account;
//! 2. `kubeconfig = "PATH"` in `[targets.k8s]` (with `context` if given);
//! 3. `context` in `[targets.k8s]`: that context of `$KUBECONFIG` or `~/.kube/config`;
//! 4. the fallback a harness registered with the [`FallbackCluster`] extension (the examples start
//!    a simulated cluster there, so they never touch the cluster of your shell's `$KUBECONFIG`
//!    or `~/.kube/config` by accident: a real cluster must be named in the settings);
//! 5. `$KUBECONFIG`, then kube's inference: `~/.kube/config`, then the in-cluster service
//!    account.
//!
//! `namespace` in `[targets.k8s]` overrides the kubeconfig's default namespace, and
//! `credentials = "NAME"` authenticates with a registered credential provider (a bearer token,
//! or a user and password).
//!
//! # Blast radius
//!
//! `[targets.k8s]` may set `allowed_namespaces = [...]` (anything else is refused),
//! `max_count` and `max_percent` (per action, of what matched), `opt_in_label = "KEY=VALUE"`
//! (or `"KEY"`: every pod, deployment or node an action touches must carry it) and
//! `dry_run = true` (resolve and record the selection, touch nothing, write no Event);
//! `CHAOS_DRY_RUN=1` turns dry-run on too. A refusal touches nothing and says which guard
//! refused. `retries` (default 6) bounds how often a call answered 429 or 5xx is retried, with
//! exponential backoff (honouring the server's retry-after), inside the activity's timeout;
//! `events = false` stops the Events.

mod events;
mod in_cluster;
mod job;
mod logs;
mod markers;
mod nodes;
mod pod_info;
mod pods;
mod workloads;

pub use events::{ClusterEvents, REPORTING_CONTROLLER};
pub use in_cluster::SERVICE_ACCOUNT_DIR;
pub use job::{JobIdentity, JobResults, RESULT_LABEL};
pub use logs::LogRead;
pub(crate) use markers::markers;
pub use nodes::{node, nodes, uncordon_cordoned, NodeInfo, Nodes};
pub use pod_info::PodInfo;
pub use pods::{pods, Pods};
pub use workloads::{deployment, restore_scales, Deployment, DeploymentState, ScaleReport};

use crate::context::Context;
use crate::target::TargetContext;
use crate::target::{touches_nothing, Guard, Refusal, TargetSettings, TargetSettingsError};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ListParams};
use serde::Serialize;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// A Kubernetes call, a guard or the configuration failed.
#[derive(Debug, thiserror::Error)]
pub enum K8sError {
    /// The API answered an error (after retries, for 429 and 5xx).
    #[error("Kubernetes {operation} failed: {reason} ({code}): {message}")]
    Api {
        /// What was being done (`delete pod shop/web-1`, `list pods in shop`...).
        operation: String,
        /// The API's reason (`NotFound`, `Forbidden`, `TooManyRequests`...).
        reason: String,
        /// The HTTP status code.
        code: u16,
        /// The API's message.
        message: String,
    },
    /// The API could not be reached (after retries).
    #[error("Kubernetes {operation} failed: {message}")]
    Transport {
        /// What was being done.
        operation: String,
        /// The error chain.
        message: String,
    },
    /// A guard refused the action; nothing was touched.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// `[targets.k8s]` is wrong.
    #[error(transparent)]
    Settings(#[from] TargetSettingsError),
    /// No usable cluster configuration (kubeconfig, context, in-cluster).
    #[error("Kubernetes client configuration: {0}")]
    Config(String),
    /// Some of an action's deletes or evictions failed; the others were done.
    #[error("{action} failed for {failed} of {total} pod(s) (the others were done); the first failure: {first}")]
    Partial {
        /// `terminate` or `evict`.
        action: &'static str,
        /// How many failed.
        failed: usize,
        /// How many were tried.
        total: usize,
        /// The first failure.
        first: Box<K8sError>,
    },
    /// The undo of a change could not be recorded in the run's ledger: the change was not
    /// made.
    #[error("{operation}: not done, its undo could not be recorded: {source}")]
    Ledger {
        /// What was to be done.
        operation: String,
        /// Why the record could not be written.
        source: crate::target::IntendError,
    },
    /// A wait ran out of time.
    #[error("{what} did not hold within {}: {last}", crate::time::human(*timeout))]
    WaitTimeout {
        /// What was waited for.
        what: String,
        /// The timeout.
        timeout: Duration,
        /// What was seen last.
        last: String,
    },
}

/// Options and guards from the settings file's `[targets.k8s]`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct K8sSettings {
    /// A kubeconfig file.
    pub kubeconfig: Option<String>,
    /// The kubeconfig context.
    pub context: Option<String>,
    /// The default namespace (else the kubeconfig's).
    pub namespace: Option<String>,
    /// Use the pod's service account.
    pub in_cluster: bool,
    /// A registered credential provider to authenticate with.
    pub credentials: Option<String>,
    /// Namespaces actions may touch (empty: any).
    pub allowed_namespaces: Vec<String>,
    /// The most objects one action may touch.
    pub max_count: Option<usize>,
    /// The largest percentage of the matching objects one action may touch.
    pub max_percent: Option<f64>,
    /// A label (`KEY=VALUE` or `KEY`) every object an action touches must carry.
    pub opt_in_label: Option<(String, Option<String>)>,
    /// Resolve and record selections, touch nothing.
    pub dry_run: bool,
    /// How often a call answered 429 or 5xx is retried.
    pub retries: u32,
    /// Write Kubernetes Events.
    pub events: bool,
    /// How long the recovery marker of a change is taken for its run's (see
    /// [`marker`](crate::target::marker)); past it, a recovery from markers undoes the change.
    pub marker_lease: Duration,
}

impl K8sSettings {
    /// The keys `[targets.k8s]` may hold.
    pub const KEYS: &'static [&'static str] = &[
        "kubeconfig",
        "context",
        "namespace",
        "in_cluster",
        "credentials",
        "allowed_namespaces",
        "max_count",
        "max_percent",
        "opt_in_label",
        "dry_run",
        "retries",
        "events",
        "marker_lease",
    ];

    /// Reads `[targets.k8s]` from the context's settings, and `CHAOS_DRY_RUN`.
    pub fn from_context(cx: &Context) -> Result<K8sSettings, K8sError> {
        let t = TargetSettings::read(cx, "k8s", Self::KEYS)?;
        let opt_in_label = match t.string("opt_in_label")? {
            None => None,
            Some(l) => {
                let (key, value) = match l.split_once('=') {
                    Some((k, v)) => (k.trim().to_owned(), Some(v.trim().to_owned())),
                    None => (l.trim().to_owned(), None),
                };
                if key.is_empty() {
                    return Err(t.invalid("opt_in_label", "`KEY=VALUE` or `KEY`").into());
                }
                Some((key, value))
            }
        };
        Ok(K8sSettings {
            kubeconfig: t.string("kubeconfig")?,
            context: t.string("context")?,
            namespace: t.string("namespace")?,
            in_cluster: t.bool("in_cluster")?.unwrap_or(false),
            credentials: t.string("credentials")?,
            allowed_namespaces: t
                .strings("allowed_namespaces", "a list of namespace names")?
                .unwrap_or_default(),
            max_count: t.count("max_count")?,
            max_percent: t.percent("max_percent")?,
            opt_in_label,
            dry_run: t.dry_run()?,
            retries: t
                .integer_in("retries", 0..=100, "an integer from 0 to 100")?
                .map_or(6, |n| n as u32),
            events: t.bool("events")?.unwrap_or(true),
            marker_lease: t
                .duration("marker_lease")?
                .unwrap_or(crate::target::marker::DEFAULT_LEASE),
        })
    }
}

/// Gives the kubeconfig (YAML text) for an experiment, or why there is none.
pub type FallbackKubeconfig = fn(&str) -> Result<String, String>;

/// The extension that names the cluster used when `[targets.k8s]` names no kubeconfig,
/// context or in-cluster (before `$KUBECONFIG` and `~/.kube/config`, which a harness with a
/// fallback therefore never uses by accident). Its function is called with the experiment's
/// name on each run's first use of the cluster, so a harness can give every experiment a
/// cluster of its own (the examples start a simulated cluster per experiment; the function
/// caches what it starts). Register it in the harness's setup:
///
/// ```
/// fn sim(experiment: &str) -> Result<String, String> {
///     Err(format!("no simulated cluster for {experiment} in this doc test"))
/// }
/// let runner = chaos_runtime::run::Runner::new()
///     .extension(chaos_runtime::target::k8s::FallbackCluster(sim));
/// # let _ = runner;
/// ```
#[derive(Clone, Copy, Debug)]
pub struct FallbackCluster(pub FallbackKubeconfig);

/// The fallback a run was given, in its stash.
#[derive(Default)]
struct Fallback(Option<FallbackKubeconfig>);

impl crate::extend::Extension for FallbackCluster {
    fn name(&self) -> &str {
        "k8s-fallback-cluster"
    }
    fn start_run(&self, cx: &Context) {
        let f = self.0;
        cx.with_stash(|slot: &mut Fallback| slot.0 = Some(f));
    }
}

/// The run's Kubernetes target: a client, its default namespace and the guards.
#[derive(Clone)]
pub struct Cluster {
    client: kube::Client,
    namespace: String,
    settings: K8sSettings,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("namespace", &self.namespace)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// The run's cluster, connected on first use from `[targets.k8s]` (see the module docs for
/// which cluster), then shared by the run's activities. The first use writes the
/// experiment's start Event.
pub async fn cluster(cx: &Context) -> Result<Cluster, K8sError> {
    // One connection per run, even when a sampled hypothesis and the method start at once.
    let cell = cx.with_stash(|c: &mut Arc<tokio::sync::OnceCell<Cluster>>| c.clone());
    let c = cell
        .get_or_try_init(|| async {
            let settings = K8sSettings::from_context(cx)?;
            let c = Cluster::connect(cx, settings).await?;
            cx.with_stash(|s: &mut Option<Cluster>| *s = Some(c.clone()));
            events::started(cx, &c).await;
            Ok::<_, K8sError>(c)
        })
        .await?;
    Ok(c.clone())
}

impl Cluster {
    /// Connects with `settings` (credentials are looked up in `cx`'s registry).
    pub async fn connect(cx: &Context, settings: K8sSettings) -> Result<Cluster, K8sError> {
        let fallback = cx.with_stash(|f: &mut Fallback| f.0);
        let mut config = config(&settings, cx.experiment(), fallback).await?;
        if let Some(name) = &settings.credentials {
            let creds = cx
                .credentials(name)
                .map_err(|e| K8sError::Config(e.to_string()))?;
            // The provider's credentials replace the kubeconfig user's, whatever they were.
            config.auth_info = kube::config::AuthInfo::default();
            if let Some(t) = &creds.token {
                config.auth_info.token = Some(t.expose().to_owned().into());
            } else if let (Some(u), Some(p)) = (&creds.username, &creds.password) {
                config.auth_info.username = Some(u.clone());
                config.auth_info.password = Some(p.expose().to_owned().into());
            } else {
                return Err(K8sError::Config(format!(
                    "credentials `{name}` have neither a token nor a user and password"
                )));
            }
        }
        if let Some(ns) = &settings.namespace {
            config.default_namespace = ns.clone();
        }
        // Retries are ours: 429 and every 5xx, inside the activity's timeout.
        config.default_retry = false;
        let namespace = config.default_namespace.clone();
        crate::tls::install_provider();
        let client = kube::Client::try_from(config)
            .map_err(|e| K8sError::Config(crate::error::error_chain(&e)))?;
        Ok(Cluster {
            client,
            namespace,
            settings,
        })
    }

    /// The kube client, for calls this module does not wrap.
    pub fn client(&self) -> &kube::Client {
        &self.client
    }

    /// The default namespace (settings, else the kubeconfig's context, else `default`).
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The guards and options in force.
    pub fn settings(&self) -> &K8sSettings {
        &self.settings
    }

    /// Whether `namespace` exists.
    pub async fn namespace_exists(&self, namespace: &str) -> Result<bool, K8sError> {
        let api: Api<Namespace> = Api::all(self.client.clone());
        let got = self
            .call(&format!("get namespace {namespace}"), || {
                api.get_opt(namespace)
            })
            .await?;
        Ok(got.is_some())
    }

    /// Runs `f`, retrying on 429, 5xx and transport errors with exponential backoff (from
    /// 100 ms, doubling, at most 5 s; the server's retry-after when it gives one), at most
    /// `retries` times.
    pub(crate) async fn call<T, F, Fut>(&self, operation: &str, f: F) -> Result<T, K8sError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, kube::Error>>,
    {
        let mut delay = Duration::from_millis(100);
        let mut attempt = 0;
        loop {
            let err = match f().await {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let (retryable, server_delay) = match &err {
                kube::Error::Api(s) => (
                    s.code == 429 || s.code >= 500,
                    s.details
                        .as_ref()
                        .map(|d| d.retry_after_seconds)
                        .filter(|s| *s > 0)
                        .map(|s| Duration::from_secs(u64::from(s).min(30))),
                ),
                kube::Error::HyperError(_) | kube::Error::Service(_) => (true, None),
                _ => (false, None),
            };
            if !retryable || attempt >= self.settings.retries {
                return Err(api_error(operation, err));
            }
            attempt += 1;
            let wait = server_delay.unwrap_or(delay);
            tracing::warn!(
                operation,
                attempt,
                wait = %crate::time::human(wait),
                "Kubernetes call failed, retrying: {}",
                short_error(&err)
            );
            tokio::time::sleep(wait).await;
            delay = (delay * 2).min(Duration::from_secs(5));
        }
    }

    /// Refuses (touching nothing) when a guard forbids an action: in `namespaces` (none for
    /// cluster-scoped objects), touching `count` objects of `of` (`None`: no count or
    /// percentage limit applies), where every object of `labelled` (name and labels) must
    /// carry the opt-in label.
    pub(crate) fn guard<'a>(
        &self,
        action: &'static str,
        kind: &'static str,
        namespaces: &[&str],
        (count, of): (usize, Option<usize>),
        labelled: impl IntoIterator<Item = (&'a str, &'a std::collections::BTreeMap<String, String>)>,
    ) -> Result<(), K8sError> {
        let s = &self.settings;
        let g = Guard::new("k8s", action, count, kind);
        for ns in namespaces {
            g.require(
                s.allowed_namespaces.is_empty() || s.allowed_namespaces.iter().any(|a| a == ns),
                || {
                    format!(
                        "namespace `{ns}` is not in allowed_namespaces {:?} of [targets.k8s]",
                        s.allowed_namespaces
                    )
                },
            )?;
        }
        if let Some(matched) = of {
            g.max_count("max_count", s.max_count)?;
            g.max_percent("max_percent", s.max_percent, matched)?;
        }
        if let Some((key, value)) = &s.opt_in_label {
            for (name, labels) in labelled {
                let ok = match value {
                    Some(v) => labels.get(key) == Some(v),
                    None => labels.contains_key(key),
                };
                g.require(ok, || {
                    let want = value
                        .as_ref()
                        .map_or_else(|| key.clone(), |v| format!("{key}={v}"));
                    format!("{name} lacks the opt-in label {want} required by [targets.k8s]")
                })?;
            }
        }
        Ok(())
    }
}

async fn config(
    s: &K8sSettings,
    experiment: &str,
    fallback: Option<FallbackKubeconfig>,
) -> Result<kube::Config, K8sError> {
    use kube::config::{KubeConfigOptions, Kubeconfig};
    let options = KubeConfigOptions {
        context: s.context.clone(),
        ..KubeConfigOptions::default()
    };
    let from_file = |path: &str| {
        Kubeconfig::read_from(path).map_err(|e| {
            K8sError::Config(format!(
                "kubeconfig {path}: {}",
                crate::error::error_chain(&e)
            ))
        })
    };
    let custom = |kc: Kubeconfig, what: String| {
        let options = options.clone();
        async move {
            kube::Config::from_custom_kubeconfig(kc, &options)
                .await
                .map_err(|e| K8sError::Config(format!("{what}: {}", crate::error::error_chain(&e))))
        }
    };
    if s.in_cluster {
        return custom(in_cluster::kubeconfig()?, "in-cluster".into()).await;
    }
    if let Some(path) = &s.kubeconfig {
        return custom(from_file(path)?, format!("kubeconfig {path}")).await;
    }
    if let Some(f) = fallback.filter(|_| s.context.is_none()) {
        let text =
            f(experiment).map_err(|e| K8sError::Config(format!("fallback kubeconfig: {e}")))?;
        let kc = Kubeconfig::from_yaml(&text).map_err(|e| {
            K8sError::Config(format!(
                "fallback kubeconfig: {}",
                crate::error::error_chain(&e)
            ))
        })?;
        return custom(kc, "fallback kubeconfig".into()).await;
    }
    if std::env::var_os("KUBECONFIG").is_some() || s.context.is_some() {
        return kube::Config::from_kubeconfig(&options).await.map_err(|e| {
            K8sError::Config(format!(
                "kubeconfig ($KUBECONFIG or ~/.kube/config): {}",
                crate::error::error_chain(&e)
            ))
        });
    }
    kube::Config::infer().await.map_err(|e| {
        K8sError::Config(format!(
            "no kubeconfig, context or in-cluster configuration: {}",
            crate::error::error_chain(&e)
        ))
    })
}

fn short_error(err: &kube::Error) -> String {
    match err {
        kube::Error::Api(s) => format!("{} ({}): {}", s.reason, s.code, s.message),
        other => crate::error::error_chain(other),
    }
}

fn api_error(operation: &str, err: kube::Error) -> K8sError {
    match err {
        kube::Error::Api(s) => K8sError::Api {
            operation: operation.to_owned(),
            reason: if s.reason.is_empty() {
                "Unknown".into()
            } else {
                s.reason.clone()
            },
            code: s.code,
            message: s.message.clone(),
        },
        other => K8sError::Transport {
            operation: operation.to_owned(),
            message: crate::error::error_chain(&other),
        },
    }
}

/// What an action did (or, in dry-run, would have done).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ActionReport {
    /// `terminate`, `evict`, `cordon`, `uncordon`, `drain`, `delete-node`...
    pub action: &'static str,
    /// The objects touched, as `namespace/name` (pods) or `name` (nodes).
    pub targets: Vec<String>,
    /// Whether this was a dry run (nothing touched).
    pub dry_run: bool,
}

/// Every object `api` lists with `lp`, over all pages (`limit` and `continue`).
pub(crate) async fn list_all<K>(
    c: &Cluster,
    api: &Api<K>,
    mut lp: ListParams,
    operation: &str,
) -> Result<Vec<K>, K8sError>
where
    K: Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let mut out = Vec::new();
    loop {
        let page = c.call(operation, || api.list(&lp)).await?;
        out.extend(page.items);
        match page.metadata.continue_.filter(|t| !t.is_empty()) {
            Some(token) => lp.continue_token = Some(token),
            None => return Ok(out),
        }
    }
}

impl ActionReport {
    /// The report of an action that touches nothing (a dry run, or nothing chosen); `None`
    /// when it must go ahead.
    pub(crate) fn untouched(
        c: &Cluster,
        action: &'static str,
        targets: &[String],
    ) -> Option<ActionReport> {
        touches_nothing(action, targets, c.settings().dry_run).map(|u| ActionReport {
            action: u.action,
            targets: u.targets,
            dry_run: u.dry_run,
        })
    }
}

/// Polls `check` every `every` until it returns `Ok(Some(v))`, for at most `timeout`; `what`
/// names the condition in the error. `check` returns `Ok(None)` with nothing seen, and the
/// last description it gave is quoted when time runs out.
pub(crate) async fn wait_until<T, F, Fut>(
    what: &str,
    every: Duration,
    timeout: Duration,
    mut check: F,
) -> Result<T, K8sError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Result<T, String>, K8sError>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    let mut last = String::from("nothing seen yet");
    loop {
        // A check (and its retries) never runs past the deadline.
        match tokio::time::timeout_at(deadline, check()).await {
            Ok(r) => match r? {
                Ok(v) => return Ok(v),
                Err(seen) => last = seen,
            },
            Err(_) => {
                return Err(K8sError::WaitTimeout {
                    what: what.to_owned(),
                    timeout,
                    last,
                })
            }
        }
        if tokio::time::Instant::now() + every > deadline {
            return Err(K8sError::WaitTimeout {
                what: what.to_owned(),
                timeout,
                last,
            });
        }
        tokio::time::sleep(every).await;
    }
}

/// How often waits poll.
pub(crate) const POLL: Duration = Duration::from_millis(100);

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(toml_text: &str) -> Result<K8sSettings, K8sError> {
        let table: toml::Table = toml::from_str(toml_text).expect("test TOML");
        let cx = Context::builder().target_settings(table).build();
        K8sSettings::from_context(&cx)
    }

    #[test]
    fn settings_are_read_and_checked() {
        let s = settings(
            "[k8s]\nnamespace = \"shop\"\nallowed_namespaces = [\"shop\"]\nmax_count = 3\nmax_percent = 50\nopt_in_label = \"chaos=enabled\"\nretries = 2\n",
        )
        .expect("valid");
        assert_eq!(s.namespace.as_deref(), Some("shop"));
        assert_eq!(s.max_count, Some(3));
        assert_eq!(s.max_percent, Some(50.0));
        assert_eq!(
            s.opt_in_label,
            Some(("chaos".to_owned(), Some("enabled".to_owned())))
        );
        assert_eq!(s.retries, 2);
        assert!(s.events);
        let e = settings("[k8s]\nmax_percent = 120\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`max_percent` must be a number from 0 to 100"),
            "{e}"
        );
        let e = settings("[k8s]\nnamespaces = []\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown key `namespaces`"), "{e}");
        let e = settings("[k8s]\nallowed_namespaces = [1]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("allowed_namespaces"), "{e}");
    }
}
