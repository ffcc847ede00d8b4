//! `<harness> --plan`: when this harness's experiments should run over the coming days, each
//! inside its window and apart by its minimum interval, drawn from a seed (printed, so that
//! the same plan can be drawn again); as text, JSON, or cron lines for CI.

use crate::gate::{human, Rules};
use crate::harness::Spec;
use chaos_runtime::schedule::{plan, Plan, Planner, Subject};
use chaos_runtime::settings::Settings;
use clap::{value_parser, Arg, ArgAction, ArgGroup, ArgMatches, Command};
use jiff::{SignedDuration, Timestamp};
use std::process::ExitCode;

/// The flag that makes a harness binary plan instead of run.
pub(crate) const PLAN_FLAG: &str = "--plan";

fn command() -> Command {
    let cmd = Command::new("--plan")
        .about("Plans this harness's experiments: when each should run, inside its window, from a seed")
        .no_binary_name(true)
        .arg(
            Arg::new("per-day")
                .long("per-day")
                .value_name("N")
                .value_parser(value_parser!(u32).range(1..=1440))
                .help("N runs at random minutes of each opening of the window (Chaos Monkey Engine's simple planner)"),
        )
        .arg(
            Arg::new("mean")
                .long("mean")
                .value_name("DURATION")
                .help("runs apart by a random time of this mean, counted while the window is open (Chaos Monkey's mean time between), as 4h or 1d"),
        )
        .arg(
            Arg::new("at")
                .long("at")
                .value_name("INSTANT")
                .help("one run of each experiment at this instant, RFC 3339 (2026-12-07T10:00:00+01:00)"),
        )
        .group(
            ArgGroup::new("planner")
                .args(["per-day", "mean", "at"])
                .required(true),
        )
        .arg(
            Arg::new("from")
                .long("from")
                .value_name("DATE|INSTANT")
                .help("the start of the plan: a date (midnight UTC) or an RFC 3339 instant (default: now, or CHAOS_NOW)"),
        )
        .arg(
            Arg::new("days")
                .long("days")
                .value_name("N")
                .value_parser(value_parser!(u32).range(1..=366))
                .default_value("7")
                .help("how many days the plan covers"),
        )
        .arg(
            Arg::new("seed")
                .long("seed")
                .value_name("N")
                .value_parser(value_parser!(u64))
                .help("the seed the runs are drawn from (default: a fresh one, printed)"),
        )
        .arg(
            Arg::new("format")
                .long("format")
                .value_parser(["text", "json", "cron", "cronjob"])
                .default_value("text")
                .help("text; JSON for tools; cron lines (UTC) for CI; or Kubernetes CronJobs (with --image, as --k8s-manifests)"),
        )
        .arg(
            Arg::new("command")
                .long("command")
                .value_name("TEMPLATE")
                .default_value("cargo test --test {target} -- --exact {experiment}")
                .help("what a cron line runs; {target} and {experiment} are replaced"),
        )
        .arg(
            Arg::new("filter")
                .value_name("FILTER")
                .action(ArgAction::Append)
                .help("only experiments whose name contains one of these"),
        );
    // `--format cronjob`: the in-cluster Job's flags (`--image`...).
    crate::incluster::cmd::job_args(cmd, false)
}

/// What the run was asked for, and the seed it drew with, for the replay line.
struct Asked {
    planner: Planner,
    from: Timestamp,
    days: u32,
    seed: u64,
}

impl Asked {
    fn read(m: &ArgMatches) -> Result<Asked, String> {
        let from = match m.get_one::<String>("from") {
            Some(text) => instant(text, "--from")?,
            None => {
                let now = crate::gate::now()?;
                now.round(jiff::Unit::Minute).unwrap_or(now)
            }
        };
        let planner = if let Some(n) = m.get_one::<u32>("per-day") {
            Planner::PerDay(*n)
        } else if let Some(text) = m.get_one::<String>("mean") {
            let d = chaos_runtime::settings::parse_duration(text)
                .map_err(|e| format!("--mean: {e}"))?;
            if d < std::time::Duration::from_secs(60) {
                return Err(format!(
                    "--mean {text}: at least a minute (runs are planned to the minute)"
                ));
            }
            Planner::Mean(d)
        } else if let Some(text) = m.get_one::<String>("at") {
            Planner::At(instant(text, "--at")?)
        } else {
            return Err("one of --per-day, --mean or --at".to_owned());
        };
        Ok(Asked {
            planner,
            from,
            days: *m.get_one::<u32>("days").unwrap_or(&7),
            seed: m
                .get_one::<u64>("seed")
                .copied()
                .unwrap_or_else(chaos_runtime::rng::fresh_seed),
        })
    }

    fn until(&self) -> Timestamp {
        self.from
            .checked_add(SignedDuration::from_hours(24 * i64::from(self.days)))
            .unwrap_or(Timestamp::MAX)
    }

    fn planner_words(&self) -> String {
        match &self.planner {
            Planner::PerDay(n) => format!("{n} a day at random minutes of each window"),
            Planner::Mean(d) => format!("a mean of {} of open time apart", human(*d)),
            Planner::At(at) => format!("once, at {at}"),
        }
    }

    /// The flags that draw this plan again.
    fn replay(&self) -> String {
        let planner = match &self.planner {
            Planner::PerDay(n) => format!("--per-day {n}"),
            Planner::Mean(d) => format!("--mean {}", human(*d)),
            Planner::At(at) => return format!("--plan --at {at}"),
        };
        format!(
            "--plan {planner} --from {} --days {} --seed {}",
            self.from, self.days, self.seed
        )
    }
}

/// A date (midnight UTC) or an RFC 3339 instant.
fn instant(text: &str, flag: &str) -> Result<Timestamp, String> {
    if let Ok(t) = text.parse::<Timestamp>() {
        return Ok(t);
    }
    if let Ok(z) = text.parse::<jiff::Zoned>() {
        return Ok(z.timestamp());
    }
    text.parse::<jiff::civil::Date>()
        .ok()
        .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|z| z.timestamp())
        .ok_or_else(|| {
            format!("{flag} {text}: expected a date (2026-12-07) or an RFC 3339 instant (2026-12-07T10:00:00+01:00)")
        })
}

/// Runs `--plan` with `args` (after the flag) over `specs`; exit 0, or 2 for a bad command
/// line.
pub(crate) fn run(args: &[String], specs: &[Spec], target: &str, settings: &Settings) -> ExitCode {
    let m = match crate::harness::flags(command(), args) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let asked = match Asked::read(&m) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let filters: Vec<&String> = m
        .get_many::<String>("filter")
        .into_iter()
        .flatten()
        .collect();
    let mut subjects = Vec::new();
    let mut planned: Vec<&Spec> = Vec::new();
    for spec in specs {
        let name = spec.name();
        if !filters.is_empty() && !filters.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        if spec.ignored() {
            // Ignored experiments run only with --ignored: a schedule would not start them.
            continue;
        }
        let Rules {
            window,
            min_interval,
        } = spec.rules(settings);
        subjects.push(Subject {
            name,
            window,
            min_interval,
        });
        planned.push(spec);
    }
    let p = plan(
        &subjects,
        &asked.planner,
        asked.from,
        asked.until(),
        asked.seed,
    );
    let out = match m.get_one::<String>("format").map(String::as_str) {
        Some("json") => json(&p, &asked, &subjects),
        Some("cron") => cron(
            &p,
            &asked,
            target,
            m.get_one::<String>("command").map_or("", String::as_str),
        ),
        Some("cronjob") => match cronjobs(&m, &p, &planned, target, settings) {
            Ok(out) => out,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
        _ => text(&p, &asked, &subjects),
    };
    print!("{out}");
    ExitCode::SUCCESS
}

/// The plan as the in-cluster Job's manifests with one CronJob per planned run (its minute,
/// hour, day and month in UTC, running `--exact <experiment>`); the RBAC covers the planned
/// experiments.
fn cronjobs(
    m: &ArgMatches,
    p: &Plan,
    planned: &[&Spec],
    target: &str,
    settings: &Settings,
) -> Result<String, String> {
    use crate::incluster::cmd::{dns_name, job_spec};
    use crate::incluster::manifests::{render, Schedule};
    if m.get_one::<String>("image").is_none() {
        return Err(
            "--format cronjob needs --image (the image that holds this harness binary)".into(),
        );
    }
    let base = m
        .get_one::<String>("name")
        .cloned()
        .unwrap_or_else(|| dns_name(&format!("chaos-{target}")));
    let schedules: Vec<Schedule> = p
        .runs
        .iter()
        .filter(|r| r.skipped.is_none())
        .enumerate()
        .map(|(i, r)| {
            let t = utc(r.at.timestamp());
            Schedule {
                // The run's number keeps two runs of one minute apart.
                name: format!(
                    "{}-{}-{i}",
                    dns_name(&base).chars().take(36).collect::<String>(),
                    t.strftime("%m%d-%H%M")
                ),
                cron: format!("{} {} {} {} *", t.minute(), t.hour(), t.day(), t.month()),
                time_zone: "UTC".into(),
                args: vec!["--exact".into(), r.experiment.clone()],
            }
        })
        .collect();
    let spec = job_spec(m, planned, target, settings, schedules)?;
    Ok(crate::incluster::yaml::stream(&render(&spec)))
}

fn utc(t: Timestamp) -> jiff::Zoned {
    t.to_zoned(jiff::tz::TimeZone::UTC)
}

fn text(p: &Plan, asked: &Asked, subjects: &[Subject]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let runs = format!(
        "plan: {} run{} of {} experiment{}",
        p.runs.len(),
        if p.runs.len() == 1 { "" } else { "s" },
        subjects.len(),
        if subjects.len() == 1 { "" } else { "s" },
    );
    let _ = match asked.planner {
        Planner::At(_) => writeln!(out, "{runs}, {}", asked.planner_words()),
        _ => writeln!(
            out,
            "{runs} over {} day{} from {}, {}; seed {}",
            asked.days,
            if asked.days == 1 { "" } else { "s" },
            asked.from,
            asked.planner_words(),
            asked.seed
        ),
    };
    for s in subjects {
        let window = s
            .window
            .as_ref()
            .map_or("any time".to_owned(), |w| w.to_string());
        let interval = s
            .min_interval
            .map(|i| format!(", at least {} apart", human(i)))
            .unwrap_or_default();
        let _ = writeln!(out, "  {}: {window}{interval}", s.name);
    }
    if p.dropped > 0 {
        let _ = writeln!(
            out,
            "  ({} draw{} fell within a minimum interval of the run before and {} left out)",
            p.dropped,
            if p.dropped == 1 { "" } else { "s" },
            if p.dropped == 1 { "was" } else { "were" }
        );
    }
    out.push('\n');
    for r in &p.runs {
        let local = r.at.strftime("%a %Y-%m-%d %H:%M").to_string();
        let when = match r.at.time_zone().iana_name() {
            Some(zone) if zone != "UTC" => {
                let at_utc = utc(r.at.timestamp()).strftime("%H:%M").to_string();
                format!("{local} {zone} ({at_utc} UTC)")
            }
            _ => format!("{local} UTC"),
        };
        let _ = write!(out, "{when:<46}  {}", r.experiment);
        if let Some(why) = &r.skipped {
            let _ = write!(out, "  [would be skipped: {why}]");
        }
        out.push('\n');
    }
    let _ = writeln!(out, "\nreplay: {}", asked.replay());
    out
}

fn json(p: &Plan, asked: &Asked, subjects: &[Subject]) -> String {
    let runs: Vec<serde_json::Value> = p
        .runs
        .iter()
        .map(|r| {
            serde_json::json!({
                "experiment": r.experiment,
                "at": r.at.to_string(),
                "utc": r.at.timestamp().to_string(),
                "skipped": r.skipped,
            })
        })
        .collect();
    let experiments: Vec<serde_json::Value> = subjects
        .iter()
        .map(|s| {
            serde_json::json!({
                "name": s.name,
                "window": s.window.as_ref().map(|w| w.to_string()),
                "min_interval": s.min_interval.map(|i| i.as_secs()),
            })
        })
        .collect();
    let v = serde_json::json!({
        "seed": asked.seed,
        "from": asked.from.to_string(),
        "until": asked.until().to_string(),
        "planner": asked.planner_words(),
        "replay": asked.replay(),
        "experiments": experiments,
        "runs": runs,
        "dropped": p.dropped,
    });
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}

fn cron(p: &Plan, asked: &Asked, target: &str, template: &str) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# chaos plan: {} run(s), {}; seed {}",
        p.runs.len(),
        asked.planner_words(),
        asked.seed
    );
    let _ = writeln!(out, "# replay: {}", asked.replay());
    let _ = writeln!(
        out,
        "# Times are UTC. Each line names its day and month, so it would fire again a year later: replace the plan before it ends."
    );
    let _ = writeln!(out, "CRON_TZ=UTC");
    for r in &p.runs {
        if r.skipped.is_some() {
            continue;
        }
        let t = utc(r.at.timestamp());
        let cmd = template
            .replace("{target}", target)
            .replace("{experiment}", &r.experiment);
        let _ = writeln!(
            out,
            "{} {} {} {} * {cmd}",
            t.minute(),
            t.hour(),
            t.day(),
            t.month()
        );
    }
    out
}
