//! Spans as JSON, byte for byte as the Python SDK's `ReadableSpan.to_json(indent=4)`
//! writes them: key order, indentation, `0x` ids, `ensure_ascii` escapes, Python float
//! repr and `datetime.fromtimestamp` rounding of timestamps.

use std::fmt::Write;

use spanplug_api::{KeyValue, SpanContext, SpanView, ValueRef};

/// `Pretty` is the ConsoleSpanExporter layout; `Lines` is one compact object per line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    Pretty,
    Lines,
}

/// Appends one span and its trailing newline to `out`.
pub fn write_span(out: &mut String, span: &SpanView<'_>, layout: Layout) {
    let mut json = JsonWriter::new(out, layout);
    json.begin_object();
    json.key("name");
    json.string(span.name.as_str());
    json.key("context");
    write_context(&mut json, &span.context);
    json.key("kind");
    json.raw("\"SpanKind.");
    json.raw(span.kind.as_str());
    json.raw("\"");
    json.key("parent_id");
    if span.parent_span_id.is_valid() {
        json.hex_id(&span.parent_span_id.0);
    } else {
        json.raw("null");
    }
    json.key("start_time");
    json.timestamp(span.start_time_unix_nano);
    json.key("end_time");
    json.timestamp(span.end_time_unix_nano);
    json.key("status");
    json.begin_object();
    json.key("status_code");
    json.string(span.status.code.as_str());
    if !span.status.description.is_empty() {
        json.key("description");
        json.string(span.status.description.as_str());
    }
    json.end_object();
    json.key("attributes");
    write_attributes(&mut json, span.attributes.as_slice());
    json.key("events");
    json.begin_array();
    for event in span.events.iter() {
        json.item_separator();
        json.begin_object();
        json.key("name");
        json.string(event.name.as_str());
        json.key("timestamp");
        json.timestamp(event.time_unix_nano);
        json.key("attributes");
        write_attributes(&mut json, event.attributes.as_slice());
        json.end_object();
    }
    json.end_array();
    json.key("links");
    json.begin_array();
    for link in span.links.iter() {
        json.item_separator();
        json.begin_object();
        json.key("context");
        write_context(&mut json, &link.context);
        json.key("attributes");
        write_attributes(&mut json, link.attributes.as_slice());
        json.end_object();
    }
    json.end_array();
    json.key("resource");
    json.begin_object();
    json.key("attributes");
    write_attributes(&mut json, span.resource.attributes.as_slice());
    json.key("schema_url");
    json.string(span.resource.schema_url.as_str());
    json.end_object();
    json.end_object();
    out.push('\n');
}

fn write_context(json: &mut JsonWriter<'_>, context: &SpanContext<'_>) {
    json.begin_object();
    json.key("trace_id");
    json.hex_id(&context.trace_id.0);
    json.key("span_id");
    json.hex_id(&context.span_id.0);
    json.key("trace_state");
    json.string(&trace_state_repr(context));
    json.end_object();
}

/// Python's `repr` of the SDK's list of `'{key=K, value=V}'` strings.
fn trace_state_repr(context: &SpanContext<'_>) -> String {
    if context.trace_state.is_empty() {
        return "[]".into();
    }
    let items: Vec<String> = context
        .trace_state_entries()
        .map(|(k, v)| python_str_repr(&format!("{{key={k}, value={v}}}")))
        .collect();
    format!("[{}]", items.join(", "))
}

fn python_str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        if c == quote || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push(quote);
    out
}

fn write_attributes(json: &mut JsonWriter<'_>, attributes: &[KeyValue<'_>]) {
    json.begin_object();
    for kv in attributes {
        json.key(kv.key.as_str());
        match kv.value.get() {
            ValueRef::Bool(b) => json.raw(if b { "true" } else { "false" }),
            ValueRef::I64(i) => json.integer(i),
            ValueRef::F64(f) => json.raw(&python_float_repr(f)),
            ValueRef::String(s) => json.string(s),
            ValueRef::BoolArray(items) => json.array(items.iter(), |j, b| {
                j.raw(if *b { "true" } else { "false" })
            }),
            ValueRef::I64Array(items) => json.array(items.iter(), |j, i| j.integer(*i)),
            ValueRef::F64Array(items) => {
                json.array(items.iter(), |j, f| j.raw(&python_float_repr(*f)))
            }
            ValueRef::StringArray(items) => json.array(items.iter(), |j, s| j.string(s.as_str())),
            // A kind this plugin's interface does not know (the host counts them).
            _ => json.raw("null"),
        }
    }
    json.end_object();
}

/// A streaming writer with Python `json.dumps` spacing: `indent=4` when pretty,
/// `separators=(",", ":")` otherwise.
struct JsonWriter<'o> {
    out: &'o mut String,
    layout: Layout,
    depth: usize,
    /// Whether the innermost open container is still empty.
    empty: bool,
}

impl<'o> JsonWriter<'o> {
    fn new(out: &'o mut String, layout: Layout) -> Self {
        JsonWriter {
            out,
            layout,
            depth: 0,
            empty: true,
        }
    }

    /// Starts the next key or array element.
    fn item_separator(&mut self) {
        if !self.empty {
            self.out.push(',');
        }
        self.empty = false;
        if self.layout == Layout::Pretty {
            self.newline(self.depth);
        }
    }

    fn newline(&mut self, depth: usize) {
        self.out.push('\n');
        for _ in 0..depth {
            self.out.push_str("    ");
        }
    }

    fn open(&mut self, bracket: char) {
        self.out.push(bracket);
        self.depth += 1;
        self.empty = true;
    }

    fn close(&mut self, bracket: char) {
        self.depth -= 1;
        if !self.empty && self.layout == Layout::Pretty {
            self.newline(self.depth);
        }
        self.out.push(bracket);
        // The enclosing container holds at least this value.
        self.empty = false;
    }

    fn begin_object(&mut self) {
        self.open('{');
    }

    fn end_object(&mut self) {
        self.close('}');
    }

    fn begin_array(&mut self) {
        self.open('[');
    }

    fn end_array(&mut self) {
        self.close(']');
    }

    /// An object key; the value written next belongs to it.
    fn key(&mut self, key: &str) {
        self.item_separator();
        write_escaped(self.out, key);
        self.out.push_str(if self.layout == Layout::Pretty {
            ": "
        } else {
            ":"
        });
    }

    fn array<T>(&mut self, items: impl Iterator<Item = T>, mut write: impl FnMut(&mut Self, T)) {
        self.begin_array();
        for item in items {
            self.item_separator();
            write(self, item);
        }
        self.end_array();
    }

    fn raw(&mut self, text: &str) {
        self.out.push_str(text);
    }

    fn string(&mut self, s: &str) {
        write_escaped(self.out, s);
    }

    fn hex_id(&mut self, bytes: &[u8]) {
        write_hex_id(self.out, bytes);
    }

    fn integer(&mut self, i: i64) {
        let _ = write!(self.out, "{i}");
    }

    fn timestamp(&mut self, unix_nanos: u64) {
        self.out.push('"');
        write_iso_timestamp(self.out, unix_nanos);
        self.out.push('"');
    }
}

/// A JSON string with Python's `ensure_ascii=True` escaping (lower-case `\uXXXX`).
/// Runs of plain ASCII are copied whole: most attribute text needs no escaping.
fn write_escaped(out: &mut String, s: &str) {
    out.push('"');
    let bytes = s.as_bytes();
    let mut plain_from = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\' {
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

/// `"0x<lower-case hex>"`, as the Python SDK writes ids.
fn write_hex_id(out: &mut String, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    out.push_str("\"0x");
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out.push('"');
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

/// `datetime.fromtimestamp(ns / 1e9, tz=utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")`,
/// including its float division and round-half-even to microseconds.
fn write_iso_timestamp(out: &mut String, unix_nanos: u64) {
    let seconds = unix_nanos as f64 / 1e9;
    let mut whole = seconds.trunc();
    let mut micros = ((seconds - whole) * 1e6).round_ties_even();
    if micros >= 1e6 {
        micros -= 1e6;
        whole += 1.0;
    }
    let whole = whole as i64;
    let (year, month, day) = civil_from_days(whole.div_euclid(86_400));
    let second_of_day = whole.rem_euclid(86_400);
    let _ = write!(
        out,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60,
        micros as u32
    );
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
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
mod tests {
    use super::*;

    #[test]
    fn floats_match_python_repr() {
        let cases = [
            (0.25, "0.25"),
            (1.0, "1.0"),
            (0.5, "0.5"),
            (-0.0, "-0.0"),
            (1e16, "1e+16"),
            (1.5e-7, "1.5e-07"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (123456789.125, "123456789.125"),
            (1e15, "1000000000000000.0"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
        ];
        for (value, expected) in cases {
            assert_eq!(python_float_repr(value), expected, "{value}");
        }
    }

    #[test]
    fn timestamps_match_python_datetime() {
        let mut out = String::new();
        write_iso_timestamp(&mut out, 1_795_446_583_593_615_123);
        assert_eq!(out, "2026-11-23T15:09:43.593615Z");
        out.clear();
        write_iso_timestamp(&mut out, 951_782_400_000_000_000);
        assert_eq!(out, "2000-02-29T00:00:00.000000Z");
    }

    #[test]
    fn non_ascii_is_escaped_like_ensure_ascii() {
        let mut out = String::new();
        write_escaped(&mut out, "é\u{1F600}\u{1}\"");
        assert_eq!(out, r#""\u00e9\ud83d\ude00\u0001\"""#);
    }
}
