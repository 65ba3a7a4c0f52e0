//! One file's lines put together into span records, each bounded in size.

use std::path::Path;

use super::{parse_record, SpanSet};

/// One file's records put together line by line, each at most `max_bytes`.
pub(crate) struct Records<'a> {
    file: &'a Path,
    set: &'a mut SpanSet,
    max_bytes: usize,
    record: String,
    record_line: usize,
    /// Inside a record too long to keep: its lines are skipped.
    skipping: bool,
}

impl<'a> Records<'a> {
    pub(crate) fn new(file: &'a Path, max_bytes: usize, set: &'a mut SpanSet) -> Self {
        Self {
            file,
            set,
            max_bytes,
            record: String::new(),
            record_line: 0,
            skipping: false,
        }
    }

    pub(crate) fn line(&mut self, number: usize, line: &str) {
        if line.starts_with('{') {
            self.finish();
            self.record_line = number;
        } else if self.skipping {
            return;
        } else if self.record.is_empty() {
            if !line.trim().is_empty() {
                self.set
                    .report(self.file, number, || "text outside any span record".into());
            }
            return;
        }
        if self.record.len() + line.len() + 1 > self.max_bytes {
            self.skip_record();
        } else {
            self.record.push_str(line);
            self.record.push('\n');
        }
    }

    /// A line over the limit, which was not kept.
    pub(crate) fn too_long(&mut self, number: usize, starts_record: bool) {
        if starts_record {
            self.finish();
            self.record_line = number;
            self.skip_record();
        } else if !self.record.is_empty() {
            self.skip_record();
        } else if !self.skipping {
            let max = self.max_bytes;
            self.set.report(self.file, number, || {
                format!("a line over {max} bytes outside any span record, skipped")
            });
        }
    }

    /// The record being read is over the limit: reported, and its lines skipped.
    fn skip_record(&mut self) {
        let max = self.max_bytes;
        self.set.report(self.file, self.record_line, || {
            format!("a span record over {max} bytes, skipped")
        });
        self.record.clear();
        self.skipping = true;
    }

    pub(crate) fn finish(&mut self) {
        self.skipping = false;
        if self.record.is_empty() {
            return;
        }
        match parse_record(&self.record, self.file) {
            Ok(span) => self.set.spans.push(span),
            Err(message) => self.set.report(self.file, self.record_line, || message),
        }
        self.record.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"name": "a", "context": {"trace_id": "0x1", "span_id": "0x2"}, "kind": "SpanKind.INTERNAL", "parent_id": null, "start_time": "2026-01-01T00:00:00.000000Z", "end_time": "2026-01-01T00:00:00.000100Z", "status": {"status_code": "UNSET"}}"#;

    #[test]
    fn records_over_the_limit_are_reported_once_and_skipped() {
        let mut set = SpanSet::default();
        let mut records = Records::new(Path::new("x.json"), GOOD.len() + 1, &mut set);
        records.line(1, "{\"name\":");
        records.line(2, &"x".repeat(GOOD.len()));
        records.line(3, "more of the same record");
        records.line(4, GOOD);
        records.too_long(5, true);
        records.line(6, "still the long record");
        records.too_long(7, false);
        records.line(8, GOOD);
        records.finish();
        records.line(9, "");
        records.too_long(10, false);
        records.line(11, "junk");
        let lines: Vec<(usize, &str)> = set
            .problems
            .iter()
            .map(|p| (p.line, p.message.as_str()))
            .collect();
        let over = format!("a span record over {} bytes, skipped", GOOD.len() + 1);
        let line_over = format!(
            "a line over {} bytes outside any span record, skipped",
            GOOD.len() + 1
        );
        assert_eq!(
            lines,
            [
                (1, over.as_str()),
                (5, over.as_str()),
                (10, line_over.as_str()),
                (11, "text outside any span record"),
            ]
        );
        assert_eq!(set.spans.len(), 2);
        assert_eq!(set.problem_count, 4);
    }

    #[test]
    fn only_the_first_problems_are_kept_and_all_are_counted() {
        let mut set = SpanSet::default();
        let mut records = Records::new(Path::new("x.json"), 100, &mut set);
        for line in 1..=1000 {
            records.line(line, "junk");
        }
        records.finish();
        assert_eq!(set.problems.len(), crate::spans_file::PROBLEMS_KEPT);
        assert_eq!(set.problems.last().unwrap().line, 10);
        assert_eq!(set.problem_count, 1000);
    }
}
