//! `<harness> --catalogue`: a machine-readable listing of this harness's experiments, for tools
//! and dashboards: each experiment's name, title, tags, where it is defined, its activities
//! with their tolerances, its window and interval, what it touches in a cluster and the cargo
//! feature that needs, what it expects; the cargo features the harness was built with; and the JSON Schema of the settings file with an example.
//! (`--list` stays libtest's, as nextest reads it.)

use crate::harness::Spec;
use chaos_runtime::settings::{json_schema, Settings, EXAMPLE};
use chaos_runtime::Experiment;
use serde_json::{json, Value};
use std::process::ExitCode;

/// The flag that makes a harness binary print its catalogue.
pub(crate) const CATALOGUE_FLAG: &str = "--catalogue";
/// The flag that prints the settings file's JSON Schema alone.
pub(crate) const SCHEMA_FLAG: &str = "--settings-schema";

/// The cargo features of `chaos-harness` this binary was built with.
fn features() -> Vec<&'static str> {
    let mut f = Vec::new();
    if cfg!(feature = "k8s") {
        f.push("k8s");
    }
    if cfg!(feature = "aws") {
        f.push("aws");
    }
    if cfg!(feature = "proxy") {
        f.push("proxy");
    }
    f
}

fn activities(exp: &Experiment) -> Vec<Value> {
    let phases = [
        ("steady_state", exp.steady_state()),
        ("method", exp.method()),
        ("rollbacks", exp.rollbacks()),
    ];
    let mut out = Vec::new();
    for (phase, list) in phases {
        for a in list {
            let mut v = a.to_json();
            if let Some(m) = v.as_object_mut() {
                m.insert("phase".into(), json!(phase));
            }
            out.push(v);
        }
    }
    out
}

/// One experiment's entry.
fn entry(spec: &Spec, settings: &Settings) -> Value {
    let mut v = json!({ "name": spec.name() });
    match spec {
        Spec::Rust(reg) => {
            v["source"] = json!({ "kind": "rust", "file": reg.file, "line": reg.line });
            v["ignored"] = json!(reg.ignore);
            v["expect"] = json!(reg.expect.as_str());
            v["snapshot"] = json!(reg.snapshot);
        }
        Spec::File(f) | Spec::Command(f, _) => {
            v["source"] = json!({ "kind": "chaostoolkit", "file": f.path.display().to_string() });
            v["ignored"] = json!(f.ignored.then_some(""));
            v["expect"] = json!("passed");
            v["snapshot"] = json!(false);
        }
    }
    let rules = spec.rules(settings);
    v["window"] = json!(rules.window.as_ref().map(|w| w.to_string()));
    v["min_interval_seconds"] = json!(rules.min_interval.map(|i| i.as_secs()));
    match spec.build(settings) {
        Ok(exp) => {
            v["window_source"] = json!(match exp.window() {
                chaos_runtime::schedule::RunWindow::Default
                    if settings.schedule.window.is_some() =>
                    "settings",
                chaos_runtime::schedule::RunWindow::Default => "none",
                chaos_runtime::schedule::RunWindow::Always => "always",
                chaos_runtime::schedule::RunWindow::Own(_) => "own",
            });
            v["title"] = json!(exp.title());
            v["description"] = exp.to_json()["description"].clone();
            v["tags"] = json!(exp.tags());
            v["hypothesis"] = json!(exp.hypothesis().name());
            v["rollback_strategy"] = json!(exp.rollback_strategy().name());
            v["timeout_seconds"] = json!(exp.timeout().map(|t| t.as_secs_f64()));
            v["group"] = json!(exp.concurrency().group());
            v["parallel"] = json!(exp.concurrency().group().is_none());
            v["weight"] = json!(exp.weight());
            v["activities"] = json!(activities(&exp));
            let touches: Vec<String> = exp.touches().iter().map(|t| t.to_string()).collect();
            // What it needs built in: the Kubernetes target for what it declares it touches.
            v["features"] = json!(if touches.is_empty() {
                vec![]
            } else {
                vec!["k8s"]
            });
            v["touches"] = json!(touches);
        }
        Err(e) => v["error"] = json!(e),
    }
    v
}

/// The catalogue of `specs`.
pub(crate) fn catalogue(specs: &[Spec], target: &str, settings: &Settings) -> Value {
    json!({
        "harness": target,
        "chaos_harness_version": env!("CARGO_PKG_VERSION"),
        "features": features(),
        "experiments": specs.iter().map(|s| entry(s, settings)).collect::<Vec<_>>(),
        "settings": {
            "file": settings.path.as_ref().map(|p| p.display().to_string()),
            "schema": json_schema(),
            "example": EXAMPLE,
        },
    })
}

/// Prints the catalogue (or with `schema_only` the settings' JSON Schema) as JSON.
pub(crate) fn run(
    specs: &[Spec],
    target: &str,
    settings: &Settings,
    schema_only: bool,
) -> ExitCode {
    let v = if schema_only {
        json_schema()
    } else {
        catalogue(specs, target, settings)
    };
    match serde_json::to_string_pretty(&v) {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: the catalogue as JSON: {e}");
            ExitCode::from(101)
        }
    }
}
