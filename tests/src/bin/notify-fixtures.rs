//! Experiments for the settings, secrets, notification and extension tests: they read secrets
//! and plant them in outputs, errors and panics, and the harness is set up with a custom
//! channel, an observer, a hook, a control and a credential provider.

use chaos_harness::extend::{Control, ControlPoint, Hook, Observer, RunPlan, Veto};
use chaos_harness::notify::{Channel, Notification};
use chaos_harness::prelude::*;
use chaos_harness::Setup;
use std::io::Write;
use std::time::Duration;

fn append(var: &str, line: &str) {
    if let Ok(path) = std::env::var(var) {
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = writeln!(f, "{line}");
        }
    }
}

/// Writes every run event's name and body to `$CHANNEL_FILE`.
struct FileChannel;
impl Channel for FileChannel {
    fn name(&self) -> &str {
        "file"
    }
    async fn deliver(&self, n: &Notification) -> Result<(), BoxError> {
        append("CHANNEL_FILE", &n.body().to_string());
        Ok(())
    }
}

/// Writes each journal's name and outcome to `$OBSERVER_FILE`.
struct FileObserver;
impl Observer for FileObserver {
    fn name(&self) -> &str {
        "file"
    }
    fn journal(&self, journal: &serde_json::Value, path: &std::path::Path) {
        append(
            "OBSERVER_FILE",
            &format!(
                "{} {} {}",
                journal["name"],
                journal["outcome"],
                path.display()
            ),
        );
    }
}

/// Tags every run; refuses runs when `$HOOK_REFUSE` is set.
struct Gate;
impl Hook for Gate {
    fn name(&self) -> &str {
        "gate"
    }
    fn before_run(&self, plan: &mut RunPlan) -> Result<(), Veto> {
        plan.tags.push("gated".into());
        plan.variables.insert("gate".into(), "open".into());
        match std::env::var("HOOK_REFUSE") {
            Ok(why) => Err(why.into()),
            Err(_) => Ok(()),
        }
    }
}

/// Interrupts before the activity named by `$CONTROL_STOP`.
struct StopAt;
impl Control for StopAt {
    fn name(&self) -> &str {
        "stop-at"
    }
    fn before(&self, point: &ControlPoint<'_>, _cx: &Context) -> Result<(), Veto> {
        match (point, std::env::var("CONTROL_STOP")) {
            (ControlPoint::Activity { name, .. }, Ok(stop)) if *name == stop => {
                Err(format!("stop requested before `{name}`").into())
            }
            _ => Ok(()),
        }
    }
}

fn setup(s: &mut Setup) {
    if std::env::var("CHANNEL_FILE").is_ok() {
        s.channel(FileChannel);
    }
    s.observer(FileObserver)
        .hook(Gate)
        .control(StopAt)
        .credentials(
            "ops",
            chaos_harness::credentials::EnvUserPassword::new(
                "FIXTURE_OPS_USER",
                "FIXTURE_OPS_PASSWORD",
            ),
        );
}

#[experiment]
async fn secrets_in_outputs(cx: &Context) {
    steady_state! {
        probe "token as output" { cx.secret("token")?.expose().to_owned() } => |v: &String| !v.is_empty();
        probe "url variable holds the token" { cx.var("service_url")? } => |v: &String| v.contains("token=");
    }
    method! {
        action "file secret as output" { format!("password is {}", cx.secret("db_password")?.expose()) };
        action "credentials" { cx.credentials("ops")?.basic().unwrap_or_default() };
        action "hook variable" { cx.var("gate")? };
        action "inline secret" { cx.secret("legacy")?.expose().to_owned() };
    }
}

#[experiment]
async fn secret_in_error(cx: &Context) {
    method! {
        action "fails with the token" {
            let t = cx.secret("token")?;
            Err::<(), _>(std::io::Error::other(format!("auth rejected for {}", t.expose())))?
        };
    }
    rollback! {
        action "rollback output" { cx.secret("db_password")?.expose().to_owned() };
    }
}

#[experiment]
async fn secret_in_panic(cx: &Context) {
    method! {
        action "panics with the token" {
            let t = cx.secret("token")?;
            if !t.expose().is_empty() { panic!("token {} leaked", t.expose()) }
        };
    }
}

#[experiment]
async fn secret_deviates(cx: &Context) {
    method! {
        probe "token compared" { cx.secret("token")?.expose().to_owned() } => == "something else";
    }
}

#[experiment]
async fn secret_missing(cx: &Context) {
    method! {
        action "asks for an unknown secret" { cx.secret("not_configured")?.expose().len() };
    }
}

#[experiment]
async fn secret_baseline(cx: &Context) {
    steady_state! {
        probe "token compared" { cx.secret("token")?.expose().to_owned() } => == "something else";
    }
    method! {
        action "never runs" { 1 };
    }
}

#[experiment]
async fn secret_rollback_fails(cx: &Context) {
    method! {
        action "fine" { 1 };
    }
    rollback! {
        action "fails with the password" {
            Err::<(), _>(std::io::Error::other(format!("restore failed: {}", cx.secret("db_password")?.expose())))?
        };
    }
}

#[experiment]
async fn controlled(cx: &Context) {
    method! {
        action "first" { 1 };
        action "second" { tokio::time::sleep(Duration::from_millis(10)).await };
    }
    rollback! {
        action "undo" { 2 };
    }
}

chaos_harness::main!(setup = setup);
