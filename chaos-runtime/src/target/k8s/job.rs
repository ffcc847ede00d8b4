//! In a Job that `--k8s-manifests` rendered, each run's verdict is left in the cluster: a
//! result ConfigMap (the outcome, the findings and the journal; owned by the Job, so it goes
//! with it), a line in the Job's summary ConfigMap (`<job>-summary`, which every pod of a
//! sharded Job adds to) and an Event on the Job. The Job itself completes or fails with the harness's exit
//! code. The Job's identity comes from the downward API (`CHAOS_K8S_JOB`, ...), the cluster
//! is the pod's own (the in-cluster configuration).

use super::in_cluster;
use crate::extend::{Extension, Observer};
use crate::outcome::Outcome;
use k8s_openapi::api::core::v1::{ConfigMap, ObjectReference};
use k8s_openapi::api::events::v1::Event;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, OwnerReference};
use kube::api::{Api, PostParams};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The label of a result ConfigMap: the Job's name (see also its `.../outcome` and
/// `.../experiment` labels).
pub const RESULT_LABEL: &str = "chaos-harness.dev/job";

/// How long writing one run's results may take.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// Largest journal kept in a result ConfigMap (a ConfigMap holds at most 1 MiB).
const MAX_JOURNAL: usize = 900 * 1024;

/// The Job this harness runs in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobIdentity {
    /// The Job's name.
    pub name: String,
    /// Its uid, when the downward API gave it.
    pub uid: Option<String>,
    /// Its namespace.
    pub namespace: String,
    /// The pod's name.
    pub pod: Option<String>,
}

impl JobIdentity {
    /// The Job from `CHAOS_K8S_JOB`, `CHAOS_K8S_JOB_UID`, `CHAOS_K8S_NAMESPACE` and
    /// `CHAOS_K8S_POD`; `None` outside such a Job (no `CHAOS_K8S_JOB`).
    pub fn from_env() -> Option<JobIdentity> {
        let name = crate::env::var(crate::env::K8S_JOB)?;
        let namespace = crate::env::var(crate::env::K8S_NAMESPACE)
            .or_else(|| {
                std::fs::read_to_string(in_cluster::service_account_dir().join("namespace"))
                    .ok()
                    .map(|n| n.trim().to_owned())
            })
            .unwrap_or_else(|| "default".into());
        Some(JobIdentity {
            name,
            uid: crate::env::var(crate::env::K8S_JOB_UID),
            namespace,
            pod: crate::env::var(crate::env::K8S_POD),
        })
    }

    /// The Job as the owner of what a run leaves (deleted with it), when its uid is known.
    fn owner(&self) -> Option<Vec<OwnerReference>> {
        self.uid.clone().map(|uid| {
            vec![OwnerReference {
                api_version: "batch/v1".into(),
                kind: "Job".into(),
                name: self.name.clone(),
                uid,
                ..OwnerReference::default()
            }]
        })
    }

    fn reference(&self) -> ObjectReference {
        ObjectReference {
            api_version: Some("batch/v1".into()),
            kind: Some("Job".into()),
            name: Some(self.name.clone()),
            namespace: Some(self.namespace.clone()),
            uid: self.uid.clone(),
            ..ObjectReference::default()
        }
    }
}

/// A label value from `s`: at most 63 characters of letters, digits, `-`, `_` and `.`,
/// starting and ending with a letter or digit.
fn label_value(s: &str) -> String {
    let v: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let v: String = v
        .chars()
        .rev()
        .take(63)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    v.trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_owned()
}

/// `ChaosPassed`, `ChaosDeviated`...: the Event's reason for an outcome.
fn reason(outcome: &str) -> String {
    let camel: String = outcome
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    format!("Chaos{camel}")
}

/// The result ConfigMap of the run `journal` records.
fn result_config_map(job: &JobIdentity, journal: &Value) -> ConfigMap {
    let run = crate::history::Run::from_journal(journal, None, None);
    let mut text = serde_json::to_string_pretty(journal).unwrap_or_default();
    if text.len() > MAX_JOURNAL {
        let mut cut = MAX_JOURNAL;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("\n... (cut: the journal is larger than a ConfigMap holds)\n");
    }
    let labels = BTreeMap::from([
        (RESULT_LABEL.to_owned(), label_value(&job.name)),
        (
            "chaos-harness.dev/outcome".to_owned(),
            label_value(&run.outcome),
        ),
        (
            "chaos-harness.dev/experiment".to_owned(),
            label_value(&run.experiment),
        ),
    ]);
    let mut data = BTreeMap::from([
        ("experiment".to_owned(), run.experiment.clone()),
        ("outcome".to_owned(), run.outcome.clone()),
        ("start".to_owned(), run.start.clone()),
        ("findings".to_owned(), run.findings.join("\n")),
        ("journal.json".to_owned(), text),
    ]);
    if let Some(seed) = run.seed {
        data.insert("seed".to_owned(), seed.to_string());
    }
    if let Some(pod) = &job.pod {
        data.insert("pod".to_owned(), pod.clone());
    }
    ConfigMap {
        metadata: ObjectMeta {
            generate_name: Some(format!(
                "{}-",
                job.name.chars().take(200).collect::<String>()
            )),
            namespace: Some(job.namespace.clone()),
            labels: Some(labels),
            annotations: Some(BTreeMap::from([(
                "chaos-harness.dev/experiment".to_owned(),
                run.experiment.clone(),
            )])),
            owner_references: job.owner(),
            ..ObjectMeta::default()
        },
        data: Some(data),
        ..ConfigMap::default()
    }
}

/// The Event on the Job for the run `journal` records, naming its result ConfigMap.
fn verdict_event(job: &JobIdentity, journal: &Value, result: Option<&str>) -> Event {
    let run = crate::history::Run::from_journal(journal, None, None);
    let passed = run.outcome == Outcome::Passed.as_str();
    let mut note = format!("experiment {} ended {}", run.experiment, run.outcome);
    if let Some(first) = run.findings.first() {
        note.push_str(&format!(": {first}"));
    }
    if let Some(r) = result {
        note.push_str(&format!(" (result: configmap/{r})"));
    }
    let note: String = note.chars().take(1024).collect();
    let now = k8s_openapi::jiff::Timestamp::now();
    Event {
        metadata: ObjectMeta {
            generate_name: Some(format!(
                "{}.",
                job.name.chars().take(200).collect::<String>()
            )),
            namespace: Some(job.namespace.clone()),
            ..ObjectMeta::default()
        },
        event_time: Some(MicroTime(now)),
        reporting_controller: Some(super::REPORTING_CONTROLLER.into()),
        reporting_instance: Some(
            job.pod
                .clone()
                .unwrap_or_else(|| format!("chaos-harness-{}", std::process::id())),
        ),
        action: Some("Verdict".into()),
        reason: Some(reason(&run.outcome)),
        type_: Some(if passed { "Normal" } else { "Warning" }.into()),
        regarding: Some(job.reference()),
        note: Some(crate::redact::redact(&note).into_owned()),
        ..Event::default()
    }
}

async fn write(job: &JobIdentity, journal: &Value) -> Result<String, String> {
    let config = kube::Config::from_custom_kubeconfig(
        in_cluster::kubeconfig().map_err(|e| e.to_string())?,
        &kube::config::KubeConfigOptions::default(),
    )
    .await
    .map_err(|e| format!("in-cluster: {}", crate::error::error_chain(&e)))?;
    let client = kube::Client::try_from(config).map_err(|e| e.to_string())?;
    let pp = PostParams::default();
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), &job.namespace);
    let created = cms
        .create(&pp, &result_config_map(job, journal))
        .await
        .map_err(|e| format!("the result ConfigMap: {e}"))?;
    let name = created.metadata.name.unwrap_or_default();
    summarize(&cms, job, journal, &name).await?;
    let events: Api<Event> = Api::namespaced(client, &job.namespace);
    events
        .create(&pp, &verdict_event(job, journal, Some(&name)))
        .await
        .map_err(|e| format!("the Event on job/{}: {e}", job.name))?;
    Ok(name)
}

/// A ConfigMap key for `experiment`: `k8s::kill` → `k8s__kill`.
fn summary_key(experiment: &str) -> String {
    experiment
        .replace("::", "__")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-._".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(253)
        .collect()
}

/// Adds this run to the Job's summary, the ConfigMap `<job>-summary` (one key per experiment:
/// its outcome and its result): every pod of a sharded Job adds its own, read-modify-write
/// with the resourceVersion as precondition, retried on a conflict, so that none is lost.
async fn summarize(
    cms: &Api<ConfigMap>,
    job: &JobIdentity,
    journal: &Value,
    result: &str,
) -> Result<(), String> {
    let run = crate::history::Run::from_journal(journal, None, None);
    let name = format!("{}-summary", job.name.chars().take(240).collect::<String>());
    let key = summary_key(&run.experiment);
    let mut line = format!("{} (configmap/{result}", run.outcome);
    if let Some(pod) = &job.pod {
        line.push_str(&format!(", pod {pod}"));
    }
    line.push(')');
    let pp = PostParams::default();
    for _ in 0..20 {
        let existing = cms
            .get_opt(&name)
            .await
            .map_err(|e| format!("the summary configmap/{name}: {e}"))?;
        let written = match existing {
            None => {
                let cm = ConfigMap {
                    metadata: ObjectMeta {
                        name: Some(name.clone()),
                        namespace: Some(job.namespace.clone()),
                        labels: Some(BTreeMap::from([(
                            RESULT_LABEL.to_owned(),
                            label_value(&job.name),
                        )])),
                        owner_references: job.owner(),
                        ..ObjectMeta::default()
                    },
                    data: Some(BTreeMap::from([(key.clone(), line.clone())])),
                    ..ConfigMap::default()
                };
                cms.create(&pp, &cm).await.map(drop)
            }
            Some(mut cm) => {
                cm.data
                    .get_or_insert_with(BTreeMap::new)
                    .insert(key.clone(), line.clone());
                cms.replace(&name, &pp, &cm).await.map(drop)
            }
        };
        match written {
            Ok(()) => return Ok(()),
            // Another pod wrote it first: read it again.
            Err(kube::Error::Api(e)) if e.code == 409 => continue,
            Err(e) => return Err(format!("the summary configmap/{name}: {e}")),
        }
    }
    Err(format!(
        "the summary configmap/{name}: still conflicting after 20 attempts"
    ))
}

/// The observer that leaves each run's verdict in the cluster when the harness runs in a Job
/// that `--k8s-manifests` rendered (`CHAOS_K8S_JOB` is set); elsewhere it does nothing. A
/// write that fails is logged; the verdict (and the exit code) do not change.
#[derive(Clone, Copy, Debug, Default)]
pub struct JobResults;

impl Observer for JobResults {
    fn name(&self) -> &str {
        "k8s-job-results"
    }

    fn journal(&self, journal: &Value, _path: &Path) {
        let Some(job) = JobIdentity::from_env() else {
            return;
        };
        let rt = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                tracing::warn!("the run's results are not in the cluster: {e}");
                return;
            }
        };
        // The timeout is made inside the runtime: its timer needs one.
        match rt.block_on(async { tokio::time::timeout(WRITE_TIMEOUT, write(&job, journal)).await })
        {
            Ok(Ok(name)) => tracing::info!(configmap = name, job = job.name, "result written"),
            Ok(Err(e)) => tracing::warn!(
                job = job.name,
                "the run's results are not in the cluster: {e}"
            ),
            Err(_) => tracing::warn!(
                job = job.name,
                "the run's results are not in the cluster: no answer within {}",
                crate::time::human(WRITE_TIMEOUT)
            ),
        }
    }
}

impl Extension for JobResults {
    fn name(&self) -> &str {
        "k8s-job-results"
    }

    fn observers(&self) -> Vec<Arc<dyn Observer>> {
        vec![Arc::new(JobResults)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_are_labelled_and_events_name_the_outcome() {
        let job = JobIdentity {
            name: "chaos-shop".into(),
            uid: Some("u-1".into()),
            namespace: "chaos".into(),
            pod: Some("chaos-shop-x".into()),
        };
        let journal = serde_json::json!({
            "name": "shop::latency", "outcome": "deviated", "start": "2026-12-07T09:00:00+00:00",
            "seed": 7, "steady_states": {}, "run": [], "rollbacks": [], "experiment": {}
        });
        let cm = result_config_map(&job, &journal);
        let labels = cm.metadata.labels.unwrap();
        assert_eq!(labels["chaos-harness.dev/outcome"], "deviated");
        assert_eq!(labels["chaos-harness.dev/experiment"], "shop__latency");
        assert_eq!(cm.metadata.owner_references.unwrap()[0].uid, "u-1");
        let data = cm.data.unwrap();
        assert_eq!(
            (data["outcome"].as_str(), data["seed"].as_str()),
            ("deviated", "7")
        );
        let ev = verdict_event(&job, &journal, Some("chaos-shop-abcde"));
        assert_eq!(ev.reason.as_deref(), Some("ChaosDeviated"));
        assert_eq!(ev.type_.as_deref(), Some("Warning"));
        assert_eq!(
            ev.note.as_deref(),
            Some("experiment shop::latency ended deviated (result: configmap/chaos-shop-abcde)")
        );
        assert_eq!(reason("baseline-not-met"), "ChaosBaselineNotMet");
        assert_eq!(label_value(&"x".repeat(70)).len(), 63);
        assert_eq!(summary_key("k8s::kill pods"), "k8s__kill_pods");
    }
}
