//! Text trees of traces, drawn like the ones in Ray Serve's tracing examples:
//!
//! ```text
//! 1. proxy_http_request (proxy) - Duration: 245.10ms
//!    └── 2. proxy_route_to_replica (APIGateway) - Duration: 240.02ms
//! ```

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write;

use crate::spans_file::SpanRecord;

/// Renders every trace in `spans`, oldest first; children are ordered by start time.
pub fn render_trees(spans: &[SpanRecord]) -> String {
    let mut traces: BTreeMap<&str, Vec<&SpanRecord>> = BTreeMap::new();
    for span in spans {
        traces.entry(span.trace_id.as_str()).or_default().push(span);
    }
    let mut ordered: Vec<(&str, Vec<&SpanRecord>)> = traces.into_iter().collect();
    ordered.sort_by_key(|(_, spans)| spans.iter().map(|s| s.start_us).min());

    let mut out = String::new();
    for (trace_id, mut spans) in ordered {
        spans.sort_by_key(|s| (s.start_us, std::cmp::Reverse(s.end_us)));
        let ids: HashSet<&str> = spans.iter().map(|s| s.span_id.as_str()).collect();
        let mut children: HashMap<&str, Vec<&SpanRecord>> = HashMap::new();
        let mut roots = Vec::new();
        for span in &spans {
            match span.parent_id.as_deref() {
                Some(parent) if ids.contains(parent) => {
                    children.entry(parent).or_default().push(span)
                }
                _ => roots.push(*span),
            }
        }
        let start = spans.iter().map(|s| s.start_us).min().unwrap_or(0);
        let end = spans.iter().map(|s| s.end_us).max().unwrap_or(0);
        let _ = writeln!(
            out,
            "Trace {trace_id} ({} span{}, {})",
            spans.len(),
            if spans.len() == 1 { "" } else { "s" },
            format_duration(end - start)
        );
        let mut number = 0;
        for root in roots {
            render_span(&mut out, root, &children, "", None, &mut number);
        }
        out.push('\n');
    }
    out
}

/// `connector` is `None` for a root, else whether this is its parent's last child.
fn render_span(
    out: &mut String,
    span: &SpanRecord,
    children: &HashMap<&str, Vec<&SpanRecord>>,
    prefix: &str,
    last_child: Option<bool>,
    number: &mut usize,
) {
    *number += 1;
    let connector = match last_child {
        None => "",
        Some(true) => "└── ",
        Some(false) => "├── ",
    };
    let _ = write!(out, "{prefix}{connector}{number}. {}", span.name);
    if let Some(label) = label(span) {
        let _ = write!(out, " ({label})");
    }
    let _ = write!(out, " - Duration: {}", format_duration(span.duration_us()));
    if span.status_code == "ERROR" {
        let _ = write!(out, " [ERROR");
        if let Some(description) = &span.status_description {
            let _ = write!(out, ": {description}");
        }
        out.push(']');
    }
    if last_child.is_none() && span.parent_id.is_some() {
        let _ = write!(
            out,
            " [remote parent {}]",
            span.parent_id.as_deref().unwrap_or("")
        );
    }
    out.push('\n');
    let child_prefix = match last_child {
        None => "   ".to_string(),
        Some(true) => format!("{prefix}    "),
        Some(false) => format!("{prefix}│   "),
    };
    let kids = children
        .get(span.span_id.as_str())
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    for (i, child) in kids.iter().enumerate() {
        render_span(
            out,
            child,
            children,
            &child_prefix,
            Some(i + 1 == kids.len()),
            number,
        );
    }
}

/// The deployment a span ran in (Ray Serve's attribute), else its service.
fn label(span: &SpanRecord) -> Option<&str> {
    span.attributes
        .get("deployment")
        .and_then(|v| v.as_str())
        .or_else(|| span.service_name())
}

fn format_duration(micros: i64) -> String {
    if micros >= 1000 {
        format!("{:.2}ms", micros as f64 / 1000.0)
    } else {
        format!("{micros}µs")
    }
}
