//! The timestamps console_file writes.

/// `2026-11-23T15:09:43.593615Z` to Unix microseconds.
pub fn parse_timestamp(text: &str) -> Result<i64, String> {
    let invalid = || format!("invalid timestamp {text:?} (expected YYYY-MM-DDTHH:MM:SS.ffffffZ)");
    let body = text.strip_suffix('Z').ok_or_else(invalid)?;
    let (date, time) = body.split_once('T').ok_or_else(invalid)?;
    let number = |s: &str| s.parse::<i64>().map_err(|_| invalid());
    let mut date_parts = date.splitn(3, '-');
    let (year, month, day) = match (date_parts.next(), date_parts.next(), date_parts.next()) {
        (Some(y), Some(m), Some(d)) => (number(y)?, number(m)?, number(d)?),
        _ => return Err(invalid()),
    };
    let (clock, fraction) = time.split_once('.').unwrap_or((time, "0"));
    let mut clock_parts = clock.splitn(3, ':');
    let (hour, minute, second) = match (clock_parts.next(), clock_parts.next(), clock_parts.next())
    {
        (Some(h), Some(m), Some(s)) => (number(h)?, number(m)?, number(s)?),
        _ => return Err(invalid()),
    };
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || fraction.len() > 9 {
        return Err(invalid());
    }
    let micros = number(&format!("{fraction:0<6}")[..6])?;
    let days = days_from_civil(year, month, day);
    Ok(((days * 24 + hour) * 60 + minute) * 60_000_000 + second * 1_000_000 + micros)
}

/// Howard Hinnant's days-from-civil for the proleptic Gregorian calendar.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_to_unix_micros() {
        assert_eq!(parse_timestamp("1970-01-01T00:00:00.000001Z"), Ok(1));
        assert_eq!(
            parse_timestamp("2026-11-23T15:09:43.593615Z"),
            Ok(1_795_446_583_593_615)
        );
        assert!(parse_timestamp("2026-11-23 15:09:43Z").is_err());
    }
}
