//! Durations in settings: `500ms`, `5s`, `1.5s`, `2m`, `1h`, `1d`, `2m30s`, or a number of
//! seconds.

use std::time::Duration;

/// What a duration looks like, for messages.
pub(crate) const DURATION_HELP: &str =
    "expected a duration such as \"500ms\", \"5s\", \"1.5s\", \"2m\" or \"1h\", or a number of seconds";

/// Parses `500ms`, `5s`, `1.5s`, `2m`, `1h`, `1d`, `2m30s`, or a bare number of seconds, as
/// settings files write durations; the error says what was wrong.
///
/// ```
/// use chaos_runtime::settings::parse_duration;
/// use std::time::Duration;
/// assert_eq!(parse_duration("1d12h"), Ok(Duration::from_secs(129_600)));
/// assert!(parse_duration("5x").unwrap_err().starts_with("malformed duration \"5x\""));
/// ```
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let malformed = || format!("malformed duration {text:?}: {DURATION_HELP}");
    let s = text.trim();
    if s.is_empty() {
        return Err(malformed());
    }
    if let Ok(secs) = s.parse::<f64>() {
        return secs_to_duration(secs).ok_or_else(malformed);
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let value: f64 = rest[..digits].parse().map_err(|_| malformed())?;
        rest = &rest[digits..];
        let unit = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let secs = match &rest[..unit] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86_400.0,
            _ => return Err(malformed()),
        };
        total += value * secs;
        rest = &rest[unit..];
    }
    secs_to_duration(total).ok_or_else(malformed)
}

pub(super) fn secs_to_duration(secs: f64) -> Option<Duration> {
    let nanos = (secs * 1e9).round();
    (nanos.is_finite() && nanos >= 0.0 && nanos <= u64::MAX as f64)
        .then(|| Duration::from_nanos(nanos as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let ok = |s: &str| parse_duration(s).unwrap();
        assert_eq!(ok("500ms"), Duration::from_millis(500));
        assert_eq!(ok("5s"), Duration::from_secs(5));
        assert_eq!(ok("1.5s"), Duration::from_millis(1500));
        assert_eq!(ok("2m"), Duration::from_secs(120));
        assert_eq!(ok("1h"), Duration::from_secs(3600));
        assert_eq!(ok("2m30s"), Duration::from_secs(150));
        assert_eq!(ok("1d12h"), Duration::from_secs(129_600));
        assert_eq!(ok("0.1s"), Duration::from_millis(100));
        assert_eq!(ok("3"), Duration::from_secs(3));
        for bad in ["", "5x", "s", "-1s", "1.2.3s", "5 s", "inf", "NaN", "-3"] {
            let err = parse_duration(bad).unwrap_err();
            assert!(err.starts_with("malformed duration"), "{bad}: {err}");
        }
    }
}
