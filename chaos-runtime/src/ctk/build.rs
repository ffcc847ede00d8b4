//! A Chaos Toolkit experiment file as an [`Experiment`], through the public builder: its
//! configuration and secrets resolved (secrets registered with the redactor), its activities
//! as probes and actions running their providers, its tolerances evaluated (method probes'
//! too: a miss is a deviation), its pauses, backgrounds, refs and runtime strategies.

use super::http::HttpCall;
use super::process::ProcessCall;
use super::substitute::Values;
use super::tolerance::{within, Verdict};
use super::validate::Inputs;
use super::{ExperimentFile, LoadError, ValidationError};
use crate::model::{Action, Activity, Experiment, Hypothesis, Probe, RollbackStrategy};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

/// What the command line of `chaos run` may change about a run, beside the file.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// The environment and the configuration values given (`--var`, `--var-file`).
    pub inputs: Inputs,
    /// `--hypothesis-strategy`, over the file's `runtime.hypothesis.strategy`.
    pub hypothesis_strategy: Option<String>,
    /// `--hypothesis-frequency`, seconds between samples (default 1).
    pub hypothesis_frequency: Option<f64>,
    /// `--fail-fast`: a missed sample stops the method.
    pub fail_fast: bool,
    /// `--rollback-strategy`, over the file's `runtime.rollbacks.strategy`.
    pub rollback_strategy: Option<String>,
    /// `--dry`: `probes`, `actions` or `activities` are not run (a probe not run is within its
    /// tolerance), `pause` skips the pauses.
    pub dry: Option<String>,
}

/// A Chaos Toolkit experiment that cannot run.
#[derive(Debug, thiserror::Error)]
pub enum CtkError {
    /// The file could not be read.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The file is not a valid experiment.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The experiment is valid but cannot be built here.
    #[error("{file}: {message}")]
    Build {
        /// The file.
        file: String,
        /// Why.
        message: String,
    },
}

/// What every activity of one experiment shares.
struct Shared {
    values: Values,
    dry: Option<String>,
    /// Method activities and steady-state probes by name, for `ref` (a probe wins).
    by_name: HashMap<String, Value>,
}

impl ExperimentFile {
    /// The experiment, named `name`, ready to run: validated first (every problem at once),
    /// then built.
    ///
    /// ```
    /// use chaos_runtime::ctk::{ExperimentFile, RunOptions};
    /// use chaos_runtime::{run::Runner, Context, Outcome};
    /// let file = ExperimentFile::from_text(
    ///     "exp.yaml".as_ref(),
    ///     "title: t\ndescription: d\nconfiguration:\n  word: hello\nsteady-state-hypothesis:\n  title: echo works\n  probes:\n  - type: probe\n    name: echo\n    tolerance: {type: regex, pattern: hello, target: stdout}\n    provider: {type: process, path: echo, arguments: [\"${word}\"]}\nmethod: []\n",
    /// )?;
    /// let exp = file.to_experiment("ctk::hello", &RunOptions::default())?;
    /// let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    /// let report = rt.block_on(Runner::new().run(&exp, Context::builder().build()));
    /// assert_eq!(report.outcome, Outcome::Passed);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_experiment(&self, name: &str, options: &RunOptions) -> Result<Experiment, CtkError> {
        self.validate_with(&options.inputs)?;
        let fail = |message: String| CtkError::Build {
            file: self.display_name(),
            message,
        };
        let root = self.to_json();
        let values = resolve(&root, &options.inputs).map_err(fail)?;
        let mut by_name = HashMap::new();
        let section = |key: &str| -> Vec<Value> {
            root.get(key)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let ssh = root
            .get("steady-state-hypothesis")
            .cloned()
            .unwrap_or(Value::Null);
        let probes: Vec<Value> = ssh
            .get("probes")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for a in section("method").iter().chain(&probes) {
            if let Some(n) = a.get("name").and_then(Value::as_str) {
                if a.get("ref").is_none() {
                    by_name.insert(n.to_owned(), a.clone());
                }
            }
        }
        if let Some(d) = &options.dry {
            if !["probes", "actions", "activities", "pause"].contains(&d.as_str()) {
                return Err(fail(format!(
                    "unknown dry mode `{d}`: probes, actions, activities or pause"
                )));
            }
        }
        let controls = control_names(&root);
        if !controls.is_empty() {
            tracing::warn!(
                file = %self.display_name(),
                "Chaos Toolkit controls are Python modules and do not run here; skipped: {}",
                controls.join(", ")
            );
        }
        let shared = Arc::new(Shared {
            values,
            dry: options.dry.clone(),
            by_name,
        });
        let title = shared
            .values
            .text(root.get("title").and_then(Value::as_str).unwrap_or(name));
        let mut definition = root.clone();
        definition["title"] = Value::String(title.clone());
        let mut b = Experiment::builder(name)
            .title(title)
            .definition(definition)
            .tags(
                root.get("tags")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str),
            );
        if let Some(d) = root.get("description").and_then(Value::as_str) {
            b = b.description(d);
        }
        let runtime = |section: &str| {
            root.pointer(&format!("/runtime/{section}/strategy"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let hypothesis = options
            .hypothesis_strategy
            .clone()
            .or_else(|| runtime("hypothesis"))
            .unwrap_or_else(|| "default".into());
        let every = Duration::from_secs_f64(
            options
                .hypothesis_frequency
                .or_else(|| {
                    root.pointer("/runtime/hypothesis/frequency")
                        .and_then(Value::as_f64)
                })
                .filter(|f| *f > 0.0 && f.is_finite())
                .unwrap_or(1.0),
        );
        let fail_fast = options.fail_fast
            || root
                .pointer("/runtime/hypothesis/fail_fast")
                .and_then(Value::as_bool)
                .unwrap_or(false);
        b = b.hypothesis(match hypothesis.as_str() {
            "before-method-only" => Hypothesis::BeforeMethodOnly,
            "after-method-only" => Hypothesis::AfterMethodOnly,
            "during-method-only" => Hypothesis::DuringMethodOnly { every, fail_fast },
            "continuously" | "continously" => Hypothesis::Continuously { every, fail_fast },
            "default" | "skip" => Hypothesis::Default,
            other => return Err(fail(format!("unknown hypothesis strategy `{other}`"))),
        });
        b = b.rollback_strategy(
            match options
                .rollback_strategy
                .clone()
                .or_else(|| runtime("rollbacks"))
                .as_deref()
                .unwrap_or("default")
            {
                "default" | "always" => RollbackStrategy::Always,
                "never" => RollbackStrategy::Never,
                "deviated" => RollbackStrategy::Deviated,
                other => return Err(fail(format!("unknown rollback strategy `{other}`"))),
            },
        );
        let mut names = HashSet::new();
        if hypothesis != "skip" {
            for p in &probes {
                b = b.steady_state(activity(p, &shared, &mut names).map_err(fail)?);
            }
        }
        for a in section("method") {
            b = b.method(activity(&a, &shared, &mut names).map_err(fail)?);
        }
        // What the file's Kubernetes functions touch, for an in-cluster Job's RBAC.
        for a in section("method")
            .iter()
            .chain(&probes)
            .chain(&section("rollbacks"))
        {
            let provider = &a["provider"];
            let (Some(module), Some(func)) =
                (provider["module"].as_str(), provider["func"].as_str())
            else {
                continue;
            };
            let Some(f) = super::functions::find(module, func) else {
                continue;
            };
            let ns = provider["arguments"]["ns"]
                .as_str()
                .map(|ns| shared.values.text(ns))
                .filter(|ns| !ns.contains('$'));
            for op in super::functions::touches(f) {
                let touch = crate::target::touches::Touch {
                    operation: *op,
                    namespace: ns.clone().filter(|_| {
                        !op.rules()
                            .iter()
                            .all(|r| r.scope == crate::target::touches::Scope::Cluster)
                    }),
                };
                b = b.touches([touch.to_string()]);
            }
        }
        for a in section("rollbacks") {
            b = b.rollback(activity(&a, &shared, &mut names).map_err(fail)?);
        }
        b.build().map_err(|e| fail(e.to_string()))
    }
}

/// The names of every control the experiment declares (its own, its hypothesis's, its
/// activities').
fn control_names(root: &Value) -> Vec<String> {
    let sections = [
        root.pointer("/steady-state-hypothesis/probes"),
        root.get("method"),
        root.get("rollbacks"),
    ];
    let activities = sections
        .into_iter()
        .flatten()
        .filter_map(Value::as_array)
        .flatten()
        .map(|a| a.get("controls"));
    let mut names: Vec<String> = [
        root.get("controls"),
        root.pointer("/steady-state-hypothesis/controls"),
    ]
    .into_iter()
    .chain(activities)
    .flatten()
    .filter_map(Value::as_array)
    .flatten()
    .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_owned))
    .collect();
    names.dedup();
    names
}

/// The configuration (over it, the `--var` values) and the secrets as placeholder values; the
/// secrets are registered with the redactor.
fn resolve(root: &Value, inputs: &Inputs) -> Result<Values, String> {
    let mut values = HashMap::new();
    if let Some(Value::Object(config)) = root.get("configuration") {
        for (k, v) in config {
            let v = inputs.vars.get(k).unwrap_or(v);
            values.insert(k.clone(), config_value(k, v, inputs)?);
        }
    }
    if let Some(Value::Object(scopes)) = root.get("secrets") {
        for scope in scopes.values() {
            let Value::Object(scope) = scope else {
                continue;
            };
            for (k, v) in scope {
                let v = match v.get("type").and_then(Value::as_str) {
                    Some("env") => {
                        let key = v.get("key").and_then(Value::as_str).unwrap_or_default();
                        Value::String(inputs.env_var(key).ok_or_else(|| {
                            format!("Secrets make reference to an environment key that does not exist: {key}")
                        })?)
                    }
                    _ => v.clone(),
                };
                if let Value::String(s) = &v {
                    crate::redact::register(s);
                }
                // The configuration wins, then the first scope.
                values.entry(k.clone()).or_insert(v);
            }
        }
    }
    Ok(Values(values))
}

/// A configuration entry's value: an `env` one read and converted (`env_var_type`).
fn config_value(key: &str, v: &Value, inputs: &Inputs) -> Result<Value, String> {
    if v.get("type").and_then(Value::as_str) != Some("env") {
        return Ok(v.clone());
    }
    let env_key = v.get("key").and_then(Value::as_str).unwrap_or_default();
    let raw = match inputs.env_var(env_key) {
        Some(s) => Value::String(s),
        None => match v.get("default") {
            Some(d) => d.clone(),
            None => {
                return Err(format!(
                    "Configuration makes reference to an environment key that does not exist: {env_key}"
                ))
            }
        },
    };
    let ty = v.get("env_var_type").and_then(Value::as_str);
    convert(ty, raw).map_err(|e| format!("configuration `{key}` ({env_key}): {e}"))
}

/// chaoslib's `convert_to_type`.
pub(crate) fn convert(ty: Option<&str>, v: Value) -> Result<Value, String> {
    let text = || match &v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Ok(match ty {
        None | Some("str" | "string") => v,
        Some("int" | "integer") => Value::from(
            text()
                .trim()
                .parse::<i64>()
                .map_err(|_| format!("`{}` is not an integer", text()))?,
        ),
        Some("float" | "number") => serde_json::Number::from_f64(
            text()
                .trim()
                .parse::<f64>()
                .map_err(|_| format!("`{}` is not a number", text()))?,
        )
        .map_or(Value::Null, Value::Number),
        Some("bool") => match &v {
            Value::Bool(b) => Value::Bool(*b),
            _ => Value::Bool(!matches!(
                text().to_lowercase().as_str(),
                "false" | "0" | "no"
            )),
        },
        Some("json") => match text().as_str() {
            "" => v,
            t => serde_json::from_str(t).map_err(|e| format!("not JSON: {e}"))?,
        },
        Some("bytes") => Value::String(text()),
        Some(other) => {
            return Err(format!(
                "variable type can only be: bool, str, int, float, bytes or json (found `{other}`)"
            ))
        }
    })
}

/// A probe's value with whether it is within its tolerance; journals show the value alone.
struct Checked {
    value: Value,
    met: bool,
}

impl serde::Serialize for Checked {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(s)
    }
}

/// The activity `def` (a `ref` resolved), named uniquely among `names`.
fn activity(
    def: &Value,
    shared: &Arc<Shared>,
    names: &mut HashSet<String>,
) -> Result<Activity, String> {
    let (body, tolerance) = match def.get("ref").and_then(Value::as_str) {
        Some(r) => {
            let target = shared.by_name.get(r).ok_or_else(|| {
                format!("referenced activity '{r}' could not be found in the experiment")
            })?;
            (target.clone(), def.get("tolerance").cloned())
        }
        None => (def.clone(), def.get("tolerance").cloned()),
    };
    let base = body
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("activity")
        .to_owned();
    let mut name = base.clone();
    let mut n = 1;
    while !names.insert(name.clone()) {
        n += 1;
        name = format!("{base} ({n})");
    }
    let provider = body.get("provider").cloned().unwrap_or(Value::Null);
    let is_probe = body.get("type").and_then(Value::as_str) == Some("probe");
    // `--dry`: the activity is not run (and a probe is within its tolerance).
    let dry = match shared.dry.as_deref() {
        Some("activities") => true,
        Some("probes") => is_probe,
        Some("actions") => !is_probe,
        _ => false,
    };
    let no_pauses = dry || shared.dry.as_deref() == Some("pause");
    let seconds = |v: Option<&Value>, what: &str| -> Result<Option<Duration>, String> {
        match v.map(|v| shared.values.apply(v)) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_f64()
                .filter(|s| *s >= 0.0 && s.is_finite())
                .map(|s| Some(Duration::from_secs_f64(s)))
                .ok_or_else(|| format!("activity `{base}`: {what} {v} is not a number of seconds")),
        }
    };
    let before = seconds(body.pointer("/pauses/before"), "pause before")?.filter(|_| !no_pauses);
    let after = seconds(body.pointer("/pauses/after"), "pause after")?.filter(|_| !no_pauses);
    let timeout = seconds(body.get("timeout"), "timeout")?.filter(|d| !d.is_zero());
    let background = body
        .get("background")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut definition = def.clone();
    if def.get("ref").is_some() {
        // A ref's journal entry is the referenced activity, with the ref's tolerance.
        definition = body.clone();
        if let Some(t) = &tolerance {
            definition["tolerance"] = t.clone();
        }
    }
    macro_rules! options {
        ($a:expr) => {{
            let mut a = $a.definition(definition);
            if let Some(d) = before {
                a = a.pause_before(d);
            }
            if let Some(d) = after {
                a = a.pause_after(d);
            }
            if let Some(d) = timeout {
                a = a.timeout(d);
            }
            if background {
                a = a.background();
            }
            a
        }};
    }
    let run_shared = shared.clone();
    let run = move |cx: crate::Context| {
        let shared = run_shared.clone();
        let provider = provider.clone();
        async move {
            if dry {
                return Ok(Value::Null);
            }
            run_provider(&provider, &shared.values, &cx).await
        }
    };
    Ok(match (is_probe, tolerance) {
        (true, Some(t)) => {
            let description = t.to_string();
            let check_shared = shared.clone();
            let probe = Probe::new(name, move |cx: crate::Context| {
                let value = run(cx.clone());
                let t = t.clone();
                let shared = check_shared.clone();
                async move {
                    let value = value.await?;
                    let met = dry || evaluate(&t, &value, &shared.values, &cx).await?;
                    Ok::<_, crate::BoxError>(Checked { value, met })
                }
            })
            .tolerance(description, |c: &Checked| c.met);
            options!(probe).into()
        }
        (true, None) => {
            let probe = Probe::new(name, move |cx| {
                let value = run(cx);
                async move { value.await.map_err(crate::BoxError::from) }
            });
            options!(probe).into()
        }
        (false, _) => {
            let action = Action::new(name, move |cx| {
                let value = run(cx);
                async move { value.await.map_err(crate::BoxError::from) }
            });
            options!(action).into()
        }
    })
}

/// Whether `value` is within `tolerance` (its placeholders replaced first, as chaoslib does).
async fn evaluate(
    tolerance: &Value,
    value: &Value,
    values: &Values,
    cx: &crate::Context,
) -> Result<bool, String> {
    let t = match tolerance {
        Value::String(s) => values.string(s),
        Value::Object(m) => {
            let mut m = m.clone();
            for key in ["pattern", "path", "expect"] {
                if let Some(v) = m.get(key).map(|v| values.apply(v)) {
                    m.insert(key.into(), v);
                }
            }
            Value::Object(m)
        }
        other => other.clone(),
    };
    match within(&t, value)
        .map_err(|e| format!("the tolerance {tolerance} cannot be evaluated: {e}"))?
    {
        Verdict::Met(m) => Ok(m),
        Verdict::Probe(probe) => {
            let provider = probe.get("provider").cloned().unwrap_or(Value::Null);
            Ok(match Box::pin(run_provider(&provider, values, cx)).await {
                Ok(v) => truthy(&v),
                Err(e) => {
                    tracing::debug!(error = %e, "the tolerance probe failed: not within the tolerance");
                    false
                }
            })
        }
    }
}

/// Python's `bool()` of a value.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => !m.is_empty(),
    }
}

/// Runs a provider: `http`, `process`, or a `python` function with a native equivalent.
async fn run_provider(
    provider: &Value,
    values: &Values,
    cx: &crate::Context,
) -> Result<Value, String> {
    let Value::Object(p) = provider else {
        return Err("the activity has no provider".into());
    };
    let mut p: Map<String, Value> = p.clone();
    let substitute_args = !values.0.is_empty();
    let sub = |p: &mut Map<String, Value>, key: &str| {
        if let Some(v) = p.get(key).map(|v| values.apply(v)) {
            p.insert(key.to_owned(), v);
        }
    };
    if substitute_args {
        sub(&mut p, "arguments");
    }
    match p.get("type").and_then(Value::as_str) {
        Some("http") => {
            for key in ["url", "headers", "timeout"] {
                sub(&mut p, key);
            }
            HttpCall::from_provider(&p)?.send().await
        }
        Some("process") => ProcessCall::from_provider(&p)?.run().await,
        Some("python") => {
            let module = p.get("module").and_then(Value::as_str).unwrap_or_default();
            let func = p.get("func").and_then(Value::as_str).unwrap_or_default();
            let args = match p.get("arguments") {
                Some(Value::Object(a)) => a.clone(),
                _ => Map::new(),
            };
            super::python::call(module, func, &args, cx).await
        }
        other => Err(format!("unknown provider type {other:?}")),
    }
}

#[cfg(test)]
mod tests;
