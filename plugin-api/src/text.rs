//! Text from strangers made safe to print: for hosts and plugins alike (plugins
//! depend on spanplug-api and otherwise only on this workspace's small helper
//! crates with no host code, such as spanplug-glob). Nothing here crosses the boundary.

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
/// - every other format character (Unicode general category `Cf`, listed from
///   Unicode 15.1's DerivedGeneralCategory, U+200C and U+200D aside), invisible
///   characters that hide or change text: U+00AD (soft hyphen), U+0600–U+0605,
///   U+06DD, U+070F, U+0890–U+0891, U+08E2, U+180E, U+200B (zero width space),
///   U+2060–U+2064, U+206A–U+206F, U+FEFF, the interlinear annotation marks
///   U+FFF9–U+FFFB, U+110BD, U+110CD, U+13430–U+1343F, U+1BCA0–U+1BCA3,
///   U+1D173–U+1D17A and the tag characters U+E0000–U+E007F (which spell hidden
///   ASCII);
/// - characters that show as nothing though they are not `Cf`: the combining
///   grapheme joiner U+034F and the Hangul fillers U+115F, U+1160, U+3164, U+FFA0.
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

/// Whether [`escape_controls`] escapes `c`: `Cc`, `Cf` but U+200C/D, U+2028/9, U+034F
/// and the Hangul fillers (see there).
fn is_escaped(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{0600}'..='\u{0605}'
                | '\u{061C}'
                | '\u{06DD}'
                | '\u{070F}'
                | '\u{0890}'..='\u{0891}'
                | '\u{08E2}'
                | '\u{115F}'..='\u{1160}'
                | '\u{180E}'
                | '\u{200B}'
                | '\u{200E}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{110BD}'
                | '\u{110CD}'
                | '\u{13430}'..='\u{1343F}'
                | '\u{1BCA0}'..='\u{1BCA3}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0000}'..='\u{E007F}'
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

    /// Tag characters spell hidden ASCII ("hi" here, after a flag's base); soft
    /// hyphens, the Mongolian vowel separator, Hangul fillers and the combining
    /// grapheme joiner show as nothing. All escaped; joiners kept.
    #[test]
    fn every_format_character_and_hangul_filler_is_escaped_but_joiners() {
        assert_eq!(
            escape_controls("ok\u{E0068}\u{E0069}\u{E007F}\u{E0001}", usize::MAX),
            "ok\\u{e0068}\\u{e0069}\\u{e007f}\\u{e0001}"
        );
        for c in [
            '\u{AD}',
            '\u{34F}',
            '\u{600}',
            '\u{605}',
            '\u{6DD}',
            '\u{70F}',
            '\u{890}',
            '\u{8E2}',
            '\u{115F}',
            '\u{1160}',
            '\u{180E}',
            '\u{3164}',
            '\u{FFA0}',
            '\u{110BD}',
            '\u{110CD}',
            '\u{1343F}',
            '\u{1BCA3}',
            '\u{1D173}',
            '\u{1D17A}',
            '\u{E0000}',
            '\u{E0020}',
        ] {
            let text = format!("a{c}b");
            let escaped = format!("a{}b", c.escape_default());
            assert_eq!(escape_controls(&text, usize::MAX), escaped, "{c:?}");
        }
        for kept in ["\u{200C}", "\u{200D}", "\u{1100}", "\u{AC00}", "\u{E0100}"] {
            assert!(
                matches!(
                    escape_controls(kept, usize::MAX),
                    std::borrow::Cow::Borrowed(_)
                ),
                "{kept:?}"
            );
        }
    }
}
