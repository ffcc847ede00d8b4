//! Experiments on a schedule, as a user runs them: outside its window an experiment is
//! skipped with the reason and the next opening (in libtest's output, the JUnit file and the
//! HTML report, and as ignored in the list nextest reads); `CHAOS_WINDOWS=off` runs it; of
//! sixteen processes started at once, one runs an experiment with a minimum interval.

use chaos_tests::{command, result, RunResult};
use std::path::Path;

const EXE: &str = env!("CARGO_BIN_EXE_schedule-fixtures");

/// Saturday 5 December 2026, 10:00 UTC (11:00 in Paris).
const SATURDAY: &str = "2026-12-05T10:00:00Z";
/// Monday 7 December 2026, 09:30 in Paris.
const MONDAY: &str = "2026-12-07T09:30:00+01:00";

fn settings(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("chaos.toml");
    std::fs::write(
        &path,
        "[schedule]\nwindow = \"daily 08:00-18:00 UTC\"\nholidays = [\"2026-12-05\", \"2026-12-25\"]\n\n[report]\njunit = \"junit.xml\"\n",
    )
    .expect("settings written");
    path
}

/// libtest's line for experiment `name`, its padding taken out.
fn line(r: &RunResult, name: &str) -> String {
    let prefix = format!("test schedule_fixtures::{name} ");
    r.stdout
        .lines()
        .find(|l| l.starts_with(&prefix))
        .map(|l| format!("{prefix}{}", l[prefix.len()..].trim_start()))
        .unwrap_or_else(|| panic!("no line for {name}: {}", r.all_output()))
}

fn run(dir: &Path, now: &str, args: &[&str], env: &[(&str, &str)]) -> RunResult {
    let (mut cmd, j, c) = command(EXE, dir);
    cmd.env("CHAOS_SETTINGS", settings(dir))
        .env("CHAOS_NOW", now)
        .env("CHAOS_HISTORY", dir.join("history.sqlite"))
        .env_remove("NEXTEST_RUN_ID")
        .args(["--test-threads", "1"])
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    result(cmd.output().expect("the harness runs"), j, c)
}

#[test]
fn outside_its_window_an_experiment_is_skipped_with_the_reason_and_the_next_opening() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let r = run(tmp.path(), SATURDAY, &[], &[]);
    assert_eq!(r.code, Some(0), "{}", r.all_output());
    let weekdays = "test schedule_fixtures::weekdays ... ignored (outside its run window (Mon-Fri 09:00-15:00 Europe/Paris): Saturday is not a run day (Mon-Fri); next opening Mon 2026-12-07 09:00 Europe/Paris (08:00 UTC) (CHAOS_WINDOWS=off runs it anyway))";
    assert_eq!(line(&r, "weekdays"), weekdays);
    // The settings' window, closed on the settings' holidays.
    let holiday = "test schedule_fixtures::settings_window ... ignored (outside its run window (daily 08:00-18:00 UTC): 2026-12-05 is a holiday; next opening Sun 2026-12-06 08:00 UTC (CHAOS_WINDOWS=off runs it anyway))";
    assert_eq!(line(&r, "settings_window"), holiday);
    assert_eq!(
        line(&r, "any_time"),
        "test schedule_fixtures::any_time ... ok"
    );
    assert!(
        r.stdout.contains("2 passed; 0 failed; 2 ignored"),
        "{}",
        r.all_output()
    );
    assert_eq!(r.count("weekdays"), 0);
    assert_eq!(r.count("settings_window"), 0);
    assert_eq!(r.count("any_time"), 1);
    assert!(!r
        .journal_dir
        .join("schedule_fixtures__weekdays.json")
        .exists());
    // The JUnit file and the HTML report say why.
    let junit = std::fs::read_to_string(tmp.path().join("junit.xml")).expect("junit.xml");
    assert!(
        junit.contains("<testcase name=\"weekdays\" classname=\"schedule_fixtures\" time=\"0.000\">\n      <skipped message=\"outside its run window (Mon-Fri 09:00-15:00 Europe/Paris): Saturday is not a run day (Mon-Fri); next opening Mon 2026-12-07 09:00 Europe/Paris (08:00 UTC) (CHAOS_WINDOWS=off runs it anyway)\"/>"),
        "{junit}"
    );
    let html = std::fs::read_to_string(r.journal_dir.join("report.html")).expect("report.html");
    assert!(
        html.contains("2 experiment runs: 2 passed; 2 skipped."),
        "{html}"
    );
    assert!(
        html.contains("<li><code>schedule_fixtures::settings_window</code>: outside its run window (daily 08:00-18:00 UTC): 2026-12-05 is a holiday;"),
        "{html}"
    );

    // Monday morning in Paris: both windows are open.
    let r = run(tmp.path(), MONDAY, &[], &[("CHAOS_INTERVALS", "off")]);
    assert!(
        r.stdout.contains("4 passed; 0 failed; 0 ignored"),
        "{}",
        r.all_output()
    );
    assert_eq!(r.count("weekdays"), 1);
    // Monday at 15:00 in Paris: the window has just closed; it opens again on Tuesday.
    let r = run(
        tmp.path(),
        "2026-12-07T15:00:00+01:00",
        &["--exact", "schedule_fixtures::weekdays"],
        &[],
    );
    assert!(
        r.stdout.contains("ignored (outside its run window (Mon-Fri 09:00-15:00 Europe/Paris): 15:00 is after the hours (09:00-15:00 Europe/Paris); next opening Tue 2026-12-08 09:00 Europe/Paris (08:00 UTC)"),
        "{}",
        r.all_output()
    );
    // A deliberate run on Saturday.
    let r = run(
        tmp.path(),
        SATURDAY,
        &["--exact", "schedule_fixtures::weekdays"],
        &[("CHAOS_WINDOWS", "off")],
    );
    assert!(
        r.stdout.contains("test schedule_fixtures::weekdays ... ok"),
        "{}",
        r.all_output()
    );
    assert_eq!(r.count("weekdays"), 2);
    // A CHAOS_NOW that is not an instant fails the trial, naming the variable.
    let r = run(
        tmp.path(),
        "saturday",
        &["--exact", "schedule_fixtures::weekdays"],
        &[],
    );
    assert_eq!(r.code, Some(101), "{}", r.all_output());
    assert!(
        r.stdout
            .contains("CHAOS_NOW=\"saturday\" is not an instant"),
        "{}",
        r.all_output()
    );
}

/// nextest reads `--list` and `--list --ignored` to know what it runs and what it shows
/// skipped: outside its window an experiment is in the second list.
#[test]
fn the_list_nextest_reads_shows_a_closed_window_as_ignored() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let list = |now: &str, ignored: bool| {
        let args: &[&str] = if ignored {
            &["--list", "--format", "terse", "--ignored"]
        } else {
            &["--list", "--format", "terse"]
        };
        let r = run(tmp.path(), now, args, &[]);
        assert_eq!(r.code, Some(0), "{}", r.all_output());
        let mut names: Vec<String> = r
            .stdout
            .lines()
            .filter_map(|l| l.strip_suffix(": test"))
            .map(str::to_owned)
            .collect();
        names.sort();
        names
    };
    assert_eq!(
        list(SATURDAY, true),
        [
            "schedule_fixtures::settings_window",
            "schedule_fixtures::weekdays"
        ]
    );
    assert!(list(MONDAY, true).is_empty());
    assert_eq!(list(MONDAY, false).len(), 4);
}

#[test]
fn sixteen_processes_at_once_run_an_hourly_experiment_once() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let history = tmp.path().join("history.sqlite");
    let counts = tmp.path().join("counts");
    std::fs::create_dir_all(&counts).expect("counts");
    std::fs::write(tmp.path().join("none.toml"), "").expect("empty settings");
    let children: Vec<_> = (0..16)
        .map(|i| {
            let (mut cmd, _, _) = command(EXE, &tmp.path().join(format!("p{i}")));
            cmd.env("CHAOS_HISTORY", &history)
                .env("CHAOS_COUNT_DIR", &counts)
                .env("CHAOS_SETTINGS", tmp.path().join("none.toml"))
                .env_remove("CHAOS_NOW")
                .env_remove("NEXTEST_RUN_ID")
                .args(["--exact", "schedule_fixtures::hourly"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("the harness starts")
        })
        .collect();
    let outputs: Vec<String> = children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().expect("the harness ends");
            assert_eq!(out.status.code(), Some(0), "{out:?}");
            String::from_utf8_lossy(&out.stdout).into_owned()
        })
        .collect();
    let ran = outputs
        .iter()
        .filter(|o| o.contains("test schedule_fixtures::hourly ... ok"))
        .count();
    let skipped = outputs
        .iter()
        .filter(|o| o.contains("test schedule_fixtures::hourly ... ignored (it started less than its minimum interval (1h) ago: last start "))
        .count();
    assert_eq!((ran, skipped), (1, 15), "{outputs:#?}");
    let lines = std::fs::read_to_string(counts.join("hourly.count")).expect("count");
    assert_eq!(lines.lines().count(), 1, "the method ran once");
    let store = chaos_harness::history::Store::open(&history).expect("history");
    assert_eq!(store.runs(None).expect("runs").len(), 1);

    // Two hours later the interval is over.
    let later = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_hours(2))
        .expect("later");
    let run_at = |now: String, env: &[(&str, &str)]| {
        let (mut cmd, j, c) = command(EXE, &tmp.path().join("later"));
        cmd.env("CHAOS_HISTORY", &history)
            .env("CHAOS_SETTINGS", tmp.path().join("none.toml"))
            .env("CHAOS_NOW", now)
            .env_remove("NEXTEST_RUN_ID")
            .args(["--exact", "schedule_fixtures::hourly"]);
        for (k, v) in env {
            cmd.env(k, v);
        }
        result(cmd.output().expect("runs"), j, c)
    };
    let r = run_at(later.to_string(), &[]);
    assert!(
        r.stdout.contains("1 passed; 0 failed; 0 ignored"),
        "{}",
        r.all_output()
    );
    // Right after it: too soon again, unless the intervals are lifted.
    let r = run_at(later.to_string(), &[]);
    assert!(
        r.stdout.contains("0 passed; 0 failed; 1 ignored"),
        "{}",
        r.all_output()
    );
    let r = run_at(later.to_string(), &[("CHAOS_INTERVALS", "off")]);
    assert!(
        r.stdout.contains("1 passed; 0 failed; 0 ignored"),
        "{}",
        r.all_output()
    );
    // Without a history an interval cannot be kept: the trial fails and says so.
    let r = run_at(later.to_string(), &[("CHAOS_HISTORY", "off")]);
    assert_eq!(r.code, Some(101), "{}", r.all_output());
    assert!(
        r.stdout.contains("has a minimum interval (1h), which is checked against the run history, and the history is off"),
        "{}",
        r.all_output()
    );
}

/// `--plan`: the same seed draws the same plan, inside each experiment's window (its own or
/// the settings'), and its cron lines are the same runs in UTC.
#[test]
fn a_plan_is_drawn_again_from_its_seed_inside_the_windows() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let plan = |args: &[&str]| {
        let mut all = vec![
            "--plan",
            "--per-day",
            "3",
            "--from",
            "2026-12-07",
            "--days",
            "7",
        ];
        all.extend_from_slice(args);
        let (mut cmd, _, _) = command(EXE, tmp.path());
        let out = cmd
            .env("CHAOS_SETTINGS", settings(tmp.path()))
            .args(&all)
            .output()
            .expect("the harness plans");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let json = |args: &[&str]| -> serde_json::Value {
        let mut all = vec!["--format", "json"];
        all.extend_from_slice(args);
        serde_json::from_str(&plan(&all)).expect("JSON")
    };
    let a = json(&["--seed", "42"]);
    assert_eq!(a, json(&["--seed", "42"]), "the same seed, the same plan");
    assert_ne!(a["runs"], json(&["--seed", "43"])["runs"]);
    assert_eq!(
        a["replay"],
        "--plan --per-day 3 --from 2026-12-07T00:00:00Z --days 7 --seed 42"
    );
    let runs = a["runs"].as_array().expect("runs");
    let of = |name: &str| -> Vec<&serde_json::Value> {
        runs.iter()
            .filter(|r| r["experiment"] == format!("schedule_fixtures::{name}"))
            .collect()
    };
    // Mon-Fri in Paris: 5 days of 3 runs, each between 09:00 and 15:00 Paris time.
    let weekdays = of("weekdays");
    assert_eq!(weekdays.len(), 15);
    for r in &weekdays {
        let at: jiff::Zoned = r["at"].as_str().unwrap().parse().expect("an instant");
        assert!((9..15).contains(&at.hour()), "{at}");
        assert_eq!(at.time_zone().iana_name(), Some("Europe/Paris"));
    }
    // The settings' window (daily 08:00-18:00 UTC; no holiday in that week).
    let daily = of("settings_window");
    assert_eq!(daily.len(), 21);
    for r in &daily {
        let at: jiff::Timestamp = r["utc"].as_str().unwrap().parse().expect("an instant");
        let hour = at.to_zoned(jiff::tz::TimeZone::UTC).hour();
        assert!((8..18).contains(&hour), "{at}");
    }
    // Hourly, any time: never two within the hour.
    let hourly: Vec<jiff::Timestamp> = of("hourly")
        .iter()
        .map(|r| r["utc"].as_str().unwrap().parse().unwrap())
        .collect();
    for w in hourly.windows(2) {
        assert!(w[1].duration_since(w[0]).as_secs() >= 3600, "{w:?}");
    }
    // The cron lines are the same runs, in UTC.
    let cron = plan(&["--seed", "42", "--format", "cron", "weekdays"]);
    let lines: Vec<&str> = cron.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(lines[0], "CRON_TZ=UTC");
    assert_eq!(lines.len(), 1 + weekdays.len());
    for (line, r) in lines[1..].iter().zip(&weekdays) {
        let at: jiff::Timestamp = r["utc"].as_str().unwrap().parse().unwrap();
        let t = at.to_zoned(jiff::tz::TimeZone::UTC);
        assert_eq!(
            *line,
            format!(
                "{} {} {} {} * cargo test --test schedule-fixtures -- --exact schedule_fixtures::weekdays",
                t.minute(),
                t.hour(),
                t.day(),
                t.month()
            )
        );
    }
}

/// `--catalogue`: every experiment with its activities, window and interval, and a settings
/// schema that a JSON Schema validator accepts the example with and refuses a typo with.
#[test]
fn the_catalogue_lists_the_experiments_and_a_schema_the_settings_meet() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut cmd, _, _) = command(EXE, tmp.path());
    let out = cmd
        .env("CHAOS_SETTINGS", settings(tmp.path()))
        .arg("--catalogue")
        .output()
        .expect("the catalogue");
    assert!(out.status.success(), "{out:?}");
    let cat: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(cat["harness"], "schedule-fixtures");
    assert!(cat["features"].as_array().unwrap().contains(&"k8s".into()));
    let exps = cat["experiments"].as_array().expect("experiments");
    let names: Vec<&str> = exps.iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "schedule_fixtures::any_time",
            "schedule_fixtures::hourly",
            "schedule_fixtures::settings_window",
            "schedule_fixtures::weekdays"
        ]
    );
    let by = |n: &str| {
        exps.iter()
            .find(|e| e["name"] == format!("schedule_fixtures::{n}"))
            .unwrap()
    };
    assert_eq!(by("weekdays")["window"], "Mon-Fri 09:00-15:00 Europe/Paris");
    assert_eq!(by("weekdays")["window_source"], "own");
    assert_eq!(by("settings_window")["window"], "daily 08:00-18:00 UTC");
    assert_eq!(by("settings_window")["window_source"], "settings");
    assert_eq!(by("any_time")["window"], serde_json::Value::Null);
    assert_eq!(by("hourly")["min_interval_seconds"], 3600);
    assert_eq!(by("hourly")["touches"], serde_json::json!([]));
    assert_eq!(by("hourly")["features"], serde_json::json!([]));
    assert_eq!(by("hourly")["title"], "at most once an hour");
    let acts = by("hourly")["activities"].as_array().unwrap();
    assert_eq!(
        (acts[0]["phase"].as_str(), acts[0]["name"].as_str()),
        (Some("method"), Some("count"))
    );
    assert_eq!(acts[1]["type"], "pause");
    assert_eq!(
        by("weekdays")["source"]["file"],
        "tests/src/bin/schedule-fixtures.rs"
    );

    // The schema: the example and the test's settings are valid, a misspelled key is not.
    let schema = &cat["settings"]["schema"];
    let validator = jsonschema::validator_for(schema).expect("a valid JSON Schema");
    let as_json = |toml_text: &str| -> serde_json::Value {
        let t: toml::Table = toml::from_str(toml_text).expect("TOML");
        serde_json::to_value(t).expect("JSON")
    };
    let example = cat["settings"]["example"].as_str().expect("an example");
    let errors: Vec<String> = validator
        .iter_errors(&as_json(example))
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    // README's complete chaos.toml.
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README");
    let complete = readme
        .split("### A complete `chaos.toml`")
        .nth(1)
        .and_then(|rest| rest.split("```toml\n").nth(1))
        .and_then(|block| block.split("```").next())
        .expect("README's complete chaos.toml");
    assert!(complete.contains("[schedule]"), "{complete}");
    let errors: Vec<String> = validator
        .iter_errors(&as_json(complete))
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "README's chaos.toml: {errors:?}");
    let ours = std::fs::read_to_string(settings(tmp.path())).unwrap();
    assert!(validator.is_valid(&as_json(&ours)));
    assert!(!validator.is_valid(&as_json("[schedule]\nwindwo = \"daily 09:00-17:00\"\n")));
    assert!(!validator.is_valid(&as_json("[journal]\nflush_timeout = \"5 seconds\"\n")));
    assert!(!validator.is_valid(&as_json("[[notifications]]\ntype = \"slack\"\n")));
    // --settings-schema prints the same schema alone.
    let (mut cmd, _, _) = command(EXE, tmp.path());
    let out = cmd.arg("--settings-schema").output().expect("the schema");
    let alone: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(&alone, schema);
}

/// `--plan --format cronjob`: the in-cluster Job's manifests with a CronJob per planned run,
/// each at its minute in UTC, running that one experiment.
#[test]
fn a_plan_renders_as_cronjobs_of_the_in_cluster_job() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let plan = |format: &[&str]| {
        let (mut cmd, _, _) = command(EXE, tmp.path());
        let out = cmd
            .env("CHAOS_SETTINGS", settings(tmp.path()))
            .args([
                "--plan",
                "--per-day",
                "2",
                "--from",
                "2026-12-07",
                "--days",
                "2",
                "--seed",
                "9",
            ])
            .args(format)
            .arg("weekdays")
            .output()
            .expect("the harness plans");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (_, json, _) = plan(&["--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let (code, yaml, _) = plan(&[
        "--format",
        "cronjob",
        "--image",
        "registry.example/chaos:1",
        "--namespace",
        "chaos",
    ]);
    assert_eq!(code, Some(0), "{yaml}");
    let docs = super::k8s_job::docs(&yaml);
    let cronjobs: Vec<&serde_json::Value> =
        docs.iter().filter(|d| d["kind"] == "CronJob").collect();
    let runs = json["runs"].as_array().unwrap();
    assert_eq!(cronjobs.len(), runs.len());
    assert_eq!(runs.len(), 4);
    for (cj, r) in cronjobs.iter().zip(runs) {
        let at: jiff::Timestamp = r["utc"].as_str().unwrap().parse().unwrap();
        let t = at.to_zoned(jiff::tz::TimeZone::UTC);
        assert_eq!(
            cj["spec"]["schedule"],
            format!("{} {} {} {} *", t.minute(), t.hour(), t.day(), t.month())
        );
        assert_eq!(cj["spec"]["timeZone"], "UTC");
        let container = &cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(
            container["args"],
            serde_json::json!(["--exact", "schedule_fixtures::weekdays"])
        );
        assert_eq!(container["image"], "registry.example/chaos:1");
    }
    assert!(docs.iter().all(|d| d["kind"] != "Job"));
    // Without an image there is nothing to run.
    let (code, _, err) = plan(&["--format", "cronjob"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--format cronjob needs --image"), "{err}");
}
