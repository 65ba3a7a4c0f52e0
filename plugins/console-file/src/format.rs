//! Spans as JSON, byte for byte as the Python SDK's `ReadableSpan.to_json(indent=4)`
//! writes them: key order, indentation, `0x` ids, `ensure_ascii` escapes, Python float
//! repr and `datetime.fromtimestamp` rounding of timestamps.

use spanplug_api::{KeyValue, SpanContext, SpanView, ValueRef};

mod json_writer;
mod python;

use json_writer::JsonWriter;
pub use python::python_float_repr;

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
