//! chaostoolkit-aws's EC2 functions on the EC2 target: the account and region the settings
//! and the AWS chain give (`[targets.aws]`, `AWS_REGION`...), its guards, dry-run, ledger
//! records and tags, with chaosaws's argument names and values shaped as boto3's responses.

use super::python::Args;
use crate::target::aws::{self, ActionReport, AwsError, Instance, Targets, Transition};
use crate::target::Select;
use crate::Context;
use serde_json::{json, Value};

fn err(e: AwsError) -> String {
    e.to_string()
}

/// boto3's state code of an instance state name.
fn code(state: &str) -> u16 {
    match state {
        "pending" => 0,
        "running" => 16,
        "shutting-down" => 32,
        "terminated" => 48,
        "stopping" => 64,
        "stopped" => 80,
        _ => 0,
    }
}

fn change(t: &Transition) -> Value {
    json!({
        "InstanceId": t.id,
        "CurrentState": { "Code": code(&t.current), "Name": t.current },
        "PreviousState": { "Code": code(&t.previous), "Name": t.previous },
    })
}

/// An instance as `describe_instances` gives it.
fn described(i: &Instance) -> Value {
    json!({
        "InstanceId": i.id,
        "State": { "Code": code(&i.state), "Name": i.state },
        "Placement": { "AvailabilityZone": i.availability_zone },
        "Tags": i.tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>(),
    })
}

/// The instances `instance_id`/`instance_ids`, or else `filters` (boto3's `[{Name, Values}]`)
/// and `az`; `None` when none is given.
fn targets(ec2: &aws::Ec2, args: &Args<'_>) -> Result<Option<Targets>, String> {
    let mut ids: Vec<String> = Vec::new();
    if let Some(id) = args.str("instance_id")? {
        ids.push(id);
    }
    if let Some(v) = args.map.get("instance_ids").filter(|v| !v.is_null()) {
        let list = v
            .as_array()
            .ok_or_else(|| format!("{}: argument `instance_ids` must be a list of ids", args.f))?;
        for i in list {
            ids.push(
                i.as_str()
                    .ok_or_else(|| format!("{}: an instance id must be a string, not {i}", args.f))?
                    .to_owned(),
            );
        }
    }
    if !ids.is_empty() {
        return Ok(Some(ec2.instances().ids(ids)));
    }
    let mut t = ec2.instances();
    let mut any = false;
    if let Some(f) = args.map.get("filters").filter(|v| !v.is_null()) {
        let list = f.as_array().ok_or_else(|| {
            format!(
                "{}: argument `filters` must be a list of {{Name, Values}}",
                args.f
            )
        })?;
        for filter in list {
            let name = filter
                .get("Name")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("{}: a filter needs `Name`: {filter}", args.f))?;
            let values: Vec<String> = filter
                .get("Values")
                .and_then(Value::as_array)
                .ok_or_else(|| format!("{}: a filter needs `Values`: {filter}", args.f))?
                .iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                .collect();
            t = t.filter(name, values);
            any = true;
        }
    }
    if let Some(az) = args.str("az")?.filter(|a| !a.is_empty()) {
        t = t.filter("availability-zone", [az]);
        any = true;
    }
    Ok(any.then_some(t))
}

/// Runs `path` (the function a name resolves to) with `args`.
pub(crate) async fn call(path: &str, args: &Args<'_>, cx: &Context) -> Result<Value, String> {
    let ec2 = aws::ec2(cx).await.map_err(err)?;
    let name = path.rsplit('.').next().unwrap_or(path);
    let none = |what: &str| {
        match name {
        "stop_instance" => format!("To stop an EC2 instance, you must specify either the instance id, an AZ to pick a random instance from, or a set of {what}."),
        "stop_instances" => format!("To stop EC2 instances, you must specify either the instance ids, an AZ to pick random instances from, or a set of {what}."),
        "terminate_instance" => "To terminate an EC2, you must specify the instance-id, an Availability Zone, or provide a set of filters".to_owned(),
        "terminate_instances" => "To terminate instances, you must specify the instance-id, an Availability Zone, or provide a set of filters".to_owned(),
        "start_instances" => "To start instances, you must specify the instance-id, an Availability Zone, or provide a set of filters".to_owned(),
        "restart_instances" => "To restart instances, you must specify the instance-id, an Availability Zone, or provide a set of filters".to_owned(),
        "instance_state" => "Probe \"instance_state\" missing required parameter \"instance_ids\" or \"filters\"".to_owned(),
        _ => format!("{}: give `filters`", args.f),
    }
    };
    let Some(t) = targets(&ec2, args)? else {
        return Err(none("filters"));
    };
    let single = matches!(name, "stop_instance" | "terminate_instance")
        && args.str("instance_id")?.is_none();
    let select = if single {
        Select::random(1)
    } else {
        Select::all()
    };
    let response = |key: &str, r: &ActionReport| json!([{ key: r.transitions.iter().map(change).collect::<Vec<_>>() }]);
    match name {
        "stop_instance"
        | "stop_instances"
        | "terminate_instance"
        | "terminate_instances"
        | "start_instances"
        | "restart_instances" => {
            let selection = t.choose(cx, select).await.map_err(err)?;
            if selection.chosen.is_empty() {
                return Err(match name {
                    "stop_instance" | "stop_instances" => format!(
                        "No instances in availability zone: {}",
                        args.str("az")?.unwrap_or_else(|| "None".into())
                    ),
                    _ => "No instances found matching filters".to_owned(),
                });
            }
            Ok(match name {
                "stop_instance" | "stop_instances" => {
                    let r = ec2
                        .stop(cx, &selection, args.bool_or("force", false))
                        .await
                        .map_err(err)?;
                    response("StoppingInstances", &r)
                }
                "terminate_instance" | "terminate_instances" => {
                    let r = ec2.terminate(&selection).await.map_err(err)?;
                    response("TerminatingInstances", &r)
                }
                "start_instances" => {
                    let r = ec2.start(&selection).await.map_err(err)?;
                    ec2.started_again(cx, &r.ids).await.map_err(err)?;
                    json!(r.transitions.iter().map(change).collect::<Vec<_>>())
                }
                _ => {
                    ec2.reboot(&selection).await.map_err(err)?;
                    json!([])
                }
            })
        }
        "describe_instances" => {
            let all = t.list().await.map_err(err)?;
            // One reservation per instance (chaosaws passes boto3's grouping through).
            Ok(
                json!({ "Reservations": all.iter().map(|i| json!({ "Instances": [described(i)] })).collect::<Vec<_>>() }),
            )
        }
        "count_instances" => Ok(json!(t.list().await.map_err(err)?.len())),
        "count_min_instances" => {
            let n = t.list().await.map_err(err)?.len();
            Ok(json!(
                i64::try_from(n).unwrap_or(i64::MAX) >= args.int("min_count")?.unwrap_or(0)
            ))
        }
        "instance_state" => {
            let state = args.required("state")?;
            let all = t.list().await.map_err(err)?;
            if all.is_empty() {
                return Err(format!("{}: no instance matches", args.f));
            }
            Ok(json!(all.iter().all(|i| i.state == state)))
        }
        other => Err(format!("`{other}` is not mapped here")),
    }
}
