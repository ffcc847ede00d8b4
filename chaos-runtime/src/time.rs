//! Timestamps and durations as journals and verdicts write them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Formats a wall-clock time as Chaos Toolkit does: `2026-11-21T22:35:52.489746+00:00`.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// let t = UNIX_EPOCH + Duration::from_micros(1_795_300_552_489_746);
/// assert_eq!(chaos_runtime::time::rfc3339(t), "2026-11-21T22:35:52.489746+00:00");
/// ```
pub fn rfc3339(t: SystemTime) -> String {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let micros = since.subsec_micros();
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}+00:00",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day) (H. Hinnant's algorithm).
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A short human form of a duration: `250ms`, `1.5s`, `2m`, `2m30s`.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(chaos_runtime::time::human(Duration::from_millis(250)), "250ms");
/// assert_eq!(chaos_runtime::time::human(Duration::from_millis(1500)), "1.5s");
/// assert_eq!(chaos_runtime::time::human(Duration::from_secs(150)), "2m30s");
/// ```
pub fn human(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        if ms == 0 && d.as_micros() > 0 {
            return format!("{}µs", d.as_micros());
        }
        format!("{ms}ms")
    } else if ms < 60_000 {
        if ms.is_multiple_of(1000) {
            format!("{}s", ms / 1000)
        } else {
            format!("{}s", (ms as f64 / 1000.0))
        }
    } else {
        let s = ms / 1000;
        if s.is_multiple_of(60) {
            format!("{}m", s / 60)
        } else {
            format!("{}m{}s", s / 60, s % 60)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_and_leap_days() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000000+00:00");
        // 2024-02-29T12:00:00Z
        let t = UNIX_EPOCH + Duration::from_secs(1_709_208_000);
        assert_eq!(rfc3339(t), "2024-02-29T12:00:00.000000+00:00");
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }
}
