//! Lines of a file read one at a time with a bounded buffer: a line longer than the
//! bound is skipped as it is read, never held whole.

use std::io::{self, BufRead};

/// One line of input, without its `\n` (or `\r\n`).
#[derive(Debug, PartialEq)]
pub(crate) enum Line<'a> {
    /// A line within the bound.
    Whole(&'a [u8]),
    /// A line over the bound, skipped; only its first byte is known.
    TooLong { first_byte: u8 },
}

/// Reads lines of at most `max_bytes` from `reader`.
pub(crate) struct BoundedLines<R> {
    reader: R,
    max_bytes: usize,
    line: Vec<u8>,
}

impl<R: BufRead> BoundedLines<R> {
    pub(crate) fn new(reader: R, max_bytes: usize) -> Self {
        Self {
            reader,
            max_bytes,
            line: Vec::new(),
        }
    }

    /// The next line, or None at the end of the input.
    pub(crate) fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        self.line.clear();
        let mut first_byte = None;
        let mut too_long = false;
        loop {
            let available = match self.reader.fill_buf() {
                Ok(available) => available,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(error),
            };
            let Some(&first) = available.first() else {
                break;
            };
            first_byte.get_or_insert(first);
            let newline = available.iter().position(|&b| b == b'\n');
            let chunk = &available[..newline.unwrap_or(available.len())];
            if !too_long && self.line.len() + chunk.len() > self.max_bytes {
                too_long = true;
                self.line = Vec::new();
            }
            if !too_long {
                self.line.extend_from_slice(chunk);
            }
            let used = newline.map_or(available.len(), |at| at + 1);
            self.reader.consume(used);
            if newline.is_some() {
                break;
            }
        }
        Ok(match first_byte {
            None => None,
            Some(first_byte) if too_long => Some(Line::TooLong { first_byte }),
            Some(_) => Some(Line::Whole(
                self.line.strip_suffix(b"\r").unwrap_or(&self.line),
            )),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_skipped_and_the_rest_read_in_order() {
        let input = format!("ab\r\n\n{}\ncd\n{{{}\nlast", "x".repeat(40), "y".repeat(40));
        // A small buffer: lines arrive in several pieces.
        let reader = io::BufReader::with_capacity(7, input.as_bytes());
        let mut lines = BoundedLines::new(reader, 10);
        let mut seen = Vec::new();
        while let Some(line) = lines.next_line().unwrap() {
            seen.push(match line {
                Line::Whole(bytes) => String::from_utf8(bytes.to_vec()).unwrap(),
                Line::TooLong { first_byte } => format!("too long, from {}", first_byte as char),
            });
        }
        assert_eq!(
            seen,
            [
                "ab",
                "",
                "too long, from x",
                "cd",
                "too long, from {",
                "last"
            ]
        );
        assert!(lines.line.capacity() <= 16, "nothing long was held");
    }
}
