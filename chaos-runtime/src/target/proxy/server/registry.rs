//! [`Registry`]: the server's proxies by name, and what the API does to them.

use super::error::ApiError;
use super::json::{toxics_in_order, ProxyConfig, ProxyPatch};
use crate::target::proxy::{Fault, Proxy, ProxyErrorKind, Toxic};
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a proxy brought back up on the address of the one it replaces waits for that
/// address to be free (the old listener closes on the old proxy's task).
const REBIND_WAIT: Duration = Duration::from_secs(2);

/// The proxies of a server, by name: what the Toxiproxy API acts on. Cheap to clone (the
/// clones share the proxies); the proxies stop when the last clone is dropped.
///
/// Every toxic's random draws (which connections a toxicity hits, jitter, slice sizes) come
/// from the registry's seed, the proxy's and the toxic's names and the order connections
/// came: a server started with the same seed replays them.
///
/// ```
/// use chaos_runtime::target::proxy::server::{ProxyConfig, Registry};
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let upstream = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
/// let registry = Registry::with_seed(7);
/// let proxy = registry
///     .create(ProxyConfig::new("db", upstream.local_addr().unwrap().to_string()))
///     .await
///     .unwrap();
/// assert_ne!(proxy.addr().port(), 0);
/// registry
///     .add_toxic("db", &serde_json::json!({"type": "latency", "attributes": {"latency": 50}}))
///     .await
///     .unwrap();
/// assert_eq!(registry.toxics("db").await.unwrap().len(), 1);
/// let err = registry.toxics("nope").await.unwrap_err();
/// assert_eq!(err.status(), 404);
/// # });
/// ```
#[derive(Clone, Debug)]
pub struct Registry {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    seed: u64,
    proxies: tokio::sync::Mutex<BTreeMap<String, Proxy>>,
}

impl Default for Registry {
    fn default() -> Registry {
        Registry::new()
    }
}

impl Registry {
    /// An empty registry seeded from `CHAOS_SEED`, else with a fresh seed.
    pub fn new() -> Registry {
        let seed = crate::env::var(crate::env::SEED)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(crate::rng::fresh_seed);
        Registry::with_seed(seed)
    }

    /// An empty registry whose toxics draw from `seed`.
    pub fn with_seed(seed: u64) -> Registry {
        Registry {
            inner: Arc::new(Inner {
                seed,
                proxies: tokio::sync::Mutex::default(),
            }),
        }
    }

    /// The seed of every toxic's draws.
    pub fn seed(&self) -> u64 {
        self.inner.seed
    }

    /// The proxy `name`, to use in-process (its address, its counters).
    ///
    /// Holding the clone keeps the proxy listening: while it is held, an update that moves
    /// the proxy to another listen address or upstream cannot bring it back up on the same
    /// port.
    pub async fn get(&self, name: &str) -> Option<Proxy> {
        self.inner.proxies.lock().await.get(name).cloned()
    }

    /// Every proxy, by name.
    pub async fn proxies(&self) -> Vec<Proxy> {
        self.inner.proxies.lock().await.values().cloned().collect()
    }

    /// Creates and starts a proxy (`POST /proxies`).
    ///
    /// # Errors
    /// 409 the name is taken; 400 the upstream does not resolve; 500 the listen address
    /// cannot be bound (as Toxiproxy).
    pub async fn create(&self, config: ProxyConfig) -> Result<Proxy, ApiError> {
        let mut proxies = self.inner.proxies.lock().await;
        if let Some(p) = proxies.get(&config.name) {
            return Err(ApiError::proxy_exists(
                &config.name,
                &p.addr().to_string(),
                p.upstream(),
            ));
        }
        let proxy = self.start(&config, false).await?;
        proxy.set_enabled(config.enabled);
        tracing::info!(proxy = %config.name, listen = %proxy.addr(), upstream = %config.upstream, "proxy created");
        proxies.insert(config.name, proxy.clone());
        Ok(proxy)
    }

    /// Creates or replaces each proxy in turn (`POST /populate`), as Toxiproxy does: a proxy
    /// whose name exists with the same listen address and upstream is kept as it is (toxics
    /// and all); one that differs is replaced by a new one, without toxics.
    ///
    /// Returns the proxies created or kept, and the error that stopped the list, if any.
    pub async fn populate(&self, configs: Vec<ProxyConfig>) -> (Vec<Proxy>, Option<ApiError>) {
        let mut done = Vec::with_capacity(configs.len());
        let mut proxies = self.inner.proxies.lock().await;
        for config in configs {
            let Some(existing) = proxies.remove(&config.name) else {
                match self.start(&config, false).await {
                    Ok(p) => {
                        p.set_enabled(config.enabled);
                        proxies.insert(config.name.clone(), p.clone());
                        done.push(p);
                        continue;
                    }
                    Err(e) => return (done, Some(e)),
                }
            };
            match differs(&existing, &config.listen, &config.upstream).await {
                Ok(false) => {
                    proxies.insert(config.name.clone(), existing.clone());
                    done.push(existing);
                }
                Ok(true) => {
                    let (kept, err) = self.recreate(existing, &config, false).await;
                    if let Some(p) = kept {
                        proxies.insert(config.name.clone(), p.clone());
                        if err.is_none() {
                            done.push(p);
                        }
                    }
                    if let Some(e) = err {
                        return (done, Some(e));
                    }
                }
                Err(e) => {
                    proxies.insert(config.name.clone(), existing);
                    return (done, Some(e));
                }
            }
        }
        tracing::info!(proxies = done.len(), "populated");
        (done, None)
    }

    /// Changes a proxy (`POST`/`PATCH /proxies/{proxy}`): enables or disables it; a new
    /// listen address or upstream brings up a new proxy in its place with the same toxics
    /// (the running one cannot change them), as Toxiproxy restarts its own.
    ///
    /// # Errors
    /// 404 no such proxy; 400 the new listen address or upstream does not resolve; 500 the new
    /// listen address cannot be bound (the proxy then stays as it was).
    pub async fn update(&self, name: &str, patch: ProxyPatch) -> Result<Proxy, ApiError> {
        let mut proxies = self.inner.proxies.lock().await;
        let Some(existing) = proxies.get(name).cloned() else {
            return Err(ApiError::proxy_not_found(
                name,
                &proxies.keys().cloned().collect::<Vec<_>>(),
            ));
        };
        let config = ProxyConfig {
            name: name.to_owned(),
            listen: patch.listen.unwrap_or_else(|| existing.addr().to_string()),
            upstream: patch
                .upstream
                .unwrap_or_else(|| existing.upstream().to_owned()),
            enabled: patch.enabled.unwrap_or_else(|| existing.is_enabled()),
        };
        if !differs(&existing, &config.listen, &config.upstream).await? {
            if existing.set_enabled(config.enabled) {
                tracing::info!(proxy = %name, enabled = config.enabled, "proxy enabled changed");
            }
            return Ok(existing);
        }
        proxies.remove(name);
        let (kept, err) = self.recreate(existing, &config, true).await;
        if let Some(p) = &kept {
            proxies.insert(name.to_owned(), p.clone());
        }
        match (kept, err) {
            (_, Some(e)) => Err(e),
            (Some(p), None) => Ok(p),
            (None, None) => Err(ApiError::new(500, format!("proxy `{name}` was lost"))),
        }
    }

    /// Deletes a proxy (`DELETE /proxies/{proxy}`): it stops, its connections close.
    ///
    /// # Errors
    /// 404 no such proxy.
    pub async fn delete(&self, name: &str) -> Result<(), ApiError> {
        let mut proxies = self.inner.proxies.lock().await;
        match proxies.remove(name) {
            Some(p) => {
                // Other clones may keep it running; this one no longer serves it.
                p.set_enabled(false);
                tracing::info!(proxy = %name, "proxy deleted");
                Ok(())
            }
            None => Err(ApiError::proxy_not_found(
                name,
                &proxies.keys().cloned().collect::<Vec<_>>(),
            )),
        }
    }

    /// Enables every proxy and removes every toxic (`POST /reset`).
    pub async fn reset(&self) {
        for p in self.inner.proxies.lock().await.values() {
            p.set_enabled(true);
            p.clear();
        }
        tracing::info!("reset: every proxy enabled, every toxic removed");
    }

    /// A proxy's toxics, in Toxiproxy's order (upstream ones first).
    ///
    /// # Errors
    /// 404 no such proxy.
    pub async fn toxics(&self, proxy: &str) -> Result<Vec<Toxic>, ApiError> {
        Ok(toxics_in_order(&self.proxy(proxy).await?))
    }

    /// One toxic of a proxy.
    ///
    /// # Errors
    /// 404 no such proxy or toxic.
    pub async fn toxic(&self, proxy: &str, toxic: &str) -> Result<Toxic, ApiError> {
        let p = self.proxy(proxy).await?;
        let toxics = p.toxics();
        match toxics.iter().find(|t| t.name() == toxic) {
            Some(t) => Ok(t.clone()),
            None => Err(toxic_not_found(&p, toxic)),
        }
    }

    /// Adds a toxic from Toxiproxy's JSON (`POST /proxies/{proxy}/toxics`), its draws from
    /// the registry's seed.
    ///
    /// # Errors
    /// 404 no such proxy; 400 a bad toxic (the error names the field); 409 the toxic's name
    /// is taken.
    pub async fn add_toxic(&self, proxy: &str, body: &Value) -> Result<Toxic, ApiError> {
        let p = self.proxy(proxy).await?;
        let toxic = Toxic::from_json(proxy, body)?;
        p.insert(Fault::Toxic(toxic.clone()), self.inner.seed)?;
        tracing::info!(proxy = %proxy, toxic = %toxic.name(), "toxic added");
        Ok(toxic)
    }

    /// Updates a toxic with Toxiproxy's merge (`POST`/`PATCH
    /// /proxies/{proxy}/toxics/{toxic}`): the attributes given replace its own, `toxicity`
    /// if given.
    ///
    /// # Errors
    /// 404 no such proxy or toxic; 400 the result is not a valid toxic.
    pub async fn update_toxic(
        &self,
        proxy: &str,
        toxic: &str,
        patch: &Value,
    ) -> Result<Toxic, ApiError> {
        let p = self.proxy(proxy).await?;
        match p.update(toxic, patch) {
            Ok(t) => {
                tracing::info!(proxy = %proxy, toxic = %toxic, "toxic updated");
                Ok(t)
            }
            Err(e) if matches!(e.kind(), ProxyErrorKind::NoSuchToxic) => {
                Err(toxic_not_found(&p, toxic))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Removes a toxic (`DELETE /proxies/{proxy}/toxics/{toxic}`).
    ///
    /// # Errors
    /// 404 no such proxy or toxic.
    pub async fn remove_toxic(&self, proxy: &str, toxic: &str) -> Result<(), ApiError> {
        let p = self.proxy(proxy).await?;
        match p.remove(toxic) {
            Ok(_) => {
                tracing::info!(proxy = %proxy, toxic = %toxic, "toxic removed");
                Ok(())
            }
            Err(e) if matches!(e.kind(), ProxyErrorKind::NoSuchToxic) => {
                Err(toxic_not_found(&p, toxic))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The proxy `name`, or 404 naming the proxies there are.
    pub(super) async fn proxy(&self, name: &str) -> Result<Proxy, ApiError> {
        let proxies = self.inner.proxies.lock().await;
        match proxies.get(name) {
            Some(p) => Ok(p.clone()),
            None => Err(ApiError::proxy_not_found(
                name,
                &proxies.keys().cloned().collect::<Vec<_>>(),
            )),
        }
    }

    /// Starts the proxy of `config` (enabled); with `rebind`, waits for its address to be
    /// freed by the proxy it replaces.
    async fn start(&self, config: &ProxyConfig, rebind: bool) -> Result<Proxy, ApiError> {
        let deadline = Instant::now() + REBIND_WAIT;
        loop {
            let started = Proxy::builder(config.name.clone(), config.upstream.clone())
                .listen_on(config.listen.clone())
                .seed(self.inner.seed)
                .start()
                .await;
            match started {
                Ok(p) => return Ok(p),
                Err(e) if rebind && addr_in_use(e.kind()) && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Replaces `old` by a proxy of `config`, with `old`'s toxics if `keep_toxics`. On
    /// failure, brings `old` back as it was if it can. Returns the proxy to keep under the
    /// name (the new one, or the old one back) and the error, if any.
    async fn recreate(
        &self,
        old: Proxy,
        config: &ProxyConfig,
        keep_toxics: bool,
    ) -> (Option<Proxy>, Option<ApiError>) {
        let before = ProxyConfig {
            name: config.name.clone(),
            listen: old.addr().to_string(),
            upstream: old.upstream().to_owned(),
            enabled: old.is_enabled(),
        };
        let faults = old.faults();
        // Closes its listener and connections (unless a clone is held elsewhere).
        old.set_enabled(false);
        drop(old);
        let restore = |p: &Proxy, enabled: bool| {
            for f in &faults {
                if let Err(e) = p.insert(f.clone(), self.inner.seed) {
                    tracing::warn!(proxy = %config.name, error = %e, "toxic not carried over");
                }
            }
            p.set_enabled(enabled);
        };
        match self.start(config, true).await {
            Ok(p) => {
                if keep_toxics {
                    restore(&p, config.enabled);
                } else {
                    p.set_enabled(config.enabled);
                }
                tracing::info!(proxy = %config.name, listen = %p.addr(), upstream = %config.upstream, "proxy restarted");
                (Some(p), None)
            }
            Err(e) => match self.start(&before, true).await {
                Ok(p) => {
                    restore(&p, before.enabled);
                    (Some(p), Some(e))
                }
                Err(again) => {
                    tracing::warn!(proxy = %config.name, error = %again, "proxy lost: it cannot be brought back");
                    let lost = ApiError::new(
                        e.status(),
                        format!(
                            "{}; the proxy could not be brought back on {} either ({}), so it \
                             is deleted",
                            e.message(),
                            before.listen,
                            again.message()
                        ),
                    );
                    (None, Some(lost))
                }
            },
        }
    }
}

/// Whether `listen` or `upstream` differ from the proxy's (Toxiproxy's `Differs`: the listen
/// address resolved, compared with the address bound, so port 0 always differs).
async fn differs(proxy: &Proxy, listen: &str, upstream: &str) -> Result<bool, ApiError> {
    if upstream != proxy.upstream() {
        return Ok(true);
    }
    let resolved: Option<SocketAddr> = match tokio::net::lookup_host(listen).await {
        Ok(mut addrs) => addrs.next(),
        Err(e) => {
            return Err(ApiError::new(
                400,
                format!(
                    "bad request body: `listen` of proxy `{}` is not an address: `{listen}` \
                     does not resolve ({e})",
                    proxy.name()
                ),
            ))
        }
    };
    Ok(resolved != Some(proxy.addr()))
}

fn addr_in_use(kind: &ProxyErrorKind) -> bool {
    matches!(kind, ProxyErrorKind::Listen { source, .. } if source.kind() == std::io::ErrorKind::AddrInUse)
}

fn toxic_not_found(proxy: &Proxy, toxic: &str) -> ApiError {
    let names: Vec<String> = toxics_in_order(proxy).iter().map(Toxic::name).collect();
    ApiError::toxic_not_found(proxy.name(), toxic, &names)
}
