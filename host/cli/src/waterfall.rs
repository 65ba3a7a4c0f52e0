//! `spanplug view`: console_file output as one self-contained HTML page (no network,
//! no CDN) with a waterfall per trace: service, span name, offset, a duration bar
//! coloured by status, and the attributes and events of a span on click or hover.

use std::io::{self, Write as _};
use std::path::Path;

use serde_json::{json, Value};

use crate::spans_file::SpanRecord;
use crate::staged::Staged;

const TEMPLATE: &str = include_str!("waterfall.html");
const DATA_MARKER: &str = "/*SPANS*/null";

/// The page for `spans`; spans are grouped into traces by the page's script.
pub fn render_html(spans: &[SpanRecord]) -> String {
    let data: Vec<Value> = spans
        .iter()
        .map(|span| {
            json!({
                "name": span.name,
                "trace_id": span.trace_id,
                "span_id": span.span_id,
                "parent_id": span.parent_id,
                "kind": span.kind.trim_start_matches("SpanKind."),
                "start_us": span.start_us,
                "end_us": span.end_us,
                "status": span.status_code,
                "description": span.status_description,
                "service": span.service_name().unwrap_or("unknown service"),
                "attributes": span.attributes,
                "events": span.events,
            })
        })
        .collect();
    // Inside a <script>, "</script>" or "<!--" in a span name must not end it.
    let json = serde_json::to_string(&data)
        .expect("span records always serialize")
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    TEMPLATE.replacen(DATA_MARKER, &json, 1)
}

/// Writes the page for `spans` to `output`, mode 0600 like the span files it shows:
/// into a file created exclusively beside it, then renamed over it, so an existing
/// file is replaced (never written through a link, never left half-written, never
/// keeping a wider mode).
pub fn write_page(spans: &[SpanRecord], output: &Path) -> io::Result<()> {
    let (staged, mut file) = Staged::create(output, 0o600)?;
    file.write_all(render_html(spans).as_bytes())?;
    staged.rename_into_place()
}
