//! Text from strangers made safe to print: for hosts and plugins alike (plugins may
//! depend on nothing else of spanplug's). Nothing here crosses the boundary.

use std::borrow::Cow;

/// At most `max_chars` of `text` (then `...`), with every character that could act
/// on a terminal or hide or reorder what is shown replaced by its Rust escape
/// (`\u{1b}`, `\n`, `\u{202e}`), so that what a backend answered or a span is named
/// cannot move the cursor, clear a terminal, fake a log line or disguise itself.
/// Borrows when nothing changes. The escaped set:
///
/// - control characters (Unicode `Cc`: C0, DEL and C1, such as ESC, BEL, CR, LF and
///   CSI), which move the cursor, retitle a window or fake a line;
/// - bidirectional formatting characters (U+061C, U+200E, U+200F, U+202A–U+202E,
///   U+2066–U+2069), which reorder what is shown (Trojan Source);
/// - the line and paragraph separators U+2028 and U+2029, which some terminals and
///   viewers break lines at;
/// - invisible characters that hide text: U+200B (zero width space), U+2060–U+2064,
///   U+206A–U+206F, U+FEFF and the interlinear annotation marks U+FFF9–U+FFFB.
///
/// Zero width joiners and non-joiners (U+200C, U+200D) are kept: emoji and several
/// scripts need them, and they cannot reorder or hide text.
pub fn escape_controls(text: &str, max_chars: usize) -> Cow<'_, str> {
    let changes = text
        .chars()
        .enumerate()
        .any(|(count, c)| count == max_chars || is_escaped(c));
    if !changes {
        return text.into();
    }
    let mut out = String::with_capacity(text.len().min(max_chars.saturating_mul(4)));
    for (count, c) in text.chars().enumerate() {
        if count == max_chars {
            out.push_str("...");
            break;
        }
        if is_escaped(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out.into()
}

/// Whether [`escape_controls`] escapes `c`.
fn is_escaped(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200B}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
        )
}

#[cfg(test)]
mod tests {
    use super::escape_controls;

    #[test]
    fn controls_bidi_separators_and_invisibles_are_escaped_and_length_bounded() {
        assert!(matches!(
            escape_controls("plain", 10),
            std::borrow::Cow::Borrowed("plain")
        ));
        assert_eq!(
            escape_controls("\u{1b}[2J\nx", usize::MAX),
            "\\u{1b}[2J\\nx"
        );
        assert_eq!(
            escape_controls("svc\u{1b}]0;pwned\u{7}\r\u{9b}", usize::MAX),
            "svc\\u{1b}]0;pwned\\u{7}\\r\\u{9b}"
        );
        assert!(matches!(
            escape_controls("café 👨‍👩‍👧", usize::MAX),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(
            escape_controls("a\u{202e}b\u{2066}c\u{2069}\u{200f}\u{61c}", usize::MAX),
            "a\\u{202e}b\\u{2066}c\\u{2069}\\u{200f}\\u{61c}"
        );
        assert_eq!(
            escape_controls(
                "x\u{2028}y\u{2029}\u{feff}\u{200b}\u{2060}\u{fffb}",
                usize::MAX
            ),
            "x\\u{2028}y\\u{2029}\\u{feff}\\u{200b}\\u{2060}\\u{fffb}"
        );
        assert_eq!(escape_controls("abcdef", 3), "abc...");
        assert_eq!(escape_controls("abc", 3), "abc");
    }
}
