//! Spans as JSON, byte for byte as the Python SDK's `ReadableSpan.to_json(indent=4)`
//! writes them: key order, indentation, `0x` ids, `ensure_ascii` escapes, Python float
//! repr and `datetime.fromtimestamp` rounding of timestamps.

use std::fmt::Write;

use spanplug_api::{KeyValue, SpanContext, SpanView, ValueRef};

/// `Pretty` is the ConsoleSpanExporter layout; `Lines` is one compact object per line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// Indented as the Python SDK writes it (`to_json(indent=4)`); files end in `.json`.
    Pretty,
    /// One compact object per line (JSON Lines); files end in `.jsonl`.
    Lines,
}

/// One of the span layout's own keys (which need no escaping) with its quotes and
/// separator, as one literal per layout: one copy instead of four.
macro_rules! field {
    ($json:expr, $key:literal) => {
        $json.field(concat!("\"", $key, "\": "), concat!("\"", $key, "\":"))
    };
}

/// Appends one span and its trailing newline to `out`.
pub fn write_span(out: &mut String, span: &SpanView<'_>, layout: Layout) {
    let mut json = JsonWriter::new(out, layout);
    json.begin_object();
    field!(json, "name");
    json.string(span.name.as_str());
    field!(json, "context");
    write_context(&mut json, &span.context);
    field!(json, "kind");
    json.raw("\"SpanKind.");
    json.raw(span.kind.as_str());
    json.raw("\"");
    field!(json, "parent_id");
    if span.parent_span_id.is_valid() {
        json.hex_id(&span.parent_span_id.0);
    } else {
        json.raw("null");
    }
    field!(json, "start_time");
    json.timestamp(span.start_time_unix_nano);
    field!(json, "end_time");
    json.timestamp(span.end_time_unix_nano);
    field!(json, "status");
    json.begin_object();
    field!(json, "status_code");
    json.string(span.status.code.as_str());
    if !span.status.description.is_empty() {
        field!(json, "description");
        json.string(span.status.description.as_str());
    }
    json.end_object();
    field!(json, "attributes");
    write_attributes(&mut json, span.attributes.as_slice());
    field!(json, "events");
    json.begin_array();
    for event in span.events.iter() {
        json.item_separator();
        json.begin_object();
        field!(json, "name");
        json.string(event.name.as_str());
        field!(json, "timestamp");
        json.timestamp(event.time_unix_nano);
        field!(json, "attributes");
        write_attributes(&mut json, event.attributes.as_slice());
        json.end_object();
    }
    json.end_array();
    field!(json, "links");
    json.begin_array();
    for link in span.links.iter() {
        json.item_separator();
        json.begin_object();
        field!(json, "context");
        write_context(&mut json, &link.context);
        field!(json, "attributes");
        write_attributes(&mut json, link.attributes.as_slice());
        json.end_object();
    }
    json.end_array();
    field!(json, "resource");
    json.begin_object();
    field!(json, "attributes");
    write_attributes(&mut json, span.resource.attributes.as_slice());
    field!(json, "schema_url");
    json.string(span.resource.schema_url.as_str());
    json.end_object();
    json.end_object();
    out.push('\n');
}

fn write_context(json: &mut JsonWriter<'_>, context: &SpanContext<'_>) {
    json.begin_object();
    field!(json, "trace_id");
    json.hex_id(&context.trace_id.0);
    field!(json, "span_id");
    json.hex_id(&context.span_id.0);
    field!(json, "trace_state");
    if context.trace_state.is_empty() {
        json.raw("\"[]\"");
    } else {
        json.string(&trace_state_repr(context));
    }
    json.end_object();
}

/// Python's `repr` of the SDK's list of `'{key=K, value=V}'` strings.
fn trace_state_repr(context: &SpanContext<'_>) -> String {
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

    /// Starts the next key or array element: the comma, newline and indentation
    /// in one copy.
    fn item_separator(&mut self) {
        let comma = !self.empty;
        self.empty = false;
        match (self.layout, comma) {
            (Layout::Pretty, true) => self.indent(",", self.depth),
            (Layout::Pretty, false) => self.newline(self.depth),
            (Layout::Lines, true) => self.out.push(','),
            (Layout::Lines, false) => {}
        }
    }

    fn newline(&mut self, depth: usize) {
        self.indent("", depth);
    }

    /// `before` (nothing or a comma), a newline and `depth` levels of indentation.
    fn indent(&mut self, before: &str, depth: usize) {
        /// A comma, a newline and the indentation of the deepest level spans reach:
        /// cut to size.
        const SEPARATOR: &str = concat!(
            ",\n",
            "                                ",
            "                                "
        );
        let start = 1 - before.len();
        match SEPARATOR.get(start..2 + 4 * depth) {
            Some(text) => self.out.push_str(text),
            None => {
                self.out.push_str(before);
                self.out.push('\n');
                (0..depth).for_each(|_| self.out.push_str("    "));
            }
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

    /// A key of the span layout, already quoted and followed by its separator in
    /// each layout (see [`field!`]).
    #[inline(always)]
    fn field(&mut self, pretty: &'static str, lines: &'static str) {
        self.item_separator();
        self.out.push_str(match self.layout {
            Layout::Pretty => pretty,
            Layout::Lines => lines,
        });
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
        write_integer(self.out, i);
    }

    fn timestamp(&mut self, unix_nanos: u64) {
        self.out.push('"');
        write_iso_timestamp(self.out, unix_nanos);
        self.out.push('"');
    }
}

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
fn write_escaped(out: &mut String, s: &str) {
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
fn is_plain(bytes: &[u8]) -> bool {
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
fn write_hex_id(out: &mut String, bytes: &[u8]) {
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
fn write_integer(out: &mut String, i: i64) {
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
fn put_digits(buffer: &mut [u8], value: u64) {
    let mut rest = value;
    for slot in buffer.iter_mut().rev() {
        *slot = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
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
mod tests;
