//! Scalars spelled as Python writes them: `ensure_ascii` string escapes, `0x` hex ids,
//! integers, float `repr` and `datetime` timestamps.

use std::fmt::Write;

/// The bytes JSON with `ensure_ascii` writes as they are: printable ASCII but `"`
/// and `\`.
const PLAIN: [bool; 256] = {
    let mut plain = [false; 256];
    let mut b = b' ';
    while b <= b'~' {
        plain[b as usize] = b != b'"' && b != b'\\';
        b += 1;
    }
    plain
};

/// A JSON string with Python's `ensure_ascii=True` escaping (lower-case `\uXXXX`).
/// Runs of plain ASCII are copied whole: most attribute text needs no escaping.
pub(super) fn write_escaped(out: &mut String, s: &str) {
    out.push('"');
    let bytes = s.as_bytes();
    if is_plain(bytes) {
        out.push_str(s);
        out.push('"');
        return;
    }
    let mut plain_from = 0;
    let mut i = 0;
    while i < bytes.len() {
        if PLAIN[usize::from(bytes[i])] {
            i += 1;
            continue;
        }
        out.push_str(&s[plain_from..i]);
        let c = s[i..].chars().next().expect("i is on a character boundary");
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
        i += c.len_utf8();
        plain_from = i;
    }
    out.push_str(&s[plain_from..]);
    out.push('"');
}

/// Whether no byte of `bytes` needs escaping: eight at a time (a word with no byte
/// below 0x20, at or above 0x7f, `"` or `\`), the rest one by one.
pub(super) fn is_plain(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    /// High bit set in each byte of `word` equal to `byte` (no false negatives; a
    /// false positive only sends the string to the exact check).
    const fn equal(word: u64, byte: u8) -> u64 {
        let x = word ^ (ONES * byte as u64);
        x.wrapping_sub(ONES) & !x & HIGHS
    }
    let mut words = bytes.chunks_exact(8);
    for chunk in &mut words {
        let word = u64::from_le_bytes(chunk.try_into().expect("chunks of eight"));
        let below_space = word.wrapping_sub(ONES * 0x20) & !word & HIGHS;
        let delete = equal(word, 0x7f);
        let special = equal(word, b'"') | equal(word, b'\\');
        if (word & HIGHS) | below_space | delete | special != 0 {
            return bytes.iter().all(|&b| PLAIN[usize::from(b)]);
        }
    }
    words.remainder().iter().all(|&b| PLAIN[usize::from(b)])
}

/// `"0x<lower-case hex>"`, as the Python SDK writes ids.
pub(super) fn write_hex_id(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    // Trace ids are the longest: 16 bytes, 32 digits, with `"0x` and `"`.
    let mut text = [0u8; 36];
    text[..3].copy_from_slice(b"\"0x");
    let mut at = 3;
    for b in bytes.iter().take(16) {
        text[at] = DIGITS[usize::from(b >> 4)];
        text[at + 1] = DIGITS[usize::from(b & 0xf)];
        at += 2;
    }
    text[at] = b'"';
    out.push_str(std::str::from_utf8(&text[..=at]).expect("ASCII digits"));
}

/// Python's `json.dumps` of a float: `repr`, with `NaN`/`Infinity` spelled out.
pub fn python_float_repr(value: f64) -> String {
    if value.is_nan() {
        return "NaN".into();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    // `{:e}` gives the shortest round-trip digits, as Python's repr does.
    let sci = format!("{value:e}");
    let (mantissa, exponent) = sci.split_once('e').expect("`{:e}` always has an exponent");
    let exponent: i32 = exponent.parse().expect("`{:e}` exponent is an integer");
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let mut out = String::from(sign);
    if (-4..16).contains(&exponent) {
        let point = exponent + 1;
        if point <= 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-point) as usize));
            out.push_str(&digits);
        } else if point as usize >= digits.len() {
            out.push_str(&digits);
            out.extend(std::iter::repeat_n('0', point as usize - digits.len()));
            out.push_str(".0");
        } else {
            let (int, frac) = digits.split_at(point as usize);
            let _ = write!(out, "{int}.{frac}");
        }
    } else {
        let (first, rest) = digits.split_at(1);
        out.push_str(first);
        if !rest.is_empty() {
            let _ = write!(out, ".{rest}");
        }
        let _ = write!(
            out,
            "e{}{:02}",
            if exponent < 0 { '-' } else { '+' },
            exponent.abs()
        );
    }
    out
}

/// `i` in decimal, without `fmt`'s machinery.
pub(super) fn write_integer(out: &mut String, i: i64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = i.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if i < 0 {
        out.push('-');
    }
    digits[at..].iter().for_each(|&d| out.push(char::from(d)));
}

/// Writes `value` into `buffer` as decimal digits, zero-padded to its length.
pub(super) fn put_digits(buffer: &mut [u8], value: u64) {
    let mut rest = value;
    for slot in buffer.iter_mut().rev() {
        *slot = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
}

/// `datetime.fromtimestamp(ns / 1e9, tz=utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")`,
/// including its float division and round-half-even to microseconds.
pub(super) fn write_iso_timestamp(out: &mut String, unix_nanos: u64) {
    let seconds = unix_nanos as f64 / 1e9;
    let mut whole = seconds.trunc();
    let mut micros = ((seconds - whole) * 1e6).round_ties_even();
    if micros >= 1e6 {
        micros -= 1e6;
        whole += 1.0;
    }
    let whole = whole as i64;
    let (year, month, day) = civil_from_days(whole.div_euclid(86_400));
    let second_of_day = whole.rem_euclid(86_400) as u64;
    if !(0..=9999).contains(&year) {
        // Outside four-digit years Python's strftime pads differently; not worth a fast path.
        let _ = write!(
            out,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
            second_of_day / 3600,
            second_of_day / 60 % 60,
            second_of_day % 60,
            micros as u32
        );
        return;
    }
    let mut text = *b"0000-00-00T00:00:00.000000Z";
    put_digits(&mut text[0..4], year as u64);
    put_digits(&mut text[5..7], u64::from(month));
    put_digits(&mut text[8..10], u64::from(day));
    put_digits(&mut text[11..13], second_of_day / 3600);
    put_digits(&mut text[14..16], second_of_day / 60 % 60);
    put_digits(&mut text[17..19], second_of_day % 60);
    put_digits(&mut text[20..26], micros as u64);
    out.push_str(std::str::from_utf8(&text).expect("ASCII digits"));
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
pub(super) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests;
