use super::{Check, Window};
use jiff::civil::date;
use jiff::Timestamp;

fn ts(s: &str) -> Timestamp {
    s.parse().expect("a timestamp")
}

fn w(s: &str) -> Window {
    s.parse().expect("a window")
}

fn opens_at(w: &Window, at: &str) -> String {
    match w.check(ts(at)) {
        Check::Closed { opens, .. } => opens.map(|z| z.to_string()).unwrap_or_default(),
        Check::Open { closes } => panic!("open at {at}, until {closes}"),
    }
}

fn closes_at(w: &Window, at: &str) -> String {
    match w.check(ts(at)) {
        Check::Open { closes } => closes.to_string(),
        Check::Closed { why, .. } => panic!("closed at {at}: {why}"),
    }
}

/// New York: the weekday window opens at 14:00 UTC in winter and 13:00 UTC in summer, across
/// both changes (8 March and 1 November 2026).
#[test]
fn new_york_office_hours_follow_both_changes() {
    let w = w("Mon-Fri 09:00-15:00 America/New_York");
    assert_eq!(
        opens_at(&w, "2026-03-07T15:00:00Z"),
        "2026-03-09T09:00:00-04:00[America/New_York]"
    );
    assert_eq!(
        closes_at(&w, "2026-03-09T13:30:00Z"),
        "2026-03-09T15:00:00-04:00[America/New_York]"
    );
    let Check::Closed { why, .. } = w.check(ts("2026-03-09T12:30:00Z")) else {
        panic!("08:30 EDT is before the hours")
    };
    assert_eq!(
        why,
        "08:30 is before the hours (09:00-15:00 America/New_York)"
    );
    // Friday before the autumn change in EDT, Monday after it in EST.
    assert_eq!(
        closes_at(&w, "2026-10-30T13:00:00Z"),
        "2026-10-30T15:00:00-04:00[America/New_York]"
    );
    assert_eq!(
        opens_at(&w, "2026-10-31T12:00:00Z"),
        "2026-11-02T09:00:00-05:00[America/New_York]"
    );
    assert!(
        matches!(w.check(ts("2026-11-02T13:30:00Z")), Check::Closed { .. }),
        "08:30 EST"
    );
    assert_eq!(
        closes_at(&w, "2026-11-02T14:00:00Z"),
        "2026-11-02T15:00:00-05:00[America/New_York]"
    );
}

/// Paris: a window across the night of a change is shorter (29 March) or longer (25 October),
/// and a start the change skips or repeats is taken after the gap, or at its first occurrence.
#[test]
fn paris_windows_across_the_gap_and_the_fold() {
    let night = w("Sun 01:00-04:00 Europe/Paris");
    // 01:00 CET is 00:00 UTC; 04:00 CEST is 02:00 UTC: two hours.
    assert_eq!(
        opens_at(&night, "2026-03-28T12:00:00Z"),
        "2026-03-29T01:00:00+01:00[Europe/Paris]"
    );
    assert_eq!(
        closes_at(&night, "2026-03-29T01:59:00Z"),
        "2026-03-29T04:00:00+02:00[Europe/Paris]"
    );
    assert!(matches!(
        night.check(ts("2026-03-29T02:00:00Z")),
        Check::Closed { .. }
    ));
    // 01:00 CEST is 23:00 UTC the day before; 04:00 CET is 03:00 UTC: four hours.
    assert_eq!(
        opens_at(&night, "2026-10-24T12:00:00Z"),
        "2026-10-25T01:00:00+02:00[Europe/Paris]"
    );
    assert_eq!(
        closes_at(&night, "2026-10-25T02:59:00Z"),
        "2026-10-25T04:00:00+01:00[Europe/Paris]"
    );
    let gap = w("Sun 02:30-05:00 Europe/Paris");
    assert_eq!(
        opens_at(&gap, "2026-03-28T12:00:00Z"),
        "2026-03-29T03:30:00+02:00[Europe/Paris]"
    );
    assert_eq!(
        opens_at(&gap, "2026-10-24T12:00:00Z"),
        "2026-10-25T02:30:00+02:00[Europe/Paris]"
    );
}

/// Sydney (southern hemisphere: back on 5 April, forward on 4 October 2026): a window the
/// spring-forward gap swallows has no opening that night; the fold doubles one.
#[test]
fn sydney_windows_the_changes_swallow_or_double() {
    let w = w("daily 02:30-03:30 Australia/Sydney");
    assert_eq!(
        opens_at(&w, "2026-10-03T12:00:00Z"),
        "2026-10-05T02:30:00+11:00[Australia/Sydney]"
    );
    // 02:30 AEDT (15:30 UTC) to 03:30 AEST (17:30 UTC): two hours.
    assert_eq!(
        opens_at(&w, "2026-04-04T12:00:00Z"),
        "2026-04-05T02:30:00+11:00[Australia/Sydney]"
    );
    assert_eq!(
        closes_at(&w, "2026-04-04T17:29:00Z"),
        "2026-04-05T03:30:00+10:00[Australia/Sydney]"
    );
}

#[test]
fn holidays_weekends_overnight_and_midnight() {
    let office = w("Mon-Fri 09:00-17:00 Europe/Paris").holidays([date(2026, 12, 25)]);
    let Check::Closed { why, opens } = office.check(ts("2026-12-25T10:00:00Z")) else {
        panic!("Christmas")
    };
    assert_eq!(why, "2026-12-25 is a holiday");
    assert_eq!(
        opens.map(|z| z.to_string()).as_deref(),
        Some("2026-12-28T09:00:00+01:00[Europe/Paris]")
    );
    let Check::Closed { why, .. } = office.check(ts("2026-12-21T17:30:00Z")) else {
        panic!("after hours")
    };
    assert_eq!(why, "18:30 is after the hours (09:00-17:00 Europe/Paris)");
    let night = w("Fri 22:00-06:00");
    assert_eq!(night.zone(), "UTC");
    assert_eq!(
        closes_at(&night, "2026-12-05T03:00:00Z"),
        "2026-12-05T06:00:00+00:00[UTC]"
    );
    assert_eq!(
        opens_at(&night, "2026-12-05T06:00:00Z"),
        "2026-12-11T22:00:00+00:00[UTC]"
    );
    let late = w("sat,Sunday 20:00-24:00 UTC");
    assert_eq!(
        closes_at(&late, "2026-12-05T23:59:59Z"),
        "2026-12-06T00:00:00+00:00[UTC]"
    );
    assert_eq!(
        opens_at(&late, "2026-12-07T00:00:00Z"),
        "2026-12-12T20:00:00+00:00[UTC]"
    );
    // Every day a holiday for a year: no opening found.
    let never = w("Mon 09:00-10:00 UTC").holidays((0..60).map(|i| {
        date(2026, 12, 7)
            .checked_add(jiff::Span::new().weeks(i))
            .expect("date")
    }));
    assert_eq!(opens_at(&never, "2026-12-05T00:00:00Z"), "");
}

#[test]
fn bad_windows_name_the_part_that_is_wrong() {
    for (text, want) in [
        (
            "Mon-Fry 09:00-15:00",
            "`Mon-Fry` is not a day or a range of days",
        ),
        ("Mon-Fri 9-15", "`9` is not a time of day (HH:MM)"),
        ("Mon-Fri 09:00-25:00", "`25:00` is not a time of day"),
        ("Mon-Fri 09:00 UTC", "`09:00` is not a range of hours"),
        ("Mon-Fri 09:00-09:00", "is empty"),
        (
            "Mon-Fri 09:00-15:00 Europe/Pariss",
            "`Europe/Pariss` is not an IANA time zone",
        ),
        ("Mon-Fri", "expected `<days> <from>-<to> [time zone]`"),
    ] {
        let err = text.parse::<Window>().expect_err(text).to_string();
        assert!(err.starts_with(&format!("run window `{text}`: ")), "{err}");
        assert!(err.contains(want), "{text}: {err}");
    }
}

mod planner {
    use crate::schedule::{plan, Planner, Subject};
    use jiff::Timestamp;
    use std::time::Duration;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn subject(name: &str, window: Option<&str>, min_interval: Option<u64>) -> Subject {
        Subject {
            name: name.into(),
            window: window.map(|w| w.parse().unwrap()),
            min_interval: min_interval.map(Duration::from_secs),
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_plan_and_another_seed_another() {
        let s = [
            subject("a", Some("Mon-Fri 09:00-17:00 America/New_York"), None),
            subject("b", None, None),
        ];
        let (from, until) = (ts("2026-03-02T00:00:00Z"), ts("2026-03-16T00:00:00Z"));
        let one = plan(&s, &Planner::PerDay(3), from, until, 7);
        assert_eq!(one, plan(&s, &Planner::PerDay(3), from, until, 7));
        assert_ne!(one, plan(&s, &Planner::PerDay(3), from, until, 8));
        // An experiment's plan does not depend on the others planned with it.
        let alone = plan(&s[..1], &Planner::PerDay(3), from, until, 7);
        let a_only: Vec<_> = one
            .runs
            .iter()
            .filter(|r| r.experiment == "a")
            .cloned()
            .collect();
        assert_eq!(alone.runs, a_only);
        // In the window, across the spring-forward of 8 March: 10 weekdays, 3 runs each.
        assert_eq!(a_only.len(), 30);
        for r in &a_only {
            assert!((9..17).contains(&r.at.hour()), "{}", r.at);
            assert_eq!(r.at.second(), 0);
            assert!(!matches!(
                r.at.weekday(),
                jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday
            ));
        }
        // Without a window: any time, in UTC, every day.
        let b: Vec<_> = one.runs.iter().filter(|r| r.experiment == "b").collect();
        assert_eq!(b.len(), 42);
        assert!(b
            .iter()
            .all(|r| r.at.time_zone().iana_name() == Some("UTC")));
    }

    #[test]
    fn draws_closer_than_the_minimum_interval_are_dropped() {
        let s = [subject("a", Some("daily 09:00-10:00 UTC"), Some(1800))];
        let p = plan(
            &s,
            &Planner::PerDay(6),
            ts("2026-12-01T00:00:00Z"),
            ts("2026-12-31T00:00:00Z"),
            1,
        );
        assert!(p.dropped > 0);
        for w in p.runs.windows(2) {
            assert!(
                w[1].at
                    .timestamp()
                    .duration_since(w[0].at.timestamp())
                    .as_secs()
                    >= 1800
            );
        }
        assert_eq!(p.runs.len() + p.dropped, 30 * 6);
    }

    #[test]
    fn a_mean_time_between_runs_counts_open_time_only() {
        // Eight open hours a weekday, a mean of four open hours: about two runs a weekday.
        let s = [subject("a", Some("Mon-Fri 09:00-17:00 Europe/Paris"), None)];
        let (from, until) = (ts("2026-01-05T00:00:00Z"), ts("2027-01-04T00:00:00Z"));
        let p = plan(
            &s,
            &Planner::Mean(Duration::from_secs(4 * 3600)),
            from,
            until,
            3,
        );
        let weekdays = 52 * 5;
        let per_day = p.runs.len() as f64 / weekdays as f64;
        assert!((1.7..2.3).contains(&per_day), "{per_day} runs a weekday");
        for r in &p.runs {
            assert!((9..17).contains(&r.at.hour()), "{}", r.at);
        }
        // Past the autumn change in Paris the hours are still local.
        assert!(p.runs.iter().any(|r| r.at.offset().seconds() == 3600));
        assert!(p.runs.iter().any(|r| r.at.offset().seconds() == 7200));
    }

    #[test]
    fn an_exact_date_says_when_the_window_is_closed_then() {
        let s = [
            subject("a", Some("Mon-Fri 09:00-15:00 Europe/Paris"), None),
            subject("b", None, None),
        ];
        let at = ts("2026-12-05T10:00:30Z");
        let p = plan(&s, &Planner::At(at), at, at, 0);
        assert_eq!(p.runs.len(), 2);
        assert_eq!(
            p.runs[0].at.to_string(),
            "2026-12-05T11:00:00+01:00[Europe/Paris]"
        );
        assert_eq!(
            p.runs[0].skipped.as_deref(),
            Some("Saturday is not a run day (Mon-Fri)")
        );
        assert_eq!(p.runs[1].skipped, None);
    }
}
