//! Experiments on a schedule: a run window of their own, the settings' default window, any
//! time, a minimum interval. Run by `tests/tests/e2e/schedule.rs` as a subprocess, with
//! `CHAOS_NOW` fixing the instant the schedule is checked at.

use chaos_harness::prelude::*;
use chaos_tests::count;

#[experiment(
    title = "on weekdays in Paris office hours",
    window = "Mon-Fri 09:00-15:00 Europe/Paris"
)]
async fn weekdays(cx: &Context) {
    method! {
        action "count" { count(cx, "weekdays")? };
    }
}

#[experiment(title = "when the settings say")]
async fn settings_window(cx: &Context) {
    method! {
        action "count" { count(cx, "settings_window")? };
    }
}

#[experiment(title = "at any time", window = "always")]
async fn any_time(cx: &Context) {
    method! {
        action "count" { count(cx, "any_time")? };
    }
}

#[experiment(title = "at most once an hour", window = "always", min_interval = 1h)]
async fn hourly(cx: &Context) {
    method! {
        action "count" { count(cx, "hourly")? };
        pause 200ms;
    }
}

chaos_harness::main!();
