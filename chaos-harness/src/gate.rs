//! Whether an experiment may start now: its run window (`window = ...`, else `[schedule]
//! window`, closed on `[schedule] holidays`) and its minimum interval (`min_interval = ...`,
//! against the run history). `CHAOS_WINDOWS=off` and `CHAOS_INTERVALS=off` lift them for a
//! deliberate run; `CHAOS_NOW` checks them at another instant.
//!
//! Checked twice: when the trials are listed (nextest reads the list, and a skipped experiment
//! is listed as ignored, so nextest shows it skipped), and when the experiment is about to
//! start, where the interval's check and the record of the start are one transaction.

use chaos_runtime::env;
use chaos_runtime::history::{Claim, Store};
use chaos_runtime::schedule::{Check, Window};
use chaos_runtime::settings::Settings;
use jiff::{Timestamp, Zoned};
use std::path::Path;
use std::time::Duration;

/// What an experiment keeps to.
#[derive(Clone, Debug, Default)]
pub(crate) struct Rules {
    /// Its window (its own or the settings', with the holidays), if any.
    pub window: Option<Window>,
    /// Its minimum interval.
    pub min_interval: Option<Duration>,
}

impl Rules {
    /// The rules of `exp` under `settings`.
    pub(crate) fn of(exp: &chaos_runtime::Experiment, settings: &Settings) -> Rules {
        Rules {
            window: settings.schedule.window_for(exp.window()),
            min_interval: exp.min_interval(),
        }
    }

    /// The rules of an experiment that names none (a Chaos Toolkit file): the settings'
    /// window.
    pub(crate) fn default_of(settings: &Settings) -> Rules {
        Rules {
            window: settings.schedule.window_for(&Default::default()),
            min_interval: None,
        }
    }
}

/// The instant the rules are checked at: `CHAOS_NOW`, else now.
pub(crate) fn now() -> Result<Timestamp, String> {
    match env::var(env::NOW) {
        Some(text) => text
            .parse::<Timestamp>()
            .or_else(|_| text.parse::<Zoned>().map(|z| z.timestamp()))
            .map_err(|e| {
                format!(
                    "{}={text:?} is not an instant: expected RFC 3339, as 2026-12-07T10:00:00+01:00 ({e})",
                    env::NOW
                )
            }),
        None => Ok(Timestamp::now()),
    }
}

/// How an instant reads in a reason: `Mon 2026-12-07 09:00 Europe/Paris (08:00 UTC)`.
fn when(z: &Zoned) -> String {
    let local = z.strftime("%a %Y-%m-%d %H:%M");
    match z.time_zone().iana_name() {
        Some(zone) if zone != "UTC" => {
            let utc = z.timestamp().to_zoned(jiff::tz::TimeZone::UTC);
            format!("{local} {zone} ({} UTC)", utc.strftime("%H:%M"))
        }
        _ => format!("{local} UTC"),
    }
}

/// A duration as the keys write it: `1d`, `90m`, `1h`, `45s`.
pub(crate) fn human(d: Duration) -> String {
    let s = d.as_secs();
    if d.subsec_nanos() != 0 || s == 0 {
        format!("{}ms", d.as_millis())
    } else if s.is_multiple_of(86_400) {
        format!("{}d", s / 86_400)
    } else if s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else if s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

/// Why `window` keeps a start at `at` out, if it does.
pub(crate) fn window_closed(window: &Window, at: Timestamp) -> Option<String> {
    if env::off(env::WINDOWS) {
        return None;
    }
    match window.check(at) {
        Check::Open { .. } => None,
        Check::Closed { why, opens } => {
            let next = match opens {
                Some(z) => format!("next opening {}", when(&z)),
                None => "it does not open within a year".to_owned(),
            };
            Some(format!(
                "outside its run window ({window}): {why}; {next} ({}=off runs it anyway)",
                env::WINDOWS
            ))
        }
    }
}

fn too_soon(interval: Duration, last: Timestamp, next: Timestamp) -> String {
    let second = |t: Timestamp| t.round(jiff::Unit::Second).unwrap_or(t);
    let (last, next) = (second(last), second(next));
    format!(
        "it started less than its minimum interval ({}) ago: last start {last}; next allowed from {next} ({}=off runs it anyway)",
        human(interval),
        env::INTERVALS
    )
}

/// Why the experiment would be skipped at `at`, as far as a listing can tell (the history is
/// read, not written): for the list nextest reads.
pub(crate) fn at_listing(
    name: &str,
    rules: &Rules,
    history: Option<&Path>,
    at: Timestamp,
) -> Option<String> {
    if let Some(why) = rules.window.as_ref().and_then(|w| window_closed(w, at)) {
        return Some(why);
    }
    let interval = rules.min_interval.filter(|_| !env::off(env::INTERVALS))?;
    let store = Store::open(history.filter(|h| h.is_file())?).ok()?;
    let last = store.last_start(name).ok()??;
    let next = end_of(last, interval);
    (at < next).then(|| too_soon(interval, last, next))
}

fn end_of(start: Timestamp, interval: Duration) -> Timestamp {
    jiff::SignedDuration::try_from(interval)
        .ok()
        .and_then(|d| start.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX)
}

/// Whether `name` may start at `at`: `Ok(None)` to run (its start recorded when it has an
/// interval), `Ok(Some(why))` to skip, `Err` when its interval cannot be checked.
pub(crate) fn at_start(
    name: &str,
    rules: &Rules,
    history: Option<&Path>,
    at: Timestamp,
) -> Result<Option<String>, String> {
    if let Some(why) = rules.window.as_ref().and_then(|w| window_closed(w, at)) {
        return Ok(Some(why));
    }
    let Some(interval) = rules.min_interval.filter(|_| !env::off(env::INTERVALS)) else {
        return Ok(None);
    };
    let Some(history) = history else {
        return Err(format!(
            "`{name}` has a minimum interval ({}), which is checked against the run history, and the history is off ({}=off or [report] history = \"off\"); turn it on, or run with {}=off",
            human(interval),
            env::HISTORY,
            env::INTERVALS
        ));
    };
    let claim = Store::open(history).and_then(|mut s| s.claim(name, interval, at));
    match claim {
        Ok(Claim::Granted) => Ok(None),
        Ok(Claim::TooSoon { last, next }) => Ok(Some(too_soon(interval, last, next))),
        Err(e) => Err(format!(
            "the minimum interval of `{name}` could not be checked: {e}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_instants_read_as_written() {
        let h = |s| human(Duration::from_secs(s));
        assert_eq!(
            [h(86_400), h(7200), h(5400), h(45)],
            ["1d", "2h", "90m", "45s"]
        );
        assert_eq!(human(Duration::from_millis(1500)), "1500ms");
        let paris: Zoned = "2026-03-30T09:00:00+02:00[Europe/Paris]".parse().unwrap();
        assert_eq!(
            when(&paris),
            "Mon 2026-03-30 09:00 Europe/Paris (07:00 UTC)"
        );
        let utc: Zoned = "2026-12-06T08:00:00+00:00[UTC]".parse().unwrap();
        assert_eq!(when(&utc), "Sun 2026-12-06 08:00 UTC");
    }
}
