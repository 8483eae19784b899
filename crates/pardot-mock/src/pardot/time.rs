//! Calendar arithmetic on the mock's clock (UTC): Pardot's `YYYY-MM-DD HH:MM:SS` timestamps,
//! v5's ISO 8601 ones, the date criteria of a v3/v4 query, and the day number that resets
//! the daily budget.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

const DAY: i64 = 86_400;

/// Seconds since the epoch (negative before it).
pub fn epoch_seconds(t: SystemTime) -> i64 {
    pardot_auth_core::clock::unix_seconds(t)
}

/// The UTC day number of `t` (days since 1970-01-01): the daily budget resets when it changes.
pub fn day_number(t: SystemTime) -> i64 {
    epoch_seconds(t).div_euclid(DAY)
}

/// (year, month, day) of a day number (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    // d is 1..=31 and m 1..=12 by construction.
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

/// The day number of a (year, month, day) (`days_from_civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn parts(t: SystemTime) -> (i64, u32, u32, i64, i64, i64) {
    let secs = epoch_seconds(t);
    let (y, m, d) = civil_from_days(secs.div_euclid(DAY));
    let rem = secs.rem_euclid(DAY);
    (y, m, d, rem / 3600, rem % 3600 / 60, rem % 60)
}

/// `YYYY-MM-DD HH:MM:SS`, as v3/v4 render every timestamp.
pub fn pardot_datetime(t: SystemTime) -> String {
    let (y, mo, d, h, mi, s) = parts(t);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}")
}

/// ISO 8601 with an explicit offset (`2024-05-01T10:02:05+00:00`), as v5 renders timestamps.
pub fn iso_datetime(t: SystemTime) -> String {
    let (y, mo, d, h, mi, s) = parts(t);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}+00:00")
}

fn from_epoch(secs: i64) -> SystemTime {
    if secs >= 0 {
        UNIX_EPOCH + Duration::from_secs(secs.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
    }
}

fn number<T: std::str::FromStr>(text: &str, len: usize) -> Option<T> {
    if text.len() == len && text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse().ok()
    } else {
        None
    }
}

/// Parses `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS]` or `YYYY-MM-DDTHH:MM[:SS]`: UTC, or ISO 8601
/// with a `Z` or an offset after the time (`+02:00`, `-0530`, `+01`).
pub fn parse_datetime(text: &str) -> Option<SystemTime> {
    let text = text.trim();
    let (date, time) = match text.find([' ', 'T']) {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    let mut date_parts = date.split('-');
    let y: i64 = number(date_parts.next()?, 4)?;
    let m: u32 = number(date_parts.next()?, 2)?;
    let d: u32 = number(date_parts.next()?, 2)?;
    if date_parts.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let day = days_from_civil(y, m, d);
    // A day past the month's end (`2024-02-30`) is not a date, not the next month's.
    if civil_from_days(day) != (y, m, d) {
        return None;
    }
    let mut secs = day * DAY;
    if let Some(time) = time {
        let (time, offset) = split_offset(time)?;
        let mut time_parts = time.split(':');
        let h: i64 = number(time_parts.next()?, 2)?;
        let mi: i64 = number(time_parts.next()?, 2)?;
        let s: i64 = match time_parts.next() {
            Some(s) => number(s, 2)?,
            None => 0,
        };
        if time_parts.next().is_some() || h > 23 || mi > 59 || s > 60 {
            return None;
        }
        secs += h * 3600 + mi * 60 + s - offset;
    }
    Some(from_epoch(secs))
}

/// Splits a time of day from its zone: none or `Z` is UTC (offset 0), else `±HH[:MM]` or
/// `±HHMM`, in seconds east of UTC.
fn split_offset(time: &str) -> Option<(&str, i64)> {
    if let Some(time) = time.strip_suffix('Z') {
        return Some((time, 0));
    }
    let Some(i) = time.find(['+', '-']) else {
        return Some((time, 0));
    };
    let sign = if time.as_bytes()[i] == b'-' { -1 } else { 1 };
    let zone = &time[i + 1..];
    let (h, m) = match (zone.len(), zone.split_once(':')) {
        (_, Some((h, m))) => (number::<i64>(h, 2)?, number::<i64>(m, 2)?),
        (2, None) => (number::<i64>(zone, 2)?, 0),
        (4, None) => (number::<i64>(&zone[..2], 2)?, number::<i64>(&zone[2..], 2)?),
        _ => return None,
    };
    if h > 23 || m > 59 {
        return None;
    }
    Some((&time[..i], sign * (h * 3600 + m * 60)))
}

/// A v3/v4 time criterion: `today`, `yesterday`, `last_7_days`, `this_month`, `last_month`
/// (start of that span on the mock's clock) or a custom timestamp.
pub fn parse_criterion(text: &str, now: SystemTime) -> Option<SystemTime> {
    let today = day_number(now);
    let (y, m, _) = civil_from_days(today);
    let start_of = |day: i64| Some(from_epoch(day * DAY));
    match text.trim().to_ascii_lowercase().as_str() {
        "today" => start_of(today),
        "yesterday" => start_of(today - 1),
        "last_7_days" => start_of(today - 7),
        "this_month" => start_of(days_from_civil(y, m, 1)),
        "last_month" => {
            let (py, pm) = if m == 1 { (y - 1, 12) } else { (y, m - 1) };
            start_of(days_from_civil(py, pm, 1))
        }
        _ => parse_datetime(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let t = parse_datetime("2016-01-17 04:49:51").unwrap();
        assert_eq!(pardot_datetime(t), "2016-01-17 04:49:51");
        assert_eq!(iso_datetime(t), "2016-01-17T04:49:51+00:00");
        assert_eq!(epoch_seconds(t), 1_453_006_191);
        assert_eq!(
            parse_datetime("2024-02-29"),
            parse_datetime("2024-02-29T00:00:00Z")
        );
        assert_eq!(parse_datetime("2024-13-01"), None);
        assert_eq!(parse_datetime("2023-02-29"), None);
        assert_eq!(parse_datetime("2024-04-31 10:00:00"), None);
        assert_eq!(
            parse_datetime("2016-01-17T06:49:51+02:00"),
            Some(t),
            "an offset east of UTC"
        );
        assert_eq!(parse_datetime("2016-01-16T23:19:51-0530"), Some(t));
        assert_eq!(parse_datetime("2016-01-17T05:49:51+01"), Some(t));
        assert_eq!(parse_datetime("2016-01-17T04:49:51+00:00"), Some(t));
        assert_eq!(parse_datetime("2016-01-17T04:49:51+2"), None);
        assert_eq!(parse_datetime("2016-01-17T04:49:51+24:00"), None);
        assert_eq!(parse_datetime("soon"), None);
    }

    #[test]
    fn criteria_are_relative_to_the_clock() {
        let now = parse_datetime("2024-03-10 15:00:00").unwrap();
        assert_eq!(parse_criterion("today", now), parse_datetime("2024-03-10"));
        assert_eq!(
            parse_criterion("yesterday", now),
            parse_datetime("2024-03-09")
        );
        assert_eq!(
            parse_criterion("last_month", now),
            parse_datetime("2024-02-01")
        );
        assert_eq!(
            day_number(parse_datetime("2024-03-10 23:59:59").unwrap()) + 1,
            day_number(parse_datetime("2024-03-11 00:00:00").unwrap())
        );
    }
}
