//! One record's text to a [`SpanRecord`]: console_file's JSON as Python's `json`
//! module or the Rust writer produced it.

use std::path::Path;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{parse_timestamp, SpanRecord};

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

pub(crate) fn parse_record(text: &str, file: &Path) -> Result<SpanRecord, String> {
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
}
