//! chaostoolkit-kubernetes's functions on the Kubernetes target: the cluster the settings name
//! (`[targets.k8s]`), its guards, dry-run, ledger records and Events, with chaosk8s's argument
//! names, defaults, messages and return values.

use super::python::Args;
use crate::target::k8s::{self, K8sError};
use crate::target::Select;
use crate::Context;
use serde_json::{json, Value};
use std::time::Duration;

fn err(e: K8sError) -> String {
    e.to_string()
}

/// Runs `path` (the function a name resolves to) as called by `name`, with `args`.
pub(crate) async fn call(
    path: &str,
    name: &str,
    args: &Args<'_>,
    cx: &Context,
) -> Result<Value, String> {
    let ns = || args.str_or("ns", "default");
    match path {
        "chaosk8s.pod.actions.terminate_pods" => terminate_pods(name, args, cx).await,
        // chaosk8s counts by `status.phase` alone: a pod being deleted still counts.
        "chaosk8s.pod.probes.count_pods" => {
            let phase = args.str("phase")?.filter(|p| !p.is_empty());
            Ok(json!(count(args, cx, phase.as_deref()).await?))
        }
        "chaosk8s.pod.probes.count_min_pods" => {
            let phase = args.str_or("phase", "Running")?;
            let n = count(args, cx, Some(phase.as_str()).filter(|p| !p.is_empty())).await?;
            let min = args.int("min_count")?.unwrap_or(2);
            Ok(json!(i64::try_from(n).unwrap_or(i64::MAX) >= min))
        }
        "chaosk8s.pod.probes.pods_in_phase" | "chaosk8s.pod.probes.pods_not_in_phase" => {
            let within = path.ends_with("pods_in_phase");
            let selector = args.str_or("label_selector", "")?;
            let phase = args.str_or("phase", "Running")?;
            let raise = args.bool_or(
                if within {
                    "raise_on_invalid_phase"
                } else {
                    "raise_on_in_phase"
                },
                true,
            );
            let pods = k8s::pods(cx, &ns()?)
                .labeled(&selector)
                .list()
                .await
                .map_err(err)?;
            let fail = |why: String| if raise { Err(why) } else { Ok(json!(false)) };
            if pods.is_empty() {
                return fail(format!("no pods '{selector}' were found"));
            }
            for p in &pods {
                if within && p.phase != phase {
                    return fail(format!(
                        "pod '{selector}' is in phase '{}' but should be '{phase}'",
                        p.phase
                    ));
                }
                if !within && p.phase == phase {
                    return fail(format!("pod '{selector}' should not be in phase '{phase}'"));
                }
            }
            Ok(json!(true))
        }
        "chaosk8s.pod.probes.all_pods_healthy" => {
            let pods = k8s::pods(cx, &ns()?).list().await.map_err(err)?;
            let healthy = pods
                .iter()
                .all(|p| p.phase == "Running" || p.phase == "Succeeded");
            match (healthy, args.bool_or("raise_on_any_unhealthy", true)) {
                (true, _) => Ok(json!(true)),
                (false, true) => Err("the system is unhealthy".into()),
                (false, false) => Ok(json!(false)),
            }
        }
        "chaosk8s.pod.probes.pod_is_not_available" => {
            let pod = args.required("name")?;
            let selector = args
                .str_or("label_selector", "name in ({name})")?
                .replace("{name}", &pod);
            let pods = k8s::pods(cx, &ns()?)
                .labeled(&selector)
                .list()
                .await
                .map_err(err)?;
            let running = pods.iter().any(|p| p.phase == "Running");
            match (running, args.bool_or("raise_on_is_available", true)) {
                (false, _) => Ok(json!(true)),
                (true, true) => Err(format!("pod '{pod}' is actually running")),
                (true, false) => Ok(json!(false)),
            }
        }
        "chaosk8s.pod.probes.read_pod_logs" => {
            // chaosk8s formats the selector with the name, `None` when it is not given.
            let name = args.str("name")?.unwrap_or_else(|| "None".to_owned());
            let selector = args
                .str_or("label_selector", "name in ({name})")?
                .replace("{name}", &name);
            let mut read = k8s::LogRead::default().timestamps();
            if let Some(c) = args.str("container_name")? {
                read = read.container(&c);
            }
            if let Some(last) = args.str("last")? {
                read = read.since(since(&last).map_err(|e| format!("{}: {e}", args.f))?);
            }
            if args.bool_or("from_previous", false) {
                read = read.previous();
            }
            let pods = k8s::pods(cx, &ns()?).labeled(&selector);
            Ok(json!(pods.logs(&read).await.map_err(err)?))
        }
        "chaosk8s.pod.probes.should_be_found_in_logs" => {
            let pattern = args.required("pattern")?;
            let re = regex::Regex::new(&pattern)
                .map_err(|e| format!("{}: `pattern` is not a regular expression: {e}", args.f))?;
            let logs = match args.map.get("value") {
                Some(Value::Object(m)) if !m.is_empty() => m,
                _ => return Err("no logs to search from".into()),
            };
            let found = |v: &Value| v.as_str().is_some_and(|t| re.is_match(t));
            Ok(json!(if args.bool_or("all_containers", true) {
                logs.values().all(found)
            } else {
                logs.values().any(found)
            }))
        }
        "chaosk8s.deployment.actions.scale_deployment" => {
            let replicas = args
                .int("replicas")?
                .ok_or_else(|| format!("{}: argument `replicas` is required", args.f))?;
            let replicas = i32::try_from(replicas)
                .map_err(|_| format!("{}: {replicas} replicas is too many", args.f))?;
            let deployment = args.required("name")?;
            k8s::deployment(cx, &ns()?, &deployment)
                .scale(replicas)
                .await
                .map_err(|e| {
                    format!("failed to scale '{deployment}' to {replicas} replicas: {e}")
                })?;
            Ok(Value::Null)
        }
        "chaosk8s.deployment.actions.rollout_deployment" => {
            let deployment = args.required("name")?;
            k8s::deployment(cx, &ns()?, &deployment)
                .restart()
                .await
                .map_err(|e| {
                    format!("failed to rollout the deployment '{deployment}'! Error: {e}")
                })?;
            Ok(Value::Null)
        }
        "chaosk8s.deployment.probes.deployment_available_and_healthy"
        | "chaosk8s.deployment.probes.deployment_partially_available" => {
            let deployment = args.required("name")?;
            let partial = path.ends_with("partially_available");
            let raise = args.bool_or(
                if partial {
                    "raise_on_not_partially_available"
                } else {
                    "raise_on_unavailable"
                },
                true,
            );
            let state = match k8s::deployment(cx, &ns()?, &deployment).state().await {
                Ok(s) => s,
                Err(K8sError::Api { code: 404, .. }) => {
                    return if raise {
                        Err(format!("Deployment '{deployment}' was not found"))
                    } else {
                        Ok(json!(false))
                    }
                }
                Err(e) => return Err(err(e)),
            };
            // chaosk8s compares `available_replicas`, absent (None) at zero: a deployment
            // scaled to zero is not available and healthy.
            let ok = if partial {
                state.available >= 1
            } else {
                state.available == state.desired && state.desired > 0
            };
            match (ok, raise) {
                (true, _) => Ok(json!(true)),
                (false, true) => Err(format!("Deployment '{deployment}' is not healthy")),
                (false, false) => Ok(json!(false)),
            }
        }
        "chaosk8s.deployment.probes.deployment_fully_available"
        | "chaosk8s.deployment.probes.deployment_not_fully_available" => {
            let deployment = args.required("name")?;
            let want_ready = path.ends_with("deployment_fully_available");
            let timeout = args.number("timeout")?.unwrap_or(30.0);
            let raise = args.bool_or(
                if want_ready {
                    "raise_on_not_fully_available"
                } else {
                    "raise_on_fully_available"
                },
                true,
            );
            let d = k8s::deployment(cx, &ns()?, &deployment);
            let deadline = tokio::time::Instant::now() + Duration::from_secs_f64(timeout.max(0.0));
            loop {
                // chaosk8s watches the deployment: a missing one sends no event, so the wait
                // runs out either way.
                let ready = match d.state().await {
                    Ok(s) => Some(s.ready == s.desired && s.desired > 0),
                    Err(K8sError::Api { code: 404, .. }) => None,
                    Err(e) => return Err(err(e)),
                };
                if ready == Some(want_ready) {
                    return Ok(json!(true));
                }
                if tokio::time::Instant::now() >= deadline {
                    let why = if want_ready {
                        format!("deployment '{deployment}' failed to recover within {timeout}s")
                    } else {
                        format!(
                            "deployment '{deployment}' failed to stop running within {timeout}s"
                        )
                    };
                    return if raise { Err(why) } else { Ok(json!(false)) };
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        "chaosk8s.node.actions.cordon_node" | "chaosk8s.node.actions.uncordon_node" => {
            let nodes = node_set(args, cx)?;
            let report = if path.ends_with("uncordon_node") {
                nodes.uncordon(Select::all()).await
            } else {
                nodes.cordon(Select::all()).await
            }
            .map_err(err)?;
            Ok(json!(report.targets))
        }
        "chaosk8s.node.actions.drain_nodes" => {
            let mut nodes = node_set(args, cx)?;
            if let Some(t) = args.number("timeout")? {
                nodes = nodes.drain_timeout(Duration::from_secs_f64(t.max(0.0)));
            }
            let select = match args.int("count")? {
                Some(n) => Select::random(usize::try_from(n).unwrap_or(0)),
                None => Select::all(),
            };
            Ok(json!(nodes.drain(select).await.map_err(err)?.targets))
        }
        "chaosk8s.node.actions.delete_nodes" => {
            let mut nodes = k8s::nodes(cx);
            if let Some(sel) = args.str("label_selector")?.filter(|s| !s.is_empty()) {
                nodes = nodes.labeled(&sel);
            }
            let select = if args.bool_or("all", false) {
                Select::all()
            } else if args.bool_or("rand", false) {
                Select::random(1)
            } else {
                match args.int("count")? {
                    Some(n) if n >= 1 => Select::random(usize::try_from(n).unwrap_or(1)),
                    _ => Select::count(1).by_name(),
                }
            };
            Ok(json!(nodes.delete(select).await.map_err(err)?.targets))
        }
        "chaosk8s.node.probes.get_nodes" => {
            let mut nodes = k8s::nodes(cx);
            if let Some(sel) = args.str("label_selector")?.filter(|s| !s.is_empty()) {
                nodes = nodes.labeled(&sel);
            }
            // chaosk8s returns the API's NodeList as it came: tolerances read
            // `$.items[*].metadata.name`, `.status.conditions`...
            let items = nodes.objects().await.map_err(err)?;
            let items = serde_json::to_value(items).map_err(|e| e.to_string())?;
            Ok(json!({ "kind": "NodeList", "apiVersion": "v1", "metadata": {}, "items": items }))
        }
        "chaosk8s.node.probes.all_nodes_must_be_ready_to_schedule" => {
            let mut nodes = k8s::nodes(cx);
            if let Some(sel) = args.str("label_selector")?.filter(|s| !s.is_empty()) {
                nodes = nodes.labeled(&sel);
            }
            Ok(json!(nodes
                .list()
                .await
                .map_err(err)?
                .iter()
                .all(|n| n.ready)))
        }
        other => Err(format!("`{other}` (called as `{name}`) is not mapped here")),
    }
}

/// How many pods `label_selector` matches in `ns`, in `phase` when given.
async fn count(args: &Args<'_>, cx: &Context, phase: Option<&str>) -> Result<usize, String> {
    let pods = k8s::pods(cx, &args.str_or("ns", "default")?)
        .labeled(&args.str_or("label_selector", "")?)
        .list()
        .await
        .map_err(err)?;
    Ok(pods
        .iter()
        .filter(|p| phase.is_none_or(|ph| p.phase == ph))
        .count())
}

/// How far back `last` reaches: `"10 minutes"`, `"60s"`, `"2 hours ago"`, `"1d"` (the relative
/// phrases chaosk8s hands to `dateparser`).
fn since(last: &str) -> Result<Duration, String> {
    let t = last.trim();
    let t = t.strip_suffix("ago").unwrap_or(t).trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(digits);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("`last` must be like \"10 minutes\" or \"60s\", not {last:?}"))?;
    let secs = match unit.trim() {
        "s" | "sec" | "secs" | "second" | "seconds" => 1,
        "m" | "min" | "mins" | "minute" | "minutes" => 60,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600,
        "d" | "day" | "days" => 86_400,
        "w" | "week" | "weeks" => 604_800,
        _ => {
            return Err(format!(
                "`last` must be like \"10 minutes\" or \"60s\", not {last:?}"
            ))
        }
    };
    Ok(Duration::from_secs(n.saturating_mul(secs)))
}

/// The nodes `name` or `label_selector` name (all nodes when neither does, as chaosk8s).
fn node_set<'a>(args: &Args<'_>, cx: &'a Context) -> Result<k8s::Nodes<'a>, String> {
    let mut nodes = match args.str("name")?.filter(|n| !n.is_empty()) {
        Some(n) => k8s::node(cx, &n),
        None => k8s::nodes(cx),
    };
    if let Some(sel) = args.str("label_selector")?.filter(|s| !s.is_empty()) {
        nodes = nodes.labeled(&sel);
    }
    Ok(nodes)
}

/// `terminate_pods` (and the deprecated names that call it): the pods chosen as chaosk8s
/// chooses them, terminated; their names.
async fn terminate_pods(name: &str, args: &Args<'_>, cx: &Context) -> Result<Value, String> {
    let ns = args.str_or("ns", "default")?;
    let mut pods = k8s::pods(cx, &ns);
    let (pattern, select) = match name {
        // chaosk8s's `delete_pods(name, ns, label_selector)`: one pod named like `name`.
        "delete_pods" => (args.str("name")?, Select::count(1).by_name()),
        // `kill_microservice(name, ns, label_selector)`: every pod named like `name` (chaosk8s
        // deletes the deployment and its replica sets too; here only the pods go).
        "kill_microservice" => (args.str("name")?, Select::all()),
        _ => {
            let qty = args.int("qty")?.unwrap_or(1);
            if qty < 0 {
                return Err(format!("Cannot select pods. Quantity '{qty}' is negative."));
            }
            let mode = args.str_or("mode", "fixed")?;
            let order = args.str_or("order", "alphabetic")?;
            if !["fixed", "percentage"].contains(&mode.as_str()) {
                return Err(format!("Cannot select pods. Mode '{mode}' is invalid."));
            }
            if !["alphabetic", "oldest"].contains(&order.as_str()) {
                return Err(format!("Cannot select pods. Order '{order}' is invalid."));
            }
            let qty = usize::try_from(qty).unwrap_or(0);
            let select = if args.bool_or("all", false) {
                Select::all()
            } else {
                let amount = if mode == "percentage" {
                    Select::percent(qty as f64)
                } else {
                    Select::count(qty)
                };
                if args.bool_or("rand", false) {
                    amount
                } else if order == "oldest" {
                    amount.oldest_first()
                } else {
                    amount.by_name()
                }
            };
            (args.str("name_pattern")?, select)
        }
    };
    if let Some(sel) = args.str("label_selector")?.filter(|s| !s.is_empty()) {
        pods = pods.labeled(&sel);
    }
    if let Some(p) = pattern.filter(|p| !p.is_empty()) {
        let re =
            regex::Regex::new(&p).map_err(|e| format!("{}: name pattern {p:?}: {e}", args.f))?;
        pods = pods.name_regex(re);
    }
    if let Some(g) = args.int("grace_period")?.filter(|g| *g >= 0) {
        pods = pods.grace_period(Duration::from_secs(g.unsigned_abs()));
    }
    let report = pods.terminate(select).await.map_err(err)?;
    // chaosk8s returns the pods' names.
    let names: Vec<String> = report
        .targets
        .iter()
        .map(|t| t.rsplit('/').next().unwrap_or(t).to_owned())
        .collect();
    Ok(json!(names))
}

#[cfg(test)]
mod tests {
    use super::since;
    use std::time::Duration;

    #[test]
    fn last_reads_the_relative_phrases_chaosk8s_passes_to_dateparser() {
        for (last, secs) in [
            ("60s", 60),
            ("10 minutes", 600),
            ("1 hour ago", 3600),
            ("2d", 172_800),
            (" 3 mins ", 180),
        ] {
            assert_eq!(since(last), Ok(Duration::from_secs(secs)), "{last}");
        }
        for bad in ["yesterday", "10 parsecs", "", "-5s"] {
            let e = since(bad).expect_err(bad);
            assert!(e.contains(&format!("{bad:?}")), "{e}");
        }
    }
}
