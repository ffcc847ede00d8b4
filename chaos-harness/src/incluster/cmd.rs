//! `<harness> --k8s-manifests`: the manifests of the Job that runs this harness in a cluster,
//! as YAML on stdout (pipe them to `kubectl apply -f -`).

use super::manifests::{pod_settings, render, JobSpec, Schedule};
use super::yaml;
use crate::harness::Spec;
use chaos_runtime::settings::Settings;
use chaos_runtime::target::touches::Touch;
use clap::{value_parser, Arg, ArgMatches, Command};
use std::process::ExitCode;

/// The flag that makes a harness binary print its Job's manifests.
pub(crate) const MANIFESTS_FLAG: &str = "--k8s-manifests";

/// The flags that describe the Job (shared with `--plan --format cronjob`).
pub(crate) fn job_args(cmd: Command, image_required: bool) -> Command {
    cmd.arg(
        Arg::new("image")
            .long("image")
            .value_name("IMAGE")
            .required(image_required)
            .help("the container image that holds this harness binary"),
    )
    .arg(
        Arg::new("binary")
            .long("binary")
            .value_name("PATH")
            .help("the harness binary's path in the image (default: /usr/local/bin/<test target>)"),
    )
    .arg(
        Arg::new("namespace")
            .long("namespace")
            .value_name("NS")
            .default_value("chaos")
            .help("where the Job, its ServiceAccount and its results live"),
    )
    .arg(
        Arg::new("target-namespace")
            .long("target-namespace")
            .value_name("NS")
            .help("the namespace of touches that name none (default: [targets.k8s] namespace, else default)"),
    )
    .arg(
        Arg::new("name")
            .long("name")
            .value_name("NAME")
            .help("the Job's name (default: chaos-<test target>)"),
    )
    .arg(
        Arg::new("deadline")
            .long("deadline")
            .value_name("DURATION")
            .default_value("1h")
            .help("the Job's activeDeadlineSeconds, as 30m or 2h"),
    )
    .arg(
        Arg::new("shards")
            .long("shards")
            .value_name("N")
            .value_parser(value_parser!(u32).range(1..=100))
            .default_value("1")
            .help("an Indexed Job of N pods, each running one partition of the experiments"),
    )
}

fn command() -> Command {
    job_args(
        Command::new(MANIFESTS_FLAG)
            .about("Renders the manifests that run this harness as a Kubernetes Job")
            .no_binary_name(true),
        true,
    )
    .arg(
        Arg::new("schedule")
            .long("schedule")
            .value_name("CRON")
            .help("a CronJob on this schedule (five fields) instead of a Job"),
    )
    .arg(
        Arg::new("time-zone")
            .long("time-zone")
            .value_name("ZONE")
            .default_value("UTC")
            .help("the IANA zone the schedule is read in"),
    )
}

/// A DNS-1123 name from `s`: lowercase letters, digits and `-`, at most 52 characters (room
/// for the suffixes Kubernetes adds to a CronJob's Jobs and a Job's pods).
pub(crate) fn dns_name(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    while out.contains("--") {
        out = out.replace("--", "-");
    }
    let out = out.trim_matches('-').chars().take(52).collect::<String>();
    out.trim_end_matches('-').to_owned()
}

/// The Job of `specs` as `m` describes it.
pub(crate) fn job_spec(
    m: &ArgMatches,
    specs: &[&Spec],
    target: &str,
    settings: &Settings,
    schedules: Vec<Schedule>,
) -> Result<JobSpec, String> {
    let text = match &settings.path {
        Some(p) => std::fs::read_to_string(p)
            .map_err(|e| format!("the settings file {}: {e}", p.display()))?,
        None => String::new(),
    };
    let target_namespace = m
        .get_one::<String>("target-namespace")
        .cloned()
        .or_else(|| {
            settings
                .targets
                .get("k8s")
                .and_then(|k| k.get("namespace"))
                .and_then(|n| n.as_str())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "default".to_owned());
    let mut touches: Vec<Touch> = Vec::new();
    for spec in specs {
        match spec.build(settings) {
            Ok(exp) => touches.extend(exp.touches().iter().cloned()),
            Err(e) => return Err(format!("{}: {e}", spec.name())),
        }
    }
    touches.sort();
    touches.dedup();
    let deadline = m.get_one::<String>("deadline").map_or("1h", String::as_str);
    let deadline = chaos_runtime::settings::parse_duration(deadline)
        .map_err(|e| format!("--deadline: {e}"))?;
    let settings_text =
        pod_settings(&text, &target_namespace).map_err(|e| match &settings.path {
            Some(p) => format!("the settings file {}: {e}", p.display()),
            None => e,
        })?;
    Ok(JobSpec {
        name: m
            .get_one::<String>("name")
            .cloned()
            .unwrap_or_else(|| dns_name(&format!("chaos-{target}"))),
        namespace: m
            .get_one::<String>("namespace")
            .cloned()
            .unwrap_or_else(|| "chaos".to_owned()),
        target_namespace,
        image: m.get_one::<String>("image").cloned().unwrap_or_default(),
        binary: m
            .get_one::<String>("binary")
            .cloned()
            .unwrap_or_else(|| format!("/usr/local/bin/{target}")),
        deadline,
        shards: *m.get_one::<u32>("shards").unwrap_or(&1),
        settings: settings_text,
        schedules,
        touches,
    })
}

/// Runs `--k8s-manifests` with `args` (after the flag).
pub(crate) fn run(args: &[String], specs: &[Spec], target: &str, settings: &Settings) -> ExitCode {
    let m = match crate::harness::flags(command(), args) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let schedules = match m.get_one::<String>("schedule") {
        Some(cron) => {
            if cron.split_whitespace().count() != 5 {
                eprintln!(
                    "error: --schedule {cron:?}: five cron fields (minute hour day month weekday)"
                );
                return ExitCode::from(2);
            }
            vec![Schedule {
                name: m
                    .get_one::<String>("name")
                    .cloned()
                    .unwrap_or_else(|| dns_name(&format!("chaos-{target}"))),
                cron: cron.clone(),
                time_zone: m
                    .get_one::<String>("time-zone")
                    .cloned()
                    .unwrap_or_else(|| "UTC".into()),
                args: Vec::new(),
            }]
        }
        None => Vec::new(),
    };
    let specs: Vec<&Spec> = specs.iter().collect();
    match job_spec(&m, &specs, target, settings, schedules) {
        Ok(spec) => {
            print!("{}", yaml::stream(&render(&spec)));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
