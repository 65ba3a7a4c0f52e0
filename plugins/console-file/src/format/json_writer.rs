//! The JSON writer under the span layout: Python `json.dumps` spacing, pretty or on
//! one line, over the scalars of `python.rs`.

use super::python::{write_escaped, write_hex_id, write_integer, write_iso_timestamp};
use super::Layout;

/// A streaming writer with Python `json.dumps` spacing: `indent=4` when pretty,
/// `separators=(",", ":")` otherwise.
pub(super) struct JsonWriter<'o> {
    out: &'o mut String,
    layout: Layout,
    depth: usize,
    /// Whether the innermost open container is still empty.
    empty: bool,
}

impl<'o> JsonWriter<'o> {
    pub(super) fn new(out: &'o mut String, layout: Layout) -> Self {
        JsonWriter {
            out,
            layout,
            depth: 0,
            empty: true,
        }
    }

    /// Starts the next key or array element: the comma, newline and indentation
    /// in one copy.
    pub(super) fn item_separator(&mut self) {
        let comma = !self.empty;
        self.empty = false;
        match (self.layout, comma) {
            (Layout::Pretty, true) => self.indent(",", self.depth),
            (Layout::Pretty, false) => self.newline(self.depth),
            (Layout::Lines, true) => self.out.push(','),
            (Layout::Lines, false) => {}
        }
    }

    pub(super) fn newline(&mut self, depth: usize) {
        self.indent("", depth);
    }

    /// `before` (nothing or a comma), a newline and `depth` levels of indentation.
    pub(super) fn indent(&mut self, before: &str, depth: usize) {
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

    pub(super) fn open(&mut self, bracket: char) {
        self.out.push(bracket);
        self.depth += 1;
        self.empty = true;
    }

    pub(super) fn close(&mut self, bracket: char) {
        self.depth -= 1;
        if !self.empty && self.layout == Layout::Pretty {
            self.newline(self.depth);
        }
        self.out.push(bracket);
        // The enclosing container holds at least this value.
        self.empty = false;
    }

    pub(super) fn begin_object(&mut self) {
        self.open('{');
    }

    pub(super) fn end_object(&mut self) {
        self.close('}');
    }

    pub(super) fn begin_array(&mut self) {
        self.open('[');
    }

    pub(super) fn end_array(&mut self) {
        self.close(']');
    }

    /// A key of the span layout, already quoted and followed by its separator in
    /// each layout (see [`field!`]).
    #[inline(always)]
    pub(super) fn field(&mut self, pretty: &'static str, lines: &'static str) {
        self.item_separator();
        self.out.push_str(match self.layout {
            Layout::Pretty => pretty,
            Layout::Lines => lines,
        });
    }

    /// An object key; the value written next belongs to it.
    pub(super) fn key(&mut self, key: &str) {
        self.item_separator();
        write_escaped(self.out, key);
        self.out.push_str(if self.layout == Layout::Pretty {
            ": "
        } else {
            ":"
        });
    }

    pub(super) fn array<T>(
        &mut self,
        items: impl Iterator<Item = T>,
        mut write: impl FnMut(&mut Self, T),
    ) {
        self.begin_array();
        for item in items {
            self.item_separator();
            write(self, item);
        }
        self.end_array();
    }

    pub(super) fn raw(&mut self, text: &str) {
        self.out.push_str(text);
    }

    pub(super) fn string(&mut self, s: &str) {
        write_escaped(self.out, s);
    }

    pub(super) fn hex_id(&mut self, bytes: &[u8]) {
        write_hex_id(self.out, bytes);
    }

    pub(super) fn integer(&mut self, i: i64) {
        write_integer(self.out, i);
    }

    pub(super) fn timestamp(&mut self, unix_nanos: u64) {
        self.out.push('"');
        write_iso_timestamp(self.out, unix_nanos);
        self.out.push('"');
    }
}

#[cfg(test)]
mod tests;
