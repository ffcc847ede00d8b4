//! What a harness is set up with, once per process: the settings file, notification
//! channels, observers, hooks, controls and credential providers.

use chaos_runtime::credentials::{CredentialProvider, CredentialRegistry};
use chaos_runtime::extend::{Control, Extension, Hook, Observer};
use chaos_runtime::notify::{BoxedChannel, Channel, Notifier};
use chaos_runtime::settings::Settings;
use std::sync::Arc;

/// Extensions registered in `chaos_harness::main!(setup = my_setup)`: notification channels,
/// observers, hooks, controls and credential providers, added to those the settings file
/// declares.
///
/// ```no_run
/// use chaos_harness::Setup;
/// use chaos_harness::credentials::TokenFile;
///
/// fn setup(s: &mut Setup) {
///     s.credentials("api", TokenFile::new("/run/secrets/api-token"));
/// }
///
/// chaos_harness::main!(setup = setup);
/// ```
#[derive(Default)]
pub struct Setup {
    pub(crate) channels: Vec<BoxedChannel>,
    pub(crate) observers: Vec<Arc<dyn Observer>>,
    pub(crate) hooks: Vec<Arc<dyn Hook>>,
    pub(crate) controls: Vec<Arc<dyn Control>>,
    pub(crate) extensions: Vec<Arc<dyn Extension>>,
    pub(crate) credentials: CredentialRegistry,
    pub(crate) errors: Vec<String>,
}

impl Setup {
    /// Adds a notification channel (a custom [`Channel`]).
    pub fn channel(&mut self, channel: impl Channel) -> &mut Self {
        self.channels.push(BoxedChannel::new(channel));
        self
    }
    /// Adds an observer, called with every finished journal.
    pub fn observer(&mut self, observer: impl Observer) -> &mut Self {
        self.observers.push(Arc::new(observer));
        self
    }
    /// Adds a hook, called with every experiment before it runs.
    pub fn hook(&mut self, hook: impl Hook) -> &mut Self {
        self.hooks.push(Arc::new(hook));
        self
    }
    /// Adds a control, called around every phase and activity.
    pub fn control(&mut self, control: impl Control) -> &mut Self {
        self.controls.push(Arc::new(control));
        self
    }
    /// Adds an extension: run-level behaviour of a target or library (its controls, and steps
    /// when each run starts and ends). The compiled-in targets' own are registered already.
    ///
    /// ```no_run
    /// # #[cfg(feature = "k8s")]
    /// fn setup(s: &mut chaos_harness::Setup) {
    ///     fn cluster(_experiment: &str) -> Result<String, String> {
    ///         std::fs::read_to_string("/etc/chaos/kubeconfig").map_err(|e| e.to_string())
    ///     }
    ///     s.extension(chaos_harness::k8s::FallbackCluster(cluster));
    /// }
    /// ```
    pub fn extension(&mut self, extension: impl Extension) -> &mut Self {
        self.extensions.push(Arc::new(extension));
        self
    }
    /// Registers credential provider `provider` as `name`, for `cx.credentials(name)`. A name
    /// is registered once: a second registration makes every experiment end with `error`.
    pub fn credentials(&mut self, name: &str, provider: impl CredentialProvider) -> &mut Self {
        if let Err(e) = self.credentials.register(name, provider) {
            self.errors.push(e.to_string());
        }
        self
    }
}

/// Everything a trial needs from the process's setup.
pub(crate) struct Harness {
    pub settings: Settings,
    pub setup: Setup,
    pub credentials: Arc<CredentialRegistry>,
    pub notifier: Option<Notifier>,
    /// Set when the settings or the setup are wrong: every experiment ends with `error`.
    pub error: Option<String>,
}

impl Harness {
    pub(crate) fn new(user: Option<fn(&mut Setup)>) -> Harness {
        let mut setup = Setup {
            extensions: chaos_runtime::target::extensions(),
            ..Setup::default()
        };
        let mut errors = Vec::new();
        let settings = match Settings::load() {
            Ok(s) => s,
            Err(e) => {
                errors.push(e.to_string());
                Settings::default()
            }
        };
        for c in &settings.notifications {
            match c.channel() {
                Ok(ch) => setup.channels.push(ch),
                Err(e) => errors.push(e.to_string()),
            }
        }
        for (name, c) in &settings.credentials {
            if let Err(e) = setup.credentials.register(name, c.provider()) {
                errors.push(e.to_string());
            }
        }
        if let Some(f) = user {
            f(&mut setup);
        }
        errors.append(&mut setup.errors);
        // What the extensions observe (the Kubernetes target's results of an in-cluster Job).
        let observers: Vec<_> = setup
            .extensions
            .iter()
            .flat_map(|e| e.observers())
            .collect();
        setup.observers.extend(observers);
        let notifier = if setup.channels.is_empty() {
            None
        } else {
            Notifier::global()
        };
        let credentials = Arc::new(setup.credentials.clone());
        Harness {
            settings,
            setup,
            credentials,
            notifier,
            error: (!errors.is_empty()).then(|| errors.join("; ")),
        }
    }
}
