//! The run context handed to every activity: variables, the run's seed and its random generator.

use crate::credentials::{CredentialError, CredentialRegistry, Credentials};
use crate::error::{MissingSecret, MissingVariable};
use crate::redact::Secret;
use crate::rng::SeededRng;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// What an activity block sees of its run, as `cx`.
///
/// Cheap to clone (an `Arc` inside); every activity of a run shares one.
///
/// ```
/// use chaos_runtime::Context;
/// let cx = Context::builder().seed(7).var("service_url", "http://127.0.0.1:8080").build();
/// assert_eq!(cx.var("service_url").unwrap(), "http://127.0.0.1:8080");
/// assert_eq!(cx.seed(), 7);
/// assert!(cx.var("surely_not_set_anywhere_42").is_err());
/// ```
#[derive(Clone, Debug)]
pub struct Context {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    experiment: String,
    seed: u64,
    vars: BTreeMap<String, String>,
    secrets: BTreeMap<String, Secret>,
    credentials: Arc<CredentialRegistry>,
    rng: Mutex<SeededRng>,
    targets: Mutex<Vec<serde_json::Value>>,
    stash: Mutex<Stash>,
    undo: Mutex<Vec<crate::target::undo::Undo>>,
    /// The run's ledger entry while it has one (from the method's start).
    ledger: Mutex<Option<Arc<crate::ledger::Entry>>>,
    target_settings: Arc<toml::Table>,
}

pub(crate) type Stash = std::collections::HashMap<std::any::TypeId, Box<dyn std::any::Any + Send>>;

impl Context {
    /// Starts building a context.
    pub fn builder() -> ContextBuilder {
        ContextBuilder::default()
    }

    /// The value of variable `name`: a value given to the context (by the harness or the
    /// experiment's defaults), else the environment variable of that exact name.
    ///
    /// Use it with `?` in an activity; a missing variable ends the run with outcome `error`.
    pub fn var(&self, name: &str) -> Result<String, MissingVariable> {
        if let Ok(v) = std::env::var(name) {
            return Ok(v);
        }
        self.inner
            .vars
            .get(name)
            .cloned()
            .ok_or_else(|| MissingVariable {
                name: name.to_owned(),
            })
    }

    /// Like [`Context::var`], with a fallback when the variable is not set.
    pub fn var_or(&self, name: &str, default: &str) -> String {
        self.var(name).unwrap_or_else(|_| default.to_owned())
    }

    /// The secret `name` from the settings file's `[secrets]`. Use it with `?`: a missing
    /// secret ends the run with outcome `error`. Its value is redacted from everything the run
    /// writes and sends.
    pub fn secret(&self, name: &str) -> Result<Secret, MissingSecret> {
        self.inner
            .secrets
            .get(name)
            .cloned()
            .ok_or_else(|| MissingSecret {
                name: name.to_owned(),
            })
    }

    /// Loads the credentials registered as `name` (in `main!(setup = ...)` or the settings
    /// file's `[credentials]`). Use it with `?`: an unknown name or a provider that fails ends
    /// the run with outcome `error`.
    pub fn credentials(&self, name: &str) -> Result<Credentials, CredentialError> {
        self.inner.credentials.get(name)
    }

    /// The run's seed. Set `CHAOS_SEED` to replay a run's random choices.
    pub fn seed(&self) -> u64 {
        self.inner.seed
    }

    /// The name of the experiment being run.
    pub fn experiment(&self) -> &str {
        &self.inner.experiment
    }

    /// A context like this one with `vars` added (they win over the ones it has; the
    /// environment still wins over both). The random generator starts again from the seed.
    pub fn with_vars(&self, vars: impl IntoIterator<Item = (String, String)>) -> Context {
        let mut all = self.inner.vars.clone();
        all.extend(vars);
        Context {
            inner: Arc::new(Inner {
                experiment: self.inner.experiment.clone(),
                seed: self.inner.seed,
                vars: all,
                secrets: self.inner.secrets.clone(),
                credentials: self.inner.credentials.clone(),
                rng: Mutex::new(SeededRng::new(self.inner.seed)),
                targets: Mutex::default(),
                stash: Mutex::default(),
                undo: Mutex::default(),
                ledger: Mutex::default(),
                target_settings: self.inner.target_settings.clone(),
            }),
        }
    }

    /// Every variable given to the context (not the environment's).
    pub fn vars(&self) -> &BTreeMap<String, String> {
        &self.inner.vars
    }

    /// Runs `f` with the run's random generator. Every random choice of a run should come from
    /// here so that `CHAOS_SEED` replays it.
    pub fn with_rng<R>(&self, f: impl FnOnce(&mut SeededRng) -> R) -> R {
        let mut rng = self.inner.rng.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut rng)
    }
}

/// What the target kit keeps in a run's context; read through
/// [`TargetContext`](crate::target::TargetContext), which `target` implements over it.
pub(crate) struct TargetState<'a> {
    pub(crate) settings: &'a toml::Table,
    pub(crate) selections: &'a Mutex<Vec<serde_json::Value>>,
    pub(crate) stash: &'a Mutex<Stash>,
    pub(crate) undo: &'a Mutex<Vec<crate::target::undo::Undo>>,
}

impl Context {
    /// The undos targets registered, latest first, leaving none.
    pub(crate) fn take_undos(&self) -> Vec<crate::target::undo::Undo> {
        let mut undos =
            std::mem::take(&mut *self.inner.undo.lock().unwrap_or_else(|p| p.into_inner()));
        undos.reverse();
        undos
    }

    /// Gives the run's ledger entry to the targets (`None`: the run has none now).
    pub(crate) fn set_ledger_entry(&self, entry: Option<Arc<crate::ledger::Entry>>) {
        *self.inner.ledger.lock().unwrap_or_else(|p| p.into_inner()) = entry;
    }

    /// The run's ledger entry, if it has one now.
    pub(crate) fn ledger_entry(&self) -> Option<Arc<crate::ledger::Entry>> {
        self.inner
            .ledger
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The run's target state, for the target kit.
    pub(crate) fn target_state(&self) -> TargetState<'_> {
        TargetState {
            settings: &self.inner.target_settings,
            selections: &self.inner.targets,
            stash: &self.inner.stash,
            undo: &self.inner.undo,
        }
    }
}

/// Builds a [`Context`].
#[derive(Default, Debug)]
pub struct ContextBuilder {
    experiment: String,
    seed: Option<u64>,
    vars: BTreeMap<String, String>,
    secrets: BTreeMap<String, Secret>,
    credentials: Option<Arc<CredentialRegistry>>,
    target_settings: toml::Table,
}

impl ContextBuilder {
    /// Names the experiment the context belongs to.
    pub fn experiment(mut self, name: impl Into<String>) -> Self {
        self.experiment = name.into();
        self
    }

    /// Sets the run's seed (default: a fresh one).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Gives variable `name` a value; the environment variable of the same name overrides it.
    pub fn var(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.vars.insert(name.into(), value.into());
        self
    }

    /// Gives several variables values.
    pub fn vars<K: Into<String>, V: Into<String>>(
        mut self,
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.vars
            .extend(vars.into_iter().map(|(k, v)| (k.into(), v.into())));
        self
    }

    /// Gives the context secrets (from the settings file), read with [`Context::secret`].
    pub fn secrets(mut self, secrets: impl IntoIterator<Item = (String, Secret)>) -> Self {
        self.secrets.extend(secrets);
        self
    }

    /// Gives the context the credential providers read with [`Context::credentials`].
    pub fn credentials(mut self, registry: Arc<CredentialRegistry>) -> Self {
        self.credentials = Some(registry);
        self
    }

    /// Gives the context the settings file's `[targets]` table, read by targets with
    /// [`TargetContext::target_settings`](crate::target::TargetContext::target_settings).
    pub fn target_settings(mut self, targets: toml::Table) -> Self {
        self.target_settings = targets;
        self
    }

    /// Builds the context.
    pub fn build(self) -> Context {
        let seed = self.seed.unwrap_or_else(crate::rng::fresh_seed);
        Context {
            inner: Arc::new(Inner {
                experiment: self.experiment,
                seed,
                vars: self.vars,
                secrets: self.secrets,
                credentials: self.credentials.unwrap_or_default(),
                rng: Mutex::new(SeededRng::new(seed)),
                targets: Mutex::default(),
                stash: Mutex::default(),
                undo: Mutex::default(),
                ledger: Mutex::default(),
                target_settings: Arc::new(self.target_settings),
            }),
        }
    }
}

/// The seed for a run: `CHAOS_SEED` when set, else a fresh one.
///
/// Returns an error naming the bad value when `CHAOS_SEED` is not a number.
pub fn seed_from_env() -> Result<u64, crate::RunError> {
    match std::env::var(crate::env::SEED) {
        Ok(s) => s.trim().parse().map_err(|_| crate::RunError::BadSeed(s)),
        Err(_) => Ok(crate::rng::fresh_seed()),
    }
}
