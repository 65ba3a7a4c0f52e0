//! Reads what `console_file` writes (pretty or jsonl) back into span records.
//!
//! Records are found by line: each starts with `{` in the first column, so one bad
//! record (truncated by a crash, hand-edited, interleaved) is reported with its line
//! number and the rest of the file is still read.
//!
//! Span files are input from strangers, so reading is bounded: only regular files are
//! opened, without blocking (a FIFO or `/dev/zero` is an error, not a hang), up to
//! [`Limits::max_total_bytes`] in all; they are read line by line, and a record over
//! [`Limits::max_record_bytes`] is reported and skipped as it is read, never held
//! whole. Only the first [`PROBLEMS_KEPT`] problems are kept (all are counted), so
//! memory follows the spans read, not the junk around them.

use std::fmt;
use std::fs::File;
use std::io::{BufReader, Read as _};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use spanplug_api::files::{open_regular_file, FileError};

mod lines;
mod parse;
mod records;
mod timestamp;

use lines::{BoundedLines, Line};
use parse::parse_record;
use records::Records;
pub use timestamp::parse_timestamp;

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

/// How many problems a [`SpanSet`] keeps; the rest are only counted.
pub const PROBLEMS_KEPT: usize = 10;

/// Every span read from a set of span files, and the records that could not be.
#[derive(Debug, Default)]
pub struct SpanSet {
    /// The spans, in file and line order.
    pub spans: Vec<SpanRecord>,
    /// The first [`PROBLEMS_KEPT`] records (or lines) that could not be read.
    pub problems: Vec<Problem>,
    /// How many records (or lines) could not be read, those not kept included.
    pub problem_count: u64,
}

impl SpanSet {
    /// Counts a problem, and keeps it if it is among the first few; `message` is only
    /// made for those.
    pub(crate) fn report(&mut self, file: &Path, line: usize, message: impl FnOnce() -> String) {
        self.problem_count += 1;
        if self.problems.len() < PROBLEMS_KEPT {
            self.problems.push(Problem {
                file: file.to_path_buf(),
                line,
                message: message(),
            });
        }
    }
}

/// How much span files may make the reader hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bytes read from all the files together; a file that would pass it is an error.
    pub max_total_bytes: u64,
    /// Bytes of one record (or one line); a longer one is reported and skipped.
    pub max_record_bytes: usize,
}

impl Limits {
    /// 256 MiB in all.
    pub const DEFAULT_MAX_TOTAL_BYTES: u64 = 256 << 20;
    /// 16 MiB, far above what the SDK's span limits let console_file write.
    pub const DEFAULT_MAX_RECORD_BYTES: usize = 16 << 20;
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_total_bytes: Self::DEFAULT_MAX_TOTAL_BYTES,
            max_record_bytes: Self::DEFAULT_MAX_RECORD_BYTES,
        }
    }
}

/// Why span files could not be read. Each names the path.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// Missing, unreadable, or not a regular file (a FIFO, a device).
    #[error(transparent)]
    Open(#[from] FileError),
    /// A folder that could not be listed, or a file that failed mid-read.
    // The OS error is in the message, so not also a `source` (printed once).
    #[error("cannot read {}: {error}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The OS error.
        error: std::io::Error,
    },
    /// Reading the file would pass [`Limits::max_total_bytes`].
    #[error("{} is {size} bytes{}: over the limit of {limit} bytes", path.display(), after(*read_before))]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// Bytes read from the files before it.
        read_before: u64,
        /// The limit.
        limit: u64,
    },
}

/// How [`ReadError::TooLarge`] mentions the files read before.
fn after(read_before: u64) -> String {
    match read_before {
        0 => String::new(),
        read => format!(", after {read} bytes of other span files"),
    }
}

/// Reads a span file, or every `.json`/`.jsonl` file in a folder (and in its
/// `spans/` subfolder, where `console_file` writes), within the default [`Limits`].
pub fn read_spans(path: &Path) -> Result<SpanSet, ReadError> {
    read_all(&[path], &Limits::default())
}

/// Reads every span file of `paths` (each a file or a folder, as for [`read_spans`]),
/// in order, within `limits`.
pub fn read_all<P: AsRef<Path>>(paths: &[P], limits: &Limits) -> Result<SpanSet, ReadError> {
    let mut set = SpanSet::default();
    let mut read = 0;
    for path in paths {
        let path = path.as_ref();
        let files = span_files(path).map_err(|error| ReadError::Io {
            path: path.to_path_buf(),
            error,
        })?;
        for file in files {
            read += read_file(&file, read, limits, &mut set)?;
        }
    }
    Ok(set)
}

/// The span files [`read_spans`] reads for `path`.
pub fn span_files(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    if !path.is_dir() {
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

/// Reads one file's records into `set`, line by line; returns the bytes read.
fn read_file(
    path: &Path,
    read_before: u64,
    limits: &Limits,
    set: &mut SpanSet,
) -> Result<u64, ReadError> {
    let file = open_regular_file(path, u64::MAX)?;
    let io_error = |error| ReadError::Io {
        path: path.to_path_buf(),
        error,
    };
    let size = file.metadata().map_err(io_error)?.len();
    let left = limits.max_total_bytes.saturating_sub(read_before);
    if size > left {
        return Err(ReadError::TooLarge {
            path: path.to_path_buf(),
            size,
            read_before,
            limit: limits.max_total_bytes,
        });
    }
    // A file still being written may grow: never read past the limit.
    let mut reader = BufReader::with_capacity(64 << 10, File::take(file, left));
    let mut lines = BoundedLines::new(&mut reader, limits.max_record_bytes);
    let mut records = Records::new(path, limits.max_record_bytes, set);
    let mut number = 0;
    while let Some(line) = lines.next_line().map_err(io_error)? {
        number += 1;
        match line {
            Line::Whole(bytes) => records.line(number, &String::from_utf8_lossy(bytes)),
            Line::TooLong { first_byte } => records.too_long(number, first_byte == b'{'),
        }
    }
    records.finish();
    Ok(left - reader.into_inner().limit())
}

/// Parses the records of one file's text into `set`, within the default record size.
pub fn parse_into(text: &str, file: &Path, set: &mut SpanSet) {
    let mut records = Records::new(file, Limits::DEFAULT_MAX_RECORD_BYTES, set);
    for (index, line) in text.lines().enumerate() {
        records.line(index + 1, line);
    }
    records.finish();
}

#[cfg(test)]
mod tests {
    use super::*;

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
