//! When an experiment may run: days of the week, hours of the day, in a time zone, except on
//! public holidays.

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan, Zoned};
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

/// A window text that does not parse, with the part that is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("run window `{text}`: {what}")]
pub struct WindowError {
    /// The whole text.
    pub text: String,
    /// What is wrong, naming the part.
    pub what: String,
}

/// When an experiment may run: on some days of the week, between two times of the day, in an
/// IANA time zone, except on listed dates.
///
/// Written `"<days> <from>-<to> <time zone>"`: days as `Mon-Fri`, `Mon,Wed,Fri`, `Sat-Sun` or
/// `daily`; times as `HH:MM`; the zone as an IANA name (`Europe/Paris`; `UTC` when left out).
/// A window whose end is not after its start runs past midnight (`22:00-06:00` is from 22:00 to
/// 06:00 the next day, and belongs to the day it starts on). Times that a daylight-saving change
/// skips are taken after the change (02:30 on a spring-forward night is 03:30), and times it
/// repeats the first time they occur.
///
/// ```
/// use chaos_runtime::schedule::{Window, Check};
/// let w: Window = "Mon-Fri 09:00-15:00 Europe/Paris".parse()?;
/// // Friday 4 December 2026, 10:00 in Paris (09:00 UTC): open until 15:00.
/// let at: jiff::Timestamp = "2026-12-04T09:00:00Z".parse()?;
/// assert!(matches!(w.check(at), Check::Open { .. }));
/// // Saturday: closed, opens Monday at 09:00 Paris time.
/// let at: jiff::Timestamp = "2026-12-05T09:00:00Z".parse()?;
/// let Check::Closed { why, opens } = w.check(at) else { panic!() };
/// assert_eq!(why, "Saturday is not a run day (Mon-Fri)");
/// assert_eq!(opens.unwrap().to_string(), "2026-12-07T09:00:00+01:00[Europe/Paris]");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Window {
    text: String,
    days: [bool; 7],
    from: Time,
    to: Time,
    zone: String,
    tz: TimeZone,
    holidays: BTreeSet<Date>,
}

/// Whether a window is open at an instant.
#[derive(Clone, Debug, PartialEq)]
pub enum Check {
    /// Open: a run may start.
    Open {
        /// When this opening closes.
        closes: Zoned,
    },
    /// Closed.
    Closed {
        /// Why, in words (a holiday, not a run day, before or after the hours).
        why: String,
        /// When it next opens (`None` when it never does within a year and a week).
        opens: Option<Zoned>,
    },
}

/// Days a window looks ahead for its next opening: a year and a week, so that a window open on
/// one day of the year (or kept closed by holidays) still finds it.
const LOOK_AHEAD_DAYS: i64 = 372;

fn weekday_index(w: Weekday) -> usize {
    w.to_monday_zero_offset() as usize
}

fn weekday_name(w: Weekday) -> &'static str {
    match w {
        Weekday::Monday => "Monday",
        Weekday::Tuesday => "Tuesday",
        Weekday::Wednesday => "Wednesday",
        Weekday::Thursday => "Thursday",
        Weekday::Friday => "Friday",
        Weekday::Saturday => "Saturday",
        Weekday::Sunday => "Sunday",
    }
}

const DAY_NAMES: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// A day's index from Monday: its name or its first three letters, in any case.
fn parse_day(s: &str) -> Option<usize> {
    let l = s.to_ascii_lowercase();
    DAY_NAMES.iter().position(|d| l == *d || l == d[..3])
}

fn parse_days(s: &str) -> Result<[bool; 7], String> {
    let mut days = [false; 7];
    if s.eq_ignore_ascii_case("daily") {
        return Ok([true; 7]);
    }
    for part in s.split(',') {
        let bad =
            || format!("`{part}` is not a day or a range of days (Mon, Mon-Fri, Sat-Sun, daily)");
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (parse_day(a).ok_or_else(bad)?, parse_day(b).ok_or_else(bad)?);
                let mut d = a;
                loop {
                    days[d] = true;
                    if d == b {
                        break;
                    }
                    d = (d + 1) % 7;
                }
            }
            None => days[parse_day(part).ok_or_else(bad)?] = true,
        }
    }
    Ok(days)
}

fn parse_hours(s: &str) -> Result<(Time, Time), String> {
    let bad = |p: &str| format!("`{p}` is not a time of day (HH:MM)");
    let (a, b) = s
        .split_once('-')
        .ok_or_else(|| format!("`{s}` is not a range of hours (09:00-15:00)"))?;
    let time = |p: &str| -> Result<Time, String> {
        let (h, m) = p.split_once(':').ok_or_else(|| bad(p))?;
        let h: i8 = h.parse().map_err(|_| bad(p))?;
        let m: i8 = m.parse().map_err(|_| bad(p))?;
        // 24:00 is the end of the day.
        if h == 24 && m == 0 {
            return Ok(Time::MAX);
        }
        Time::new(h, m, 0, 0).map_err(|_| bad(p))
    };
    Ok((time(a)?, time(b)?))
}

impl FromStr for Window {
    type Err = WindowError;

    fn from_str(text: &str) -> Result<Window, WindowError> {
        let err = |what: String| WindowError {
            text: text.to_owned(),
            what,
        };
        let parts: Vec<&str> = text.split_whitespace().collect();
        let (days, hours, zone) = match parts.as_slice() {
            [d, h] => (*d, *h, "UTC"),
            [d, h, z] => (*d, *h, *z),
            _ => return Err(err(
                "expected `<days> <from>-<to> [time zone]`, as `Mon-Fri 09:00-15:00 Europe/Paris`"
                    .to_owned(),
            )),
        };
        let days = parse_days(days).map_err(err)?;
        let (from, to) = parse_hours(hours).map_err(err)?;
        if from == to {
            return Err(err(format!(
                "`{hours}` is empty: the hours start and end at the same time"
            )));
        }
        let tz = TimeZone::get(zone).map_err(|_| {
            err(format!(
                "`{zone}` is not an IANA time zone (as `Europe/Paris`, `UTC`)"
            ))
        })?;
        Ok(Window {
            text: text.to_owned(),
            days,
            from,
            to,
            zone: zone.to_owned(),
            tz,
            holidays: BTreeSet::new(),
        })
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Window {
    /// The window, closed on `dates` (public holidays, in the window's time zone).
    pub fn holidays(mut self, dates: impl IntoIterator<Item = Date>) -> Window {
        self.holidays.extend(dates);
        self
    }

    /// The time zone's IANA name.
    pub fn zone(&self) -> &str {
        &self.zone
    }

    /// The time zone.
    pub(crate) fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    /// The opening that starts on `day`, when there is one: its start and end.
    fn opening(&self, day: Date) -> Option<(Zoned, Zoned)> {
        if !self.days[weekday_index(day.weekday())] || self.holidays.contains(&day) {
            return None;
        }
        let start = day.to_datetime(self.from).to_zoned(self.tz.clone()).ok()?;
        let end_day = if self.to > self.from {
            day
        } else {
            day.checked_add(1.day()).ok()?
        };
        let end = if self.to == Time::MAX {
            end_day
                .checked_add(1.day())
                .ok()?
                .to_datetime(Time::midnight())
                .to_zoned(self.tz.clone())
                .ok()?
        } else {
            end_day
                .to_datetime(self.to)
                .to_zoned(self.tz.clone())
                .ok()?
        };
        // A daylight-saving change can swallow a short window whole (02:30-03:30 on a night
        // whose clocks jump from 02:00 to 03:00): no opening that day.
        (end > start).then_some((start, end))
    }

    /// Whether the window is open at `at`, and if not why and when it opens.
    pub fn check(&self, at: Timestamp) -> Check {
        let local = at.to_zoned(self.tz.clone());
        let today = local.date();
        // An opening of yesterday may run past midnight into today.
        for day in [today.yesterday().ok(), Some(today)].into_iter().flatten() {
            if let Some((start, end)) = self.opening(day) {
                if start.timestamp() <= at && at < end.timestamp() {
                    return Check::Open { closes: end };
                }
            }
        }
        let why = if !self.days[weekday_index(today.weekday())] {
            format!(
                "{} is not a run day ({})",
                weekday_name(today.weekday()),
                self.text.split_whitespace().next().unwrap_or_default()
            )
        } else if self.holidays.contains(&today) {
            format!("{today} is a holiday")
        } else {
            let hours = self.text.split_whitespace().nth(1).unwrap_or_default();
            match self.opening(today) {
                Some((start, _)) if at < start.timestamp() => {
                    format!(
                        "{} is before the hours ({hours} {})",
                        local.time().strftime("%H:%M"),
                        self.zone
                    )
                }
                _ => format!(
                    "{} is after the hours ({hours} {})",
                    local.time().strftime("%H:%M"),
                    self.zone
                ),
            }
        };
        Check::Closed {
            why,
            opens: self.next_opening(at),
        }
    }

    /// The openings (start, end) that end after `from` and start before `until`, in order:
    /// the one under way at `from` first, when there is one.
    ///
    /// ```
    /// use chaos_runtime::schedule::Window;
    /// let w: Window = "Mon-Fri 09:00-15:00 Europe/Paris".parse()?;
    /// let from: jiff::Timestamp = "2026-12-04T12:00:00Z".parse()?; // Friday 13:00 in Paris
    /// let until: jiff::Timestamp = "2026-12-08T00:00:00Z".parse()?;
    /// let days: Vec<String> = w.openings(from, until).map(|(s, _)| s.date().to_string()).collect();
    /// assert_eq!(days, ["2026-12-04", "2026-12-07"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn openings(
        &self,
        from: Timestamp,
        until: Timestamp,
    ) -> impl Iterator<Item = (Zoned, Zoned)> + '_ {
        let first = from.to_zoned(self.tz.clone()).date().yesterday().ok();
        let mut day = first;
        std::iter::from_fn(move || loop {
            let d = day?;
            day = d.tomorrow().ok();
            let Some((start, end)) = self.opening(d) else {
                if d.to_datetime(Time::midnight())
                    .to_zoned(self.tz.clone())
                    .map_or(true, |z| z.timestamp() >= until)
                {
                    return None;
                }
                continue;
            };
            if start.timestamp() >= until {
                return None;
            }
            if end.timestamp() > from {
                return Some((start, end));
            }
        })
    }

    /// The start of the first opening after `at` (not one already under way).
    pub fn next_opening(&self, at: Timestamp) -> Option<Zoned> {
        let mut day = at.to_zoned(self.tz.clone()).date().yesterday().ok()?;
        for _ in 0..LOOK_AHEAD_DAYS {
            if let Some((start, _)) = self.opening(day) {
                if start.timestamp() > at {
                    return Some(start);
                }
            }
            day = day.tomorrow().ok()?;
        }
        None
    }
}
