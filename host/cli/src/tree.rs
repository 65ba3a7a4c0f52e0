//! Text trees of traces, drawn like the ones in Ray Serve's tracing examples:
//!
//! ```text
//! 1. proxy_http_request (proxy) - Duration: 245.10ms
//!    └── 2. proxy_route_to_replica (APIGateway) - Duration: 240.02ms
//! ```

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write;

use crate::spans_file::SpanRecord;
use crate::terminal::escape;

/// Indentation stops at this depth; deeper lines say their depth instead, so that the
/// output stays linear in the number of spans however deep a trace is.
pub const MAX_INDENT: usize = 32;

/// Renders every trace in `spans`, oldest first; children are ordered by start time.
/// Iterative and linear in spans: a span whose parent is not in the file is shown as
/// a root flagged with its remote parent; spans in a parent cycle (which no root
/// reaches) are shown after the rest, flagged; none is dropped. Names, descriptions
/// and ids go through [`escape`] (terminal controls, bidi overrides, line separators).
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
        let mut children: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut roots = Vec::new();
        for (index, span) in spans.iter().enumerate() {
            match span.parent_id.as_deref() {
                Some(parent) if ids.contains(parent) => {
                    children.entry(parent).or_default().push(index)
                }
                _ => roots.push(index),
            }
        }
        let start = spans.iter().map(|s| s.start_us).min().unwrap_or(0);
        let end = spans.iter().map(|s| s.end_us).max().unwrap_or(0);
        let _ = writeln!(
            out,
            "Trace {} ({} span{}, {})",
            escape(trace_id),
            spans.len(),
            if spans.len() == 1 { "" } else { "s" },
            format_duration(end - start)
        );
        let mut printer = Printer {
            out: &mut out,
            spans: &spans,
            children: &children,
            shown: vec![false; spans.len()],
            number: 0,
        };
        for root in roots {
            printer.print_from(root, false);
        }
        // Spans in a parent cycle: no root reaches them.
        for index in 0..spans.len() {
            if !printer.shown[index] {
                printer.print_from(index, true);
            }
        }
        out.push('\n');
    }
    out
}

/// One trace's spans printed depth-first with an explicit stack.
struct Printer<'a, 'o> {
    out: &'o mut String,
    spans: &'a [&'a SpanRecord],
    children: &'a HashMap<&'a str, Vec<usize>>,
    shown: Vec<bool>,
    number: usize,
}

/// Where a line sits: its depth, and for each ancestor level below the root whether
/// that ancestor was its parent's last child (which decides `│` or blank).
struct Frame {
    index: usize,
    depth: usize,
    last_child: bool,
}

impl Printer<'_, '_> {
    fn print_from(&mut self, root: usize, in_cycle: bool) {
        // `open[d]`: whether the line at depth d+1 still has siblings to come.
        let mut open: Vec<bool> = Vec::new();
        let mut stack = vec![Frame {
            index: root,
            depth: 0,
            last_child: true,
        }];
        while let Some(Frame {
            index,
            depth,
            last_child,
        }) = stack.pop()
        {
            if self.shown[index] {
                continue;
            }
            self.shown[index] = true;
            self.number += 1;
            open.truncate(depth.saturating_sub(1));
            let span = self.spans[index];
            if depth == 0 {
                let _ = write!(self.out, "{}. ", self.number);
            } else {
                let shown_depth = depth.min(MAX_INDENT);
                self.out.push_str("   ");
                for &more in open.iter().take(shown_depth - 1) {
                    self.out.push_str(if more { "│   " } else { "    " });
                }
                self.out.push_str(if last_child {
                    "└── "
                } else {
                    "├── "
                });
                if depth > MAX_INDENT {
                    let _ = write!(self.out, "[depth {depth}] ");
                }
                let _ = write!(self.out, "{}. ", self.number);
                if open.len() < depth {
                    open.push(!last_child);
                }
            }
            self.write_span(span, depth == 0, in_cycle);
            let kids = self
                .children
                .get(span.span_id.as_str())
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let pending: Vec<usize> = kids.iter().copied().filter(|k| !self.shown[*k]).collect();
            for (i, &kid) in pending.iter().enumerate().rev() {
                stack.push(Frame {
                    index: kid,
                    depth: depth + 1,
                    last_child: i + 1 == pending.len(),
                });
            }
        }
    }

    fn write_span(&mut self, span: &SpanRecord, is_root: bool, in_cycle: bool) {
        let out = &mut *self.out;
        out.push_str(&escape(&span.name));
        if let Some(label) = label(span) {
            let _ = write!(out, " ({})", escape(label));
        }
        let _ = write!(out, " - Duration: {}", format_duration(span.duration_us()));
        if span.status_code == "ERROR" {
            let _ = write!(out, " [ERROR");
            if let Some(description) = &span.status_description {
                let _ = write!(out, ": {}", escape(description));
            }
            out.push(']');
        }
        if is_root && in_cycle {
            let _ = write!(
                out,
                " [parent cycle: parent {}]",
                escape(span.parent_id.as_deref().unwrap_or(""))
            );
        } else if is_root && span.parent_id.is_some() {
            let _ = write!(
                out,
                " [remote parent {}]",
                escape(span.parent_id.as_deref().unwrap_or(""))
            );
        }
        out.push('\n');
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spans_file::SpanRecord;

    fn span(id: usize, parent: Option<usize>, name: &str) -> SpanRecord {
        SpanRecord {
            name: name.into(),
            trace_id: "0x01".into(),
            span_id: format!("0x{id:016x}"),
            trace_state: String::new(),
            parent_id: parent.map(|p| format!("0x{p:016x}")),
            kind: "SpanKind.INTERNAL".into(),
            start_us: id as i64,
            end_us: id as i64 + 10,
            status_code: "UNSET".into(),
            status_description: None,
            attributes: Default::default(),
            events: Vec::new(),
            links: Vec::new(),
            resource: Default::default(),
            file: Default::default(),
        }
    }

    #[test]
    fn a_deep_chain_prints_every_span_in_linear_output() {
        let depth = 20_000;
        let spans: Vec<SpanRecord> = (1..=depth)
            .map(|i| span(i, (i > 1).then(|| i - 1), "s"))
            .collect();
        let text = render_trees(&spans);
        assert_eq!(
            text.lines()
                .filter(|l| l.contains(". s - Duration"))
                .count(),
            depth
        );
        assert!(
            text.contains(&format!("[depth {}] {depth}. s", depth - 1)),
            "deepest line"
        );
        // Indentation stops at MAX_INDENT: about 150 bytes a line, not 80,000.
        assert!(text.len() < depth * 200, "{} bytes", text.len());
    }

    #[test]
    fn cycles_and_orphans_are_shown_and_flagged() {
        let spans = vec![
            span(1, None, "root"),
            span(2, Some(1), "child"),
            span(3, Some(3), "self-parent"),
            span(4, Some(5), "a"),
            span(5, Some(4), "b"),
            span(6, Some(99), "orphan"),
        ];
        let text = render_trees(&spans);
        assert!(text.contains("Trace 0x01 (6 spans"), "{text}");
        assert!(text.contains("1. root"), "{text}");
        assert!(text.contains("   └── 2. child"), "{text}");
        assert!(
            text.contains("orphan - Duration: 10µs [remote parent 0x0000000000000063]"),
            "{text}"
        );
        assert!(
            text.contains("self-parent - Duration: 10µs [parent cycle: parent 0x0000000000000003]"),
            "{text}"
        );
        assert!(
            text.contains("a - Duration: 10µs [parent cycle: parent 0x0000000000000005]"),
            "{text}"
        );
        assert!(text.contains("   └── 6. b - Duration"), "{text}");
        assert_eq!(
            text.lines().filter(|l| l.contains(" - Duration: ")).count(),
            6
        );
    }

    #[test]
    fn control_and_bidi_characters_are_escaped() {
        let mut hostile = span(1, None, "\u{1b}[2Jevil\nline\u{202e}txt.exe\u{2028}");
        hostile.status_code = "ERROR".into();
        hostile.status_description = Some("\u{2067}late\u{7}".into());
        let text = render_trees(&[hostile]);
        assert!(
            text.contains(
                "1. \\u{1b}[2Jevil\\nline\\u{202e}txt.exe\\u{2028} - Duration: 10µs [ERROR: \\u{2067}late\\u{7}]"
            ),
            "{text}"
        );
        assert!(!text.contains(['\u{1b}', '\u{7}', '\u{202e}', '\u{2028}', '\u{2067}']));
    }
}
