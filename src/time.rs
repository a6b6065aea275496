//! Points in time: the clock, `--expires`/`--for` parsing and display, and
//! periods (`--rotate-every`, `--expiring`).
//!
//! Times are stored as whole seconds since the Unix epoch, UTC. A user
//! writes either a date (`2027-01-31`, meaning 00:00 UTC that day), an RFC
//! 3339 timestamp, or a duration from now (`90d`, `12h`, `1w2d`, `30m`).

use jiff::{civil::Date, Timestamp};

/// Seconds since the Unix epoch, now.
pub fn now() -> i64 {
    Timestamp::now().as_second()
}

/// Why a time was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WhenProblem {
    Unparsable,
    InPast,
    TooFar,
}

/// The furthest a duration or date may reach: year 9999.
const MAX_SECONDS: i64 = 253_402_300_799;

/// Parses a duration such as `90d`, `12h`, `1w2d` or `45s` into seconds.
pub fn parse_duration(text: &str) -> Result<i64, WhenProblem> {
    let text = text.trim();
    if text.is_empty() {
        return Err(WhenProblem::Unparsable);
    }
    let mut total: i64 = 0;
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            'y' => 31_536_000,
            _ => return Err(WhenProblem::Unparsable),
        };
        if digits.is_empty() {
            return Err(WhenProblem::Unparsable);
        }
        let n: i64 = digits.parse().map_err(|_| WhenProblem::TooFar)?;
        digits.clear();
        total = n
            .checked_mul(unit)
            .and_then(|s| total.checked_add(s))
            .filter(|s| *s <= MAX_SECONDS)
            .ok_or(WhenProblem::TooFar)?;
    }
    if !digits.is_empty() || total == 0 {
        return Err(WhenProblem::Unparsable);
    }
    Ok(total)
}

/// Parses `--expires WHEN` relative to `now`: it must lie in the future.
pub fn parse_when(text: &str, now: i64) -> Result<i64, WhenProblem> {
    let at = if let Ok(date) = text.trim().parse::<Date>() {
        date.to_zoned(jiff::tz::TimeZone::UTC)
            .map_err(|_| WhenProblem::TooFar)?
            .timestamp()
            .as_second()
    } else if let Ok(ts) = text.trim().parse::<Timestamp>() {
        ts.as_second()
    } else {
        now.checked_add(parse_duration(text)?)
            .ok_or(WhenProblem::TooFar)?
    };
    if at <= now {
        return Err(WhenProblem::InPast);
    }
    if at > MAX_SECONDS {
        return Err(WhenProblem::TooFar);
    }
    Ok(at)
}

/// Parses `--since WHEN` relative to `now`: a date, an RFC 3339 time, or
/// a duration back from now (`7d` is seven days ago).
pub fn parse_since(text: &str, now: i64) -> Result<i64, WhenProblem> {
    if let Ok(date) = text.trim().parse::<Date>() {
        return Ok(date
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map_err(|_| WhenProblem::TooFar)?
            .timestamp()
            .as_second());
    }
    if let Ok(ts) = text.trim().parse::<Timestamp>() {
        return Ok(ts.as_second());
    }
    Ok(now.saturating_sub(parse_duration(text)?))
}

/// RFC 3339 in UTC, to the second: `2027-01-31T00:00:00Z`.
pub fn format(secs: i64) -> String {
    Timestamp::from_second(secs)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|_| "invalid-time".to_owned())
}

/// The date part only, for tables: `2027-01-31`.
pub fn format_date(secs: i64) -> String {
    Timestamp::from_second(secs)
        .map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_else(|_| "invalid-time".to_owned())
}

/// A short human span: `3d`, `5h`, `12m`, `40s`. Rounded up, so a secret
/// added with `--expires 3d` says `expires in 3d`, not `2d`, a second later.
pub fn format_span(secs: i64) -> String {
    let secs = secs.max(0);
    let up = |unit: i64| (secs + unit - 1) / unit;
    match secs {
        s if s >= 86_400 => format!("{}d", up(86_400)),
        s if s >= 3600 => format!("{}h", up(3600)),
        s if s >= 60 => format!("{}m", up(60)),
        s => format!("{s}s"),
    }
}

/// A short human span of time already passed, rounded down: overdue by
/// `10d` means at least ten whole days.
pub fn format_elapsed(secs: i64) -> String {
    let secs = secs.max(0);
    match secs {
        s if s >= 86_400 => format!("{}d", s / 86_400),
        s if s >= 3600 => format!("{}h", s / 3600),
        s if s >= 60 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// A period exactly, in its largest whole unit: `90d`, `12h`, `90m`, `45s`.
pub fn format_period(secs: i64) -> String {
    match secs {
        s if s != 0 && s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s != 0 && s % 3600 == 0 => format!("{}h", s / 3600),
        s if s != 0 && s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

pub fn serialize<S: serde::Serializer>(secs: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format(*secs))
}

pub fn serialize_opt<S: serde::Serializer>(secs: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match secs {
        Some(secs) => s.serialize_str(&format(*secs)),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_790_000_000; // 2026-09-21

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90d"), Ok(90 * 86_400));
        assert_eq!(parse_duration("12h"), Ok(12 * 3600));
        assert_eq!(parse_duration("1w2d"), Ok(9 * 86_400));
        assert_eq!(parse_duration("0d"), Err(WhenProblem::Unparsable));
        assert_eq!(parse_duration("d"), Err(WhenProblem::Unparsable));
        assert_eq!(parse_duration("12"), Err(WhenProblem::Unparsable));
        assert_eq!(parse_duration("5x"), Err(WhenProblem::Unparsable));
        assert_eq!(
            parse_duration("99999999999999999999d"),
            Err(WhenProblem::TooFar)
        );
    }

    #[test]
    fn whens() {
        assert_eq!(parse_when("2027-01-31", NOW), Ok(1_801_353_600));
        assert_eq!(parse_when("1d", NOW), Ok(NOW + 86_400));
        assert_eq!(parse_when("2020-01-01", NOW), Err(WhenProblem::InPast));
        assert_eq!(parse_when("tomorrow", NOW), Err(WhenProblem::Unparsable));
        assert_eq!(parse_when("2027-02-30", NOW), Err(WhenProblem::Unparsable));
        assert_eq!(parse_since("1d", NOW), Ok(NOW - 86_400));
        assert_eq!(parse_since("2020-01-01", NOW), Ok(1_577_836_800));
        assert_eq!(parse_since("yesterday", NOW), Err(WhenProblem::Unparsable));
        assert_eq!(format(1_801_353_600), "2027-01-31T00:00:00Z");
    }

    #[test]
    fn elapsed_rounds_down() {
        assert_eq!(format_elapsed(10 * 86_400 + 5), "10d");
        assert_eq!(format_elapsed(86_399), "23h");
        assert_eq!(format_elapsed(-5), "0s");
    }

    #[test]
    fn periods_are_exact() {
        assert_eq!(format_period(90 * 86_400), "90d");
        assert_eq!(format_period(parse_duration("1w2d").unwrap()), "9d");
        assert_eq!(format_period(parse_duration("1d1h").unwrap()), "25h");
        assert_eq!(format_period(90 * 60), "90m");
        assert_eq!(format_period(61), "61s");
    }

    #[test]
    fn spans_round_up() {
        assert_eq!(format_span(3 * 86_400), "3d");
        assert_eq!(format_span(3 * 86_400 - 1), "3d");
        assert_eq!(format_span(2 * 86_400 + 1), "3d");
        assert_eq!(format_span(86_400), "1d");
        assert_eq!(format_span(86_399), "24h");
        assert_eq!(format_span(61), "2m");
        assert_eq!(format_span(59), "59s");
        assert_eq!(format_span(-5), "0s");
    }
}
