//! Reads what `console_file` writes (pretty or jsonl) back into span records.
//!
//! Records are found by line: each starts with `{` in the first column, so one bad
//! record (truncated by a crash, hand-edited, interleaved) is reported with its line
//! number and the rest of the file is still read.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value};

/// One span as the console exporter wrote it.
#[derive(Clone, Debug, PartialEq)]
pub struct SpanRecord {
    /// The span name.
    pub name: String,
    /// Hex, `0x`-prefixed, as written.
    pub trace_id: String,
    /// Hex, `0x`-prefixed, as written.
    pub span_id: String,
    /// The SDK's repr of the trace state (`[]` when empty).
    pub trace_state: String,
    /// The parent span's id, or None for a root.
    pub parent_id: Option<String>,
    /// `SpanKind.SERVER` and so on, as written.
    pub kind: String,
    /// Unix microseconds.
    pub start_us: i64,
    /// Unix microseconds.
    pub end_us: i64,
    /// `UNSET`, `OK` or `ERROR`.
    pub status_code: String,
    /// The status's description, if any.
    pub status_description: Option<String>,
    /// The span's attributes, as JSON values.
    pub attributes: Map<String, Value>,
    /// The events, as written.
    pub events: Vec<Value>,
    /// The links, as written.
    pub links: Vec<Value>,
    /// The resource's attributes.
    pub resource: Map<String, Value>,
    /// The file the span was read from.
    pub file: PathBuf,
}

impl SpanRecord {
    /// End minus start, in microseconds.
    pub fn duration_us(&self) -> i64 {
        self.end_us - self.start_us
    }

    /// The resource's `service.name`.
    pub fn service_name(&self) -> Option<&str> {
        self.resource.get("service.name").and_then(Value::as_str)
    }
}

/// A record that could not be read, and where it was.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    /// The span file.
    pub file: PathBuf,
    /// The line the record starts on (1-based).
    pub line: usize,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
    }
}

/// Every span read from a set of span files, and every record that could not be.
#[derive(Debug, Default)]
pub struct SpanSet {
    /// The spans, in file and line order.
    pub spans: Vec<SpanRecord>,
    /// The records that could not be read.
    pub problems: Vec<Problem>,
}

#[derive(Deserialize)]
struct RawSpan {
    name: String,
    context: RawContext,
    kind: String,
    parent_id: Option<String>,
    start_time: String,
    end_time: String,
    status: RawStatus,
    #[serde(default)]
    attributes: Map<String, Value>,
    #[serde(default)]
    events: Vec<Value>,
    #[serde(default)]
    links: Vec<Value>,
    #[serde(default)]
    resource: RawResource,
}

#[derive(Deserialize)]
struct RawContext {
    trace_id: String,
    span_id: String,
    #[serde(default)]
    trace_state: String,
}

#[derive(Deserialize)]
struct RawStatus {
    status_code: String,
    description: Option<String>,
}

#[derive(Deserialize, Default)]
struct RawResource {
    #[serde(default)]
    attributes: Map<String, Value>,
}

/// Reads a span file, or every `.json`/`.jsonl` file in a folder (and in its
/// `spans/` subfolder, where `console_file` writes).
pub fn read_spans(path: &Path) -> std::io::Result<SpanSet> {
    let mut set = SpanSet::default();
    for file in span_files(path)? {
        let text = std::fs::read(&file)?;
        parse_into(&String::from_utf8_lossy(&text), &file, &mut set);
    }
    Ok(set)
}

/// The span files [`read_spans`] reads for `path`.
pub fn span_files(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    if !path.is_dir() {
        std::fs::metadata(path)?;
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    for dir in [path.to_path_buf(), path.join("spans")] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let file = entry.path();
            let is_span_file = file
                .extension()
                .is_some_and(|ext| ext == "json" || ext == "jsonl");
            if is_span_file && file.is_file() {
                files.push(file);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Parses the records of one file's text into `set`.
pub fn parse_into(text: &str, file: &Path, set: &mut SpanSet) {
    let mut record = String::new();
    let mut record_line = 0;
    let finish = |record: &mut String, line: usize, set: &mut SpanSet| {
        if record.trim().is_empty() {
            record.clear();
            return;
        }
        match parse_record(record, file) {
            Ok(span) => set.spans.push(span),
            Err(message) => set.problems.push(Problem {
                file: file.to_path_buf(),
                line,
                message,
            }),
        }
        record.clear();
    };
    for (index, line) in text.lines().enumerate() {
        if line.starts_with('{') {
            finish(&mut record, record_line, set);
            record_line = index + 1;
        } else if record.is_empty() && !line.trim().is_empty() {
            set.problems.push(Problem {
                file: file.to_path_buf(),
                line: index + 1,
                message: "text outside any span record".into(),
            });
            continue;
        }
        record.push_str(line);
        record.push('\n');
    }
    finish(&mut record, record_line, set);
}

/// Python's `json` module writes non-finite floats as the bare words `NaN`,
/// `Infinity` and `-Infinity`, which JSON lacks: outside strings they become the
/// strings `"NaN"`, `"Infinity"` and `"-Infinity"`, so such a value reads back as
/// the text Python printed for it.
fn python_json(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains("NaN") && !text.contains("Infinity") {
        return text.into();
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut in_string = false;
    let mut escaped = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if in_string {
            in_string = escaped || c != '"';
            escaped = !escaped && c == '\\';
        } else if c == '"' {
            in_string = true;
        } else if let Some(word) = ["NaN", "Infinity", "-Infinity"]
            .into_iter()
            .find(|word| rest.starts_with(word))
        {
            out.push('"');
            out.push_str(word);
            out.push('"');
            rest = &rest[word.len()..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out.into()
}

fn parse_record(text: &str, file: &Path) -> Result<SpanRecord, String> {
    let raw: RawSpan =
        serde_json::from_str(&python_json(text)).map_err(|e| format!("not a span record: {e}"))?;
    Ok(SpanRecord {
        start_us: parse_timestamp(&raw.start_time)?,
        end_us: parse_timestamp(&raw.end_time)?,
        name: raw.name,
        trace_id: raw.context.trace_id,
        span_id: raw.context.span_id,
        trace_state: raw.context.trace_state,
        parent_id: raw.parent_id,
        kind: raw.kind,
        status_code: raw.status.status_code,
        status_description: raw.status.description,
        attributes: raw.attributes,
        events: raw.events,
        links: raw.links,
        resource: raw.resource.attributes,
        file: file.to_path_buf(),
    })
}

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
    fn non_finite_floats_read_back_as_python_wrote_them() {
        let text = "{\"a\": [NaN, Infinity, -Infinity, 1.5], \"b\": \"NaN \\\" Infinity\"}";
        let value: serde_json::Value = serde_json::from_str(&python_json(text)).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"a": ["NaN", "Infinity", "-Infinity", 1.5], "b": "NaN \" Infinity"})
        );
    }

    #[test]
    fn timestamps_round_trip_to_unix_micros() {
        assert_eq!(parse_timestamp("1970-01-01T00:00:00.000001Z"), Ok(1));
        assert_eq!(
            parse_timestamp("2026-11-23T15:09:43.593615Z"),
            Ok(1_795_446_583_593_615)
        );
        assert!(parse_timestamp("2026-11-23 15:09:43Z").is_err());
    }

    #[test]
    fn bad_records_are_reported_and_the_rest_read() {
        let good = r#"{"name": "a", "context": {"trace_id": "0x1", "span_id": "0x2", "trace_state": "[]"}, "kind": "SpanKind.INTERNAL", "parent_id": null, "start_time": "2026-01-01T00:00:00.000000Z", "end_time": "2026-01-01T00:00:00.000100Z", "status": {"status_code": "UNSET"}}"#;
        let text = format!("{good}\n{{\"name\": \"trunc\n{good}\n");
        let mut set = SpanSet::default();
        parse_into(&text, Path::new("x.jsonl"), &mut set);
        assert_eq!(set.spans.len(), 2);
        assert_eq!(set.problems.len(), 1);
        assert_eq!(set.problems[0].line, 2);
        assert_eq!(set.spans[0].duration_us(), 100);
    }
}
