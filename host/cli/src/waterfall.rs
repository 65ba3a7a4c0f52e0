//! `spanplug view`: console_file output as one self-contained HTML page (no network,
//! no CDN) with a waterfall per trace: service, span name, offset, a duration bar
//! coloured by status, and the attributes and events of a span on click or hover.

use std::fs::{FileType, OpenOptions};
use std::io::{self, Write as _};
use std::os::unix::fs::FileTypeExt;
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

/// Where [`write_page`] put the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageOutput {
    /// A regular file, staged and renamed over the output.
    File,
    /// A stream the user named: `-`, a descriptor path (`/dev/stdout`, `/dev/fd/N`,
    /// `/proc/self/fd/N`), a FIFO or a character device such as a terminal.
    Stream,
}

/// Writes the page for `spans` to `output`.
///
/// A regular or missing output gets the page mode 0600 like the span files it shows:
/// into a file created exclusively beside it, then renamed over it, so an existing
/// file is replaced (never written through a link, never left half-written, never
/// keeping a wider mode). A stream is written as it is, never created or replaced:
/// `-` is standard output; a descriptor path (`/dev/stdout`, `/dev/fd/N`,
/// `/proc/self/fd/N`) and an existing FIFO or character device are opened for
/// writing without creating anything (a FIFO waits for its reader). Anything else
/// that exists (a folder, a socket, a block device) is refused.
pub fn write_page(spans: &[SpanRecord], output: &Path) -> io::Result<PageOutput> {
    let page = render_html(spans);
    if output.as_os_str() == "-" {
        let mut stdout = io::stdout().lock();
        stdout.write_all(page.as_bytes())?;
        stdout.flush()?;
        return Ok(PageOutput::Stream);
    }
    if is_descriptor_path(output) {
        write_stream(output, &page, false)?;
        return Ok(PageOutput::Stream);
    }
    match std::fs::metadata(output) {
        Ok(meta) if is_stream(&meta.file_type()) => {
            write_stream(output, &page, true)?;
            Ok(PageOutput::Stream)
        }
        Ok(meta) if !meta.is_file() => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "it is {}, not a regular file, a FIFO or a character device",
                kind_of(&meta.file_type())
            ),
        )),
        _ => {
            let (staged, mut file) = Staged::create(output, 0o600)?;
            file.write_all(page.as_bytes())?;
            staged.rename_into_place()?;
            Ok(PageOutput::File)
        }
    }
}

/// `/dev/stdout`, `/dev/stderr`, `/dev/fd/N`, `/proc/self/fd/N`: one of this
/// process's descriptors, whatever it is open on (a pipe, a terminal, a file the
/// shell redirected to), never a place to stage a file in.
fn is_descriptor_path(path: &Path) -> bool {
    let Some(text) = path.to_str() else {
        return false;
    };
    let descriptor = |prefix: &str| {
        text.strip_prefix(prefix)
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    matches!(text, "/dev/stdout" | "/dev/stderr")
        || descriptor("/dev/fd/")
        || descriptor("/proc/self/fd/")
}

fn is_stream(kind: &FileType) -> bool {
    kind.is_fifo() || kind.is_char_device()
}

fn kind_of(kind: &FileType) -> &'static str {
    if kind.is_dir() {
        "a folder"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_block_device() {
        "a block device"
    } else {
        "not a regular file"
    }
}

/// Writes `page` to the existing `output`, opened without creating it. With
/// `stream_only`, what was opened must still be a FIFO or character device (it may
/// have been swapped for a link to a file since it was looked at); nothing is
/// written otherwise.
fn write_stream(output: &Path, page: &str, stream_only: bool) -> io::Result<()> {
    let mut file = OpenOptions::new().write(true).open(output)?;
    if stream_only && !is_stream(&file.metadata()?.file_type()) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "it was replaced while being opened; nothing was written",
        ));
    }
    file.write_all(page.as_bytes())?;
    file.flush()
}

#[cfg(test)]
mod tests {
    use super::is_descriptor_path;
    use std::path::Path;

    #[test]
    fn descriptor_paths_are_told_from_files_beside_them() {
        for path in [
            "/dev/stdout",
            "/dev/stderr",
            "/dev/fd/1",
            "/proc/self/fd/12",
        ] {
            assert!(is_descriptor_path(Path::new(path)), "{path}");
        }
        for path in [
            "/dev/fd/",
            "/dev/fd/1x",
            "/proc/self/fd",
            "stdout",
            "/dev/stdout2",
        ] {
            assert!(!is_descriptor_path(Path::new(path)), "{path}");
        }
    }
}
