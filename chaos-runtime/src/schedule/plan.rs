//! A seeded planner: when each experiment should run over a period, inside its window,
//! never closer than its minimum interval, drawn from a seed so that the same seed, period and
//! experiments give the same plan.

use super::{Check, Window};
use crate::rng::SeededRng;
use jiff::{SignedDuration, Timestamp, Zoned};
use std::time::Duration;

/// How runs are drawn.
#[derive(Clone, Debug, PartialEq)]
pub enum Planner {
    /// One run of each experiment at this instant (Chaos Monkey Engine's exact date).
    At(Timestamp),
    /// This many runs at random minutes of each opening of the window (Chaos Monkey Engine's
    /// simple planner: N attacks at random times in a window, per day).
    PerDay(u32),
    /// Runs whose gaps are drawn from an exponential distribution of this mean, the gaps
    /// counted in open time only (Chaos Monkey's mean time between terminations).
    Mean(Duration),
}

/// What the planner plans for: an experiment, its window and its minimum interval.
#[derive(Clone, Debug)]
pub struct Subject {
    /// The experiment.
    pub name: String,
    /// Its window (its own or the settings', with the holidays); `None`: any time (UTC).
    pub window: Option<Window>,
    /// Its minimum interval.
    pub min_interval: Option<Duration>,
}

/// One planned run.
#[derive(Clone, Debug, PartialEq)]
pub struct Planned {
    /// The experiment.
    pub experiment: String,
    /// When, in the window's time zone (UTC without a window), to the minute.
    pub at: Zoned,
    /// Why the run would be skipped then (an exact date outside the window).
    pub skipped: Option<String>,
}

/// A plan: its runs in time order, and how many draws fell within an experiment's minimum
/// interval of the run before and were dropped.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// The runs, in time order (experiments in name order at one instant).
    pub runs: Vec<Planned>,
    /// Draws dropped to keep the minimum intervals (per-day planner).
    pub dropped: usize,
}

/// The window that is always open, for experiments without one.
fn any_time() -> Window {
    "daily 00:00-24:00 UTC"
        .parse()
        .unwrap_or_else(|e| unreachable!("the always-open window parses: {e}"))
}

/// A generator of its own per experiment: adding an experiment does not change the others'
/// plans. FNV-1a of the name, mixed with the seed.
fn rng_for(seed: u64, name: &str) -> SeededRng {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    SeededRng::new(seed ^ h)
}

fn minute_floor(t: Timestamp) -> Timestamp {
    let s = t.as_second();
    Timestamp::from_second(s - s.rem_euclid(60)).unwrap_or(t)
}

fn minute_ceil(t: Timestamp) -> Timestamp {
    let f = minute_floor(t);
    if f == t {
        t
    } else {
        f.checked_add(SignedDuration::from_secs(60)).unwrap_or(t)
    }
}

fn span(d: Duration) -> SignedDuration {
    SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX)
}

/// Plans the runs of `subjects` from `from` until `until` with `planner`, drawn from `seed`.
///
/// ```
/// use chaos_runtime::schedule::{plan, Planner, Subject};
/// let subjects = [Subject {
///     name: "shop::latency".into(),
///     window: Some("Mon-Fri 09:00-15:00 Europe/Paris".parse()?),
///     min_interval: None,
/// }];
/// let from: jiff::Timestamp = "2026-12-07T00:00:00Z".parse()?;
/// let until: jiff::Timestamp = "2026-12-14T00:00:00Z".parse()?;
/// let a = plan(&subjects, &Planner::PerDay(2), from, until, 42);
/// assert_eq!(a.runs.len(), 10); // two on each of five weekdays
/// assert!(a.runs.iter().all(|r| (9..15).contains(&r.at.hour())));
/// assert_eq!(a, plan(&subjects, &Planner::PerDay(2), from, until, 42)); // replayable
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn plan(
    subjects: &[Subject],
    planner: &Planner,
    from: Timestamp,
    until: Timestamp,
    seed: u64,
) -> Plan {
    let always = any_time();
    let mut runs = Vec::new();
    let mut dropped = 0;
    for s in subjects {
        let window = s.window.as_ref().unwrap_or(&always);
        let tz = |t: Timestamp| t.to_zoned(window.time_zone().clone());
        match planner {
            Planner::At(at) => {
                let at = minute_floor(*at);
                let skipped = match window.check(at) {
                    Check::Open { .. } => None,
                    Check::Closed { why, .. } => Some(why),
                };
                runs.push(Planned {
                    experiment: s.name.clone(),
                    at: tz(at),
                    skipped,
                });
            }
            Planner::PerDay(n) => {
                let mut rng = rng_for(seed, &s.name);
                let mut last: Option<Timestamp> = None;
                for (start, end) in window.openings(from, until) {
                    let a = minute_ceil(start.timestamp().max(from));
                    let b = minute_floor(end.timestamp().min(until));
                    let minutes = (b.as_second() - a.as_second()) / 60;
                    if minutes <= 0 {
                        continue;
                    }
                    let mut draws: Vec<i64> =
                        (0..*n).map(|_| rng.below(minutes as u64) as i64).collect();
                    draws.sort_unstable();
                    for m in draws {
                        let at = a.checked_add(SignedDuration::from_mins(m)).unwrap_or(a);
                        let gap = s.min_interval.map_or(SignedDuration::from_secs(60), span);
                        if last.is_some_and(|l| at.duration_since(l) < gap) {
                            dropped += 1;
                            continue;
                        }
                        last = Some(at);
                        runs.push(Planned {
                            experiment: s.name.clone(),
                            at: tz(at),
                            skipped: None,
                        });
                    }
                }
            }
            Planner::Mean(mean) => {
                let mut rng = rng_for(seed, &s.name);
                let mut cursor = from;
                loop {
                    // An exponential gap of mean `mean`, in open time.
                    let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                    let gap = -mean.as_secs_f64() * (1.0 - u).ln();
                    let gap = gap.max(s.min_interval.map_or(60.0, |i| i.as_secs_f64()));
                    let Some(at) = advance(window, cursor, gap, until) else {
                        break;
                    };
                    runs.push(Planned {
                        experiment: s.name.clone(),
                        at: tz(at),
                        skipped: None,
                    });
                    cursor = at;
                }
            }
        }
    }
    runs.sort_by(|a, b| {
        a.at.timestamp()
            .cmp(&b.at.timestamp())
            .then_with(|| a.experiment.cmp(&b.experiment))
    });
    Plan { runs, dropped }
}

/// The minute `open_secs` seconds of open time after `cursor`, when it is before `until`.
fn advance(
    window: &Window,
    cursor: Timestamp,
    open_secs: f64,
    until: Timestamp,
) -> Option<Timestamp> {
    let mut left = open_secs;
    for (start, end) in window.openings(cursor, until) {
        let s = start.timestamp().max(cursor);
        let avail = end.timestamp().duration_since(s).as_secs_f64();
        if left < avail {
            let at = s.checked_add(SignedDuration::from_secs_f64(left)).ok()?;
            // To the minute, inside the opening.
            let at = minute_ceil(at);
            let last_minute = minute_floor(end.timestamp())
                .checked_sub(SignedDuration::from_secs(60))
                .unwrap_or(at);
            let at = at.min(last_minute);
            return (at < until && at > cursor).then_some(at);
        }
        left -= avail;
    }
    None
}
