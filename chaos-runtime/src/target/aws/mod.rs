//! The AWS EC2 target (cargo feature `aws`): select instances by ids or filters (with
//! exclusions, over every page), choose some at random from the run's seed, and stop, start,
//! reboot or terminate them; probe their states; guards and dry-run from settings.
//!
//! ```no_run
//! # async fn method(cx: &chaos_runtime::Context) -> Result<(), chaos_runtime::BoxError> {
//! use chaos_runtime::target::{aws, Select};
//! let ec2 = aws::ec2(cx).await?;
//! let chosen = ec2
//!     .instances()
//!     .filter("instance-state-name", ["running"])
//!     .tag("Chaos", "true")
//!     .exclude_tag("Protected", "true")
//!     .choose(cx, Select::random(1))
//!     .await?;
//! let report = ec2.stop(cx, &chosen, false).await?;
//! # let _ = report; Ok(()) }
//! ```
//!
//! The client comes from the standard AWS chain (environment, profile, instance role);
//! `AWS_ENDPOINT_URL` works as the SDK defines it. The settings file's `[targets.aws]` may set
//! `region`, `endpoint_url`, `max_instances` (an action touching more refuses), `required_tags`
//! (every instance an action touches must carry them, e.g. `{ Chaos = "true" }`) and `dry_run`
//! (resolve and record the selection, touch nothing); `CHAOS_DRY_RUN=1` turns dry-run on too.

use crate::context::Context;
use crate::ledger::UndoRecord;
use crate::target::{marker, Intent, TargetContext};
use crate::target::{touches_nothing, Guard, Refusal, Select, TargetSettings, TargetSettingsError};
use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_sdk_ec2::types::{Filter, Instance as SdkInstance, InstanceStateChange};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;

/// An AWS call or a guard failed. The message carries the AWS error code
/// (`InvalidInstanceID.NotFound`, `UnauthorizedOperation`, `RequestLimitExceeded`...).
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    /// An EC2 API call failed.
    #[error("EC2 {operation} failed: {code}: {message}")]
    Api {
        /// The operation (`DescribeInstances`, `StopInstances`...).
        operation: &'static str,
        /// The AWS error code, or `unknown` when the error has none (a connection error).
        code: String,
        /// The error's message.
        message: String,
    },
    /// A guard refused the action; nothing was touched.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The `[targets.aws]` settings are wrong.
    #[error(transparent)]
    Settings(#[from] TargetSettingsError),
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
    #[error("instances {ids:?} did not reach `{state}` within {}: {seen:?}", crate::time::human(*timeout))]
    WaitTimeout {
        /// The instances.
        ids: Vec<String>,
        /// The state waited for.
        state: String,
        /// The timeout.
        timeout: Duration,
        /// Their states when it ran out.
        seen: BTreeMap<String, String>,
    },
}

fn api_error<E, R>(operation: &'static str, err: aws_sdk_ec2::error::SdkError<E, R>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let code = err.code().unwrap_or("unknown").to_owned();
    let message = err
        .message()
        .map(str::to_owned)
        .unwrap_or_else(|| crate::error::error_chain(&err));
    AwsError::Api {
        operation,
        code,
        message,
    }
}

/// Guards and options from the settings file's `[targets.aws]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ec2Settings {
    /// The region (else the AWS chain's).
    pub region: Option<String>,
    /// The endpoint (else `AWS_ENDPOINT_URL` or AWS's).
    pub endpoint_url: Option<String>,
    /// The most instances one action may touch.
    pub max_instances: Option<usize>,
    /// Tags every instance an action touches must carry.
    pub required_tags: BTreeMap<String, String>,
    /// Resolve and record selections, touch nothing.
    pub dry_run: bool,
    /// How long the recovery marker (tag) of a stop is taken for its run's (see
    /// [`marker`](crate::target::marker)); past it, a recovery from markers starts the instance.
    pub marker_lease: Duration,
}

impl Ec2Settings {
    /// The keys `[targets.aws]` may hold.
    pub const KEYS: &'static [&'static str] = &[
        "region",
        "endpoint_url",
        "max_instances",
        "required_tags",
        "dry_run",
        "marker_lease",
    ];

    /// Reads `[targets.aws]` from the context's settings, and `CHAOS_DRY_RUN`.
    pub fn from_context(cx: &Context) -> Result<Ec2Settings, AwsError> {
        let t = TargetSettings::read(cx, "aws", Self::KEYS)?;
        Ok(Ec2Settings {
            region: t.string("region")?,
            endpoint_url: t.string("endpoint_url")?,
            max_instances: t.count("max_instances")?,
            required_tags: t
                .string_map("required_tags", "a table of tag = \"value\"")?
                .unwrap_or_default(),
            dry_run: t.dry_run()?,
            marker_lease: t
                .duration("marker_lease")?
                .unwrap_or(crate::target::marker::DEFAULT_LEASE),
        })
    }
}

/// The EC2 target of a run: a client and the guards.
#[derive(Clone, Debug)]
pub struct Ec2 {
    client: aws_sdk_ec2::Client,
    settings: Ec2Settings,
}

/// The run's EC2 target, made on first use from the AWS chain and `[targets.aws]`, then
/// shared by the run's activities.
pub async fn ec2(cx: &Context) -> Result<Ec2, AwsError> {
    if let Some(e) = cx.with_stash(|c: &mut Option<Ec2>| c.clone()) {
        return Ok(e);
    }
    let settings = Ec2Settings::from_context(cx)?;
    let e = Ec2::connect(settings).await?;
    cx.with_stash(|c: &mut Option<Ec2>| *c = Some(e.clone()));
    Ok(e)
}

impl Ec2 {
    /// Builds a client from the AWS chain with `settings`' overrides. Throttling and other
    /// transient errors are retried with exponential backoff (5 attempts).
    pub async fn connect(settings: Ec2Settings) -> Result<Ec2, AwsError> {
        crate::tls::install_provider();
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest()).retry_config(
            aws_config::retry::RetryConfig::standard()
                .with_max_attempts(5)
                .with_initial_backoff(Duration::from_millis(200)),
        );
        if let Some(r) = &settings.region {
            loader = loader.region(aws_config::Region::new(r.clone()));
        }
        if let Some(u) = &settings.endpoint_url {
            loader = loader.endpoint_url(u.clone());
        }
        let config = loader.load().await;
        // Secret parts of credentials from the environment never reach a journal or a log.
        for var in ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"] {
            if let Ok(v) = std::env::var(var) {
                crate::redact::register(&v);
            }
        }
        if config.region().is_none() {
            return Err(AwsError::Settings(TargetSettingsError {
                target: "aws".into(),
                message:
                    "no AWS region: set AWS_REGION, a profile's region, or `region` in [targets.aws]"
                        .into(),
            }));
        }
        Ok(Ec2 {
            client: aws_sdk_ec2::Client::new(&config),
            settings,
        })
    }

    /// The SDK client, for calls this module does not wrap.
    pub fn client(&self) -> &aws_sdk_ec2::Client {
        &self.client
    }

    /// The guards and options in force.
    pub fn settings(&self) -> &Ec2Settings {
        &self.settings
    }

    /// Starts a selection of instances.
    pub fn instances(&self) -> Targets {
        Targets {
            ec2: self.clone(),
            ids: Vec::new(),
            filters: Vec::new(),
            exclusions: Vec::new(),
        }
    }
}

/// One instance, as selections and probes report it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Instance {
    /// Its id.
    pub id: String,
    /// Its state (`running`, `stopped`...).
    pub state: String,
    /// Its availability zone.
    pub availability_zone: Option<String>,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
    /// When it was launched (seconds since the epoch), which [`Select::oldest`] orders by; not
    /// serialized.
    #[serde(skip)]
    pub launched: Option<i64>,
}

impl Instance {
    fn from_sdk(i: &SdkInstance) -> Instance {
        Instance {
            id: i.instance_id().unwrap_or_default().to_owned(),
            state: i
                .state()
                .and_then(|s| s.name())
                .map(|n| n.as_str().to_owned())
                .unwrap_or_else(|| "unknown".into()),
            availability_zone: i
                .placement()
                .and_then(|p| p.availability_zone())
                .map(str::to_owned),
            tags: i
                .tags()
                .iter()
                .filter_map(|t| {
                    Some((
                        t.key()?.to_owned(),
                        t.value().unwrap_or_default().to_owned(),
                    ))
                })
                .collect(),
            launched: i.launch_time().map(|t| t.secs()),
        }
    }
}

/// The instances a run chose, and from what. Recorded in the journal's `targets`.
pub type Selection = crate::target::Selection<Instance>;

impl crate::target::Selection<Instance> {
    /// The chosen ids.
    pub fn ids(&self) -> Vec<String> {
        self.chosen.iter().map(|i| i.id.clone()).collect()
    }
}

/// A selection under construction: ids or EC2 filters, then exclusions.
#[derive(Clone, Debug)]
pub struct Targets {
    ec2: Ec2,
    ids: Vec<String>,
    filters: Vec<(String, Vec<String>)>,
    exclusions: Vec<(String, Vec<String>)>,
}

fn sdk_filter(name: &str, values: &[String]) -> Filter {
    Filter::builder()
        .name(name)
        .set_values(Some(values.to_vec()))
        .build()
}

/// Whether `i` matches the EC2 filter `name = values` (for exclusions, applied locally).
fn matches(i: &Instance, name: &str, values: &[String]) -> bool {
    let hit = |v: &str| values.iter().any(|x| x == v || (x == "*"));
    if let Some(key) = name.strip_prefix("tag:") {
        return i.tags.get(key).is_some_and(|v| hit(v));
    }
    match name {
        "tag-key" => i.tags.keys().any(|k| hit(k)),
        "instance-id" => hit(&i.id),
        "instance-state-name" => hit(&i.state),
        "availability-zone" => i.availability_zone.as_deref().is_some_and(hit),
        _ => false,
    }
}

impl Targets {
    /// Selects these instance ids.
    pub fn ids<S: Into<String>>(mut self, ids: impl IntoIterator<Item = S>) -> Self {
        self.ids.extend(ids.into_iter().map(Into::into));
        self
    }
    /// Adds an EC2 filter (`instance-state-name`, `availability-zone`, `tag:Team`, any filter
    /// DescribeInstances takes).
    pub fn filter<S: Into<String>>(
        mut self,
        name: &str,
        values: impl IntoIterator<Item = S>,
    ) -> Self {
        self.filters.push((
            name.to_owned(),
            values.into_iter().map(Into::into).collect(),
        ));
        self
    }
    /// Adds the filter `tag:KEY = value`.
    pub fn tag(self, key: &str, value: &str) -> Self {
        self.filter(&format!("tag:{key}"), [value])
    }
    /// Excludes instances matching `name = values` (applied after the filters; supports
    /// `tag:KEY`, `tag-key`, `instance-id`, `instance-state-name`, `availability-zone`).
    pub fn exclude<S: Into<String>>(
        mut self,
        name: &str,
        values: impl IntoIterator<Item = S>,
    ) -> Self {
        self.exclusions.push((
            name.to_owned(),
            values.into_iter().map(Into::into).collect(),
        ));
        self
    }
    /// Excludes instances tagged `KEY = value`.
    pub fn exclude_tag(self, key: &str, value: &str) -> Self {
        self.exclude(&format!("tag:{key}"), [value])
    }

    /// Every matching instance, over all pages, exclusions applied, sorted by id.
    pub async fn list(&self) -> Result<Vec<Instance>, AwsError> {
        let mut req = self.ec2.client.describe_instances();
        if !self.ids.is_empty() {
            req = req.set_instance_ids(Some(self.ids.clone()));
        }
        for (name, values) in &self.filters {
            req = req.filters(sdk_filter(name, values));
        }
        let mut pages = if self.ids.is_empty() {
            req.into_paginator().page_size(1000).send()
        } else {
            req.into_paginator().send()
        };
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| api_error("DescribeInstances", e))?;
            for r in page.reservations() {
                for i in r.instances() {
                    let inst = Instance::from_sdk(i);
                    if !self.exclusions.iter().any(|(n, v)| matches(&inst, n, v)) {
                        out.push(inst);
                    }
                }
            }
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    /// Chooses among the matching instances with the run's seeded generator (the same seed and
    /// the same instances give the same choice), and records the selection in the journal.
    pub async fn choose(&self, cx: &Context, select: Select) -> Result<Selection, AwsError> {
        let all = self.list().await?;
        let selection = select.choose(cx, &all, |i| i.id.clone(), |i| i.launched.unwrap_or(0));
        let query = json!({
            "ids": self.ids,
            "filters": self.filters,
            "exclusions": self.exclusions,
        });
        let id = |i: &Instance| i.id.clone();
        selection.record(cx, "aws-ec2", query, id, self.ec2.settings.dry_run);
        Ok(selection)
    }

    /// How many matching instances are in each state.
    pub async fn count_by_state(&self) -> Result<BTreeMap<String, usize>, AwsError> {
        let mut counts = BTreeMap::new();
        for i in self.list().await? {
            *counts.entry(i.state).or_insert(0) += 1;
        }
        Ok(counts)
    }

    /// Whether every matching instance is running (and at least one matches).
    pub async fn all_running(&self) -> Result<bool, AwsError> {
        let all = self.list().await?;
        Ok(!all.is_empty() && all.iter().all(|i| i.state == "running"))
    }
}

/// One instance's state change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Transition {
    /// The instance.
    pub id: String,
    /// Its state before.
    pub previous: String,
    /// Its state after the call.
    pub current: String,
}

/// What an action did.
#[derive(Clone, Debug, Serialize)]
pub struct ActionReport {
    /// `stop`, `start`, `reboot` or `terminate`.
    pub action: &'static str,
    /// The instances.
    pub ids: Vec<String>,
    /// Their state changes (empty for reboot and in dry-run).
    pub transitions: Vec<Transition>,
    /// Whether this was a dry run (nothing touched).
    pub dry_run: bool,
}

fn transitions(changes: &[InstanceStateChange]) -> Vec<Transition> {
    let name = |s: Option<&aws_sdk_ec2::types::InstanceState>| {
        s.and_then(|s| s.name())
            .map(|n| n.as_str().to_owned())
            .unwrap_or_else(|| "unknown".into())
    };
    let mut t: Vec<Transition> = changes
        .iter()
        .map(|c| Transition {
            id: c.instance_id().unwrap_or_default().to_owned(),
            previous: name(c.previous_state()),
            current: name(c.current_state()),
        })
        .collect();
    t.sort_by(|a, b| a.id.cmp(&b.id));
    t
}

/// What the run's stop actions stopped, for [`Ec2::start_stopped`], with their standby
/// records in the ledger.
#[derive(Default)]
struct Stopped {
    ids: Vec<String>,
    intents: Vec<Intent>,
}

/// The undo kind of a stop: `{"ids"}`, the instances to start again.
const UNDO_STOP: &str = "aws.ec2.start";

/// A recovery's undo of a stop: the instances still stopped (or stopping) started again, and
/// their markers removed. Guards and dry-run apply as to any start; instances that are gone
/// or terminated are left alone.
fn undo_stop(
    data: serde_json::Value,
    cx: Context,
) -> futures_util::future::BoxFuture<'static, Result<serde_json::Value, crate::BoxError>> {
    Box::pin(async move {
        let ids: Vec<String> = serde_json::from_value(data["ids"].clone())
            .map_err(|e| format!("a `{UNDO_STOP}` record needs ids: {e}: {data}"))?;
        let ec2 = ec2(&cx).await?;
        let known = ec2.instances().ids(ids.clone()).list().await?;
        let stopping: Vec<String> = known
            .iter()
            .filter(|i| i.state == "stopping")
            .map(|i| i.id.clone())
            .collect();
        if !stopping.is_empty() {
            ec2.wait_for_state(
                &stopping,
                "stopped",
                Duration::from_secs(2),
                Duration::from_secs(300),
            )
            .await?;
        }
        let known = ec2.instances().ids(ids).list().await?;
        let stopped: Vec<Instance> = known
            .iter()
            .filter(|i| i.state == "stopped")
            .cloned()
            .collect();
        ec2.guard("start", &stopped)?;
        let report = ec2
            .start_ids("start", stopped.iter().map(|i| i.id.clone()).collect())
            .await?;
        if !report.dry_run {
            let marked: Vec<String> = known
                .iter()
                .filter(|i| i.tags.contains_key(marker::TAG))
                .map(|i| i.id.clone())
                .collect();
            ec2.unmark(&marked).await?;
        }
        Ok(serde_json::to_value(report)?)
    })
}
crate::undo_kind!(UNDO_STOP, undo_stop);

/// The markers on the account's instances (tag [`marker::TAG`]).
pub(crate) async fn markers(cx: &Context) -> Result<Vec<marker::Found>, AwsError> {
    let ec2 = ec2(cx).await?;
    let marked = ec2
        .instances()
        .filter("tag-key", [marker::TAG])
        .list()
        .await?;
    let mut found = Vec::new();
    for i in marked {
        let Some(text) = i.tags.get(marker::TAG) else {
            continue;
        };
        match marker::Marker::parse(text) {
            Ok(m) => found.push(marker::Found {
                object: format!("instance {}", i.id),
                marker: m,
            }),
            Err(e) => {
                tracing::warn!(instance = %i.id, error = %e, "a recovery marker that cannot be read is left alone")
            }
        }
    }
    Ok(found)
}

impl Ec2 {
    /// Checks the guards for touching `chosen`; refuses (touching nothing) with the reason.
    fn guard(&self, action: &'static str, chosen: &[Instance]) -> Result<(), AwsError> {
        let g = Guard::new("aws", action, chosen.len(), "instance(s)");
        g.max_count("max_instances", self.settings.max_instances)?;
        for i in chosen {
            for (k, v) in &self.settings.required_tags {
                g.require(i.tags.get(k) == Some(v), || {
                    format!("instance {} lacks the required tag {k}={v}", i.id)
                })?;
            }
        }
        Ok(())
    }

    /// The report of an action that touches nothing: a dry run, or no instances chosen.
    fn untouched(&self, action: &'static str, ids: &[String]) -> Option<ActionReport> {
        touches_nothing(action, ids, self.settings.dry_run).map(|u| ActionReport {
            action: u.action,
            ids: u.targets,
            transitions: Vec::new(),
            dry_run: u.dry_run,
        })
    }

    /// Stops the chosen instances (`force` skips the OS shutdown) and remembers them for
    /// [`Ec2::start_stopped`].
    pub async fn stop(
        &self,
        cx: &Context,
        selection: &Selection,
        force: bool,
    ) -> Result<ActionReport, AwsError> {
        self.guard("stop", &selection.chosen)?;
        let ids = selection.ids();
        if let Some(r) = self.untouched("stop", &ids) {
            return Ok(r);
        }
        // Recorded before the call: in the ledger (a recovery on this machine starts them if
        // the run dies) and as a tag on each instance (one on any machine can).
        let record = UndoRecord::new(
            UNDO_STOP,
            format!("start instance(s) {}", ids.join(", ")),
            json!({ "ids": ids }),
        );
        let mark = marker::Marker::of(cx, &record, self.settings.marker_lease);
        let intent = cx.standby(record).map_err(|source| AwsError::Ledger {
            operation: format!("stop instance(s) {}", ids.join(", ")),
            source,
        })?;
        if let Some(m) = &mark {
            self.mark(&ids, m).await?;
        }
        cx.with_stash(|s: &mut Stopped| {
            s.ids.extend(ids.iter().cloned());
            s.intents.push(intent.clone());
        });
        let out = self
            .client
            .stop_instances()
            .set_instance_ids(Some(ids.clone()))
            .force(force)
            .send()
            .await
            .map_err(|e| api_error("StopInstances", e))?;
        if let Err(e) = intent.applied() {
            tracing::warn!(error = %e, "the stop is made; its ledger record is not marked applied");
        }
        Ok(ActionReport {
            action: "stop",
            ids,
            transitions: transitions(out.stopping_instances()),
            dry_run: false,
        })
    }

    /// Starts the chosen instances.
    pub async fn start(&self, selection: &Selection) -> Result<ActionReport, AwsError> {
        self.guard("start", &selection.chosen)?;
        self.start_ids("start", selection.ids()).await
    }

    async fn start_ids(
        &self,
        action: &'static str,
        ids: Vec<String>,
    ) -> Result<ActionReport, AwsError> {
        if let Some(r) = self.untouched(action, &ids) {
            return Ok(r);
        }
        let out = self
            .client
            .start_instances()
            .set_instance_ids(Some(ids.clone()))
            .send()
            .await
            .map_err(|e| api_error("StartInstances", e))?;
        Ok(ActionReport {
            action,
            ids,
            transitions: transitions(out.starting_instances()),
            dry_run: false,
        })
    }

    /// Rollback helper: starts every instance this run's stop actions stopped (nothing when
    /// none were).
    pub async fn start_stopped(&self, cx: &Context) -> Result<ActionReport, AwsError> {
        let Stopped { ids, intents } = cx.with_stash(std::mem::take::<Stopped>);
        let report = self.start_ids("start", ids.clone()).await?;
        if intents.iter().any(Intent::is_durable) {
            self.unmark(&ids).await?;
        }
        for intent in intents {
            if let Err(e) = intent.undone() {
                tracing::warn!(error = %e, "the instances are started; their ledger record is not marked undone, so a recovery would start them again");
            }
        }
        Ok(report)
    }

    /// After a start of `ids` by something other than [`Ec2::start_stopped`] (a Chaos
    /// Toolkit `start_instances`): the instances this run stopped that are started again lose
    /// their markers, and once all of them are, the stops' records are undone.
    pub(crate) async fn started_again(&self, cx: &Context, ids: &[String]) -> Result<(), AwsError> {
        let (restarted, _, intents) = cx.with_stash(|s: &mut Stopped| {
            let restarted: Vec<String> =
                s.ids.iter().filter(|i| ids.contains(i)).cloned().collect();
            s.ids.retain(|i| !ids.contains(i));
            let intents = if s.ids.is_empty() {
                std::mem::take(&mut s.intents)
            } else {
                Vec::new()
            };
            (restarted, s.ids.len(), intents)
        });
        // A run with a ledger entry marked what it stopped.
        if cx.ledger_entry().is_some() && !restarted.is_empty() {
            self.unmark(&restarted).await?;
        }
        for intent in intents {
            if let Err(e) = intent.undone() {
                tracing::warn!(error = %e, "the instances are started; their ledger record is not marked undone, so a recovery would start them again");
            }
        }
        Ok(())
    }

    /// Tags `ids` with `m`, the recovery marker of a change about to be made.
    async fn mark(&self, ids: &[String], m: &marker::Marker) -> Result<(), AwsError> {
        let tag = aws_sdk_ec2::types::Tag::builder()
            .key(marker::TAG)
            .value(m.to_text())
            .build();
        self.client
            .create_tags()
            .set_resources(Some(ids.to_vec()))
            .tags(tag)
            .send()
            .await
            .map_err(|e| api_error("CreateTags", e))?;
        Ok(())
    }

    /// Removes the recovery marker from `ids` (nothing when there are none).
    async fn unmark(&self, ids: &[String]) -> Result<(), AwsError> {
        if ids.is_empty() {
            return Ok(());
        }
        let tag = aws_sdk_ec2::types::Tag::builder().key(marker::TAG).build();
        self.client
            .delete_tags()
            .set_resources(Some(ids.to_vec()))
            .tags(tag)
            .send()
            .await
            .map_err(|e| api_error("DeleteTags", e))?;
        Ok(())
    }

    /// Reboots the chosen instances.
    pub async fn reboot(&self, selection: &Selection) -> Result<ActionReport, AwsError> {
        self.guard("reboot", &selection.chosen)?;
        let ids = selection.ids();
        if let Some(r) = self.untouched("reboot", &ids) {
            return Ok(r);
        }
        self.client
            .reboot_instances()
            .set_instance_ids(Some(ids.clone()))
            .send()
            .await
            .map_err(|e| api_error("RebootInstances", e))?;
        Ok(ActionReport {
            action: "reboot",
            ids,
            transitions: Vec::new(),
            dry_run: false,
        })
    }

    /// Terminates the chosen instances.
    pub async fn terminate(&self, selection: &Selection) -> Result<ActionReport, AwsError> {
        self.guard("terminate", &selection.chosen)?;
        let ids = selection.ids();
        if let Some(r) = self.untouched("terminate", &ids) {
            return Ok(r);
        }
        let out = self
            .client
            .terminate_instances()
            .set_instance_ids(Some(ids.clone()))
            .send()
            .await
            .map_err(|e| api_error("TerminateInstances", e))?;
        Ok(ActionReport {
            action: "terminate",
            ids,
            transitions: transitions(out.terminating_instances()),
            dry_run: false,
        })
    }

    /// The state of each of `ids`.
    pub async fn states<S: Into<String>>(
        &self,
        ids: impl IntoIterator<Item = S>,
    ) -> Result<BTreeMap<String, String>, AwsError> {
        let list = self.instances().ids(ids).list().await?;
        Ok(list.into_iter().map(|i| (i.id, i.state)).collect())
    }

    /// Waits until every one of `ids` is in `state`, polling every `every`, for at most
    /// `timeout`; returns their states.
    pub async fn wait_for_state(
        &self,
        ids: &[String],
        state: &str,
        every: Duration,
        timeout: Duration,
    ) -> Result<BTreeMap<String, String>, AwsError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let seen = self.states(ids.iter().cloned()).await?;
            if seen.len() == ids.len() && seen.values().all(|s| s == state) {
                return Ok(seen);
            }
            if tokio::time::Instant::now() + every > deadline {
                return Err(AwsError::WaitTimeout {
                    ids: ids.to_vec(),
                    state: state.to_owned(),
                    timeout,
                    seen,
                });
            }
            tokio::time::sleep(every).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusions_match_like_ec2_filters() {
        let i = Instance {
            id: "i-1".into(),
            state: "running".into(),
            availability_zone: Some("us-east-1a".into()),
            tags: [("Team".to_owned(), "web".to_owned())].into(),
            launched: None,
        };
        assert!(matches(&i, "tag:Team", &["web".into()]));
        assert!(!matches(&i, "tag:Team", &["db".into()]));
        assert!(matches(&i, "tag-key", &["Team".into()]));
        assert!(matches(&i, "availability-zone", &["us-east-1a".into()]));
        assert!(matches(
            &i,
            "instance-state-name",
            &["running".into(), "stopped".into()]
        ));
        assert!(!matches(&i, "instance-id", &["i-2".into()]));
    }
}
