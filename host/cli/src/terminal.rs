//! Text from span files, configs and the environment made safe to print on a
//! terminal: what `tree` draws and what `check` reports go through [`escape`].

use std::borrow::Cow;

/// `text` with terminal controls, bidirectional overrides, line separators and
/// invisible characters escaped (`\u{1b}`, `\n`, `\u{202e}`): the set documented at
/// [`spanplug_api::text::escape_controls`], which plugins use for their logs too.
pub fn escape(text: &str) -> Cow<'_, str> {
    spanplug_api::text::escape_controls(text, usize::MAX)
}

/// Every line of `text` escaped, joined by `separator` (a newline and an indent, say),
/// for messages that keep their own lines.
pub fn escape_lines(text: &str, separator: &str) -> String {
    let lines: Vec<Cow<'_, str>> = text.split('\n').map(escape).collect();
    lines.join(separator)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_line_is_escaped_and_the_lines_kept() {
        assert_eq!(
            escape_lines("a\u{1b}]0;x\u{7}\nb\u{202e}", "\n  "),
            "a\\u{1b}]0;x\\u{7}\n  b\\u{202e}"
        );
    }
}
