//! Text from strangers made safe to print: for hosts and plugins alike (plugins may
//! depend on nothing else of spanplug's). Nothing here crosses the boundary.

use std::borrow::Cow;

/// At most `max_chars` of `text` (then `...`), with control characters escaped
/// (`\u{1b}`, `\n`), so that what a backend answered or a span is named cannot move
/// the cursor, clear a terminal or fake a log line. Borrows when nothing changes.
pub fn escape_controls(text: &str, max_chars: usize) -> Cow<'_, str> {
    let changes = text
        .chars()
        .enumerate()
        .any(|(count, c)| count == max_chars || c.is_control());
    if !changes {
        return text.into();
    }
    let mut out = String::with_capacity(text.len().min(max_chars.saturating_mul(4)));
    for (count, c) in text.chars().enumerate() {
        if count == max_chars {
            out.push_str("...");
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out.into()
}

#[cfg(test)]
mod tests {
    use super::escape_controls;

    #[test]
    fn controls_are_escaped_and_length_bounded() {
        assert!(matches!(
            escape_controls("plain", 10),
            std::borrow::Cow::Borrowed("plain")
        ));
        assert_eq!(
            escape_controls("\u{1b}[2J\nx", usize::MAX),
            "\\u{1b}[2J\\nx"
        );
        assert_eq!(escape_controls("abcdef", 3), "abc...");
        assert_eq!(escape_controls("abc", 3), "abc");
    }
}
