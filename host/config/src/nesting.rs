//! The nesting scan: YAML nested too deep or indented too far is refused before the
//! parser (whose cost grows with depth) sees it.

/// Deeper YAML is refused before parsing.
const MAX_YAML_DEPTH: usize = 64;
/// An indentation wider than this (in columns) is refused before parsing.
const MAX_YAML_INDENT: usize = 512;

/// Refuses YAML nested deeper than [`MAX_YAML_DEPTH`] (flow brackets, or `- ` markers
/// opening sequences on one line) or indented past [`MAX_YAML_INDENT`] columns, anywhere
/// in the file: a scan linear in its size.
pub(crate) fn check_nesting(text: &str) -> Result<(), String> {
    let too_deep = |line: usize| {
        Err(format!(
            "line {line}: nested deeper than {MAX_YAML_DEPTH} levels; config files are limited to that"
        ))
    };
    let mut flow_depth = 0usize;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let body = line.trim_start_matches(' ');
        if line.len() - body.len() > MAX_YAML_INDENT {
            return Err(format!(
                "line {number}: indented more than {MAX_YAML_INDENT} columns; config files are limited to that"
            ));
        }
        if sequence_markers(body) > MAX_YAML_DEPTH || !track_flow_depth(body, &mut flow_depth) {
            return too_deep(number);
        }
    }
    Ok(())
}

/// How many `- ` markers open the line: each a sequence nested in the last.
fn sequence_markers(body: &str) -> usize {
    let mut markers = 0;
    let mut rest = body;
    while let Some(after) = rest.strip_prefix("- ").or_else(|| rest.strip_prefix("-\t")) {
        markers += 1;
        rest = after.trim_start_matches([' ', '\t']);
    }
    markers
}

/// Follows the flow brackets of one line (outside quotes and comments) into `depth`;
/// false as soon as it passes [`MAX_YAML_DEPTH`].
fn track_flow_depth(body: &str, depth: &mut usize) -> bool {
    let mut quote: Option<char> = None;
    let mut previous = ' ';
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some('"'), '\\') => {
                chars.next();
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '#') if previous == ' ' || previous == '\t' => break,
            (None, '[' | '{') => {
                *depth += 1;
                if *depth > MAX_YAML_DEPTH {
                    return false;
                }
            }
            (None, ']' | '}') => *depth = depth.saturating_sub(1),
            _ => {}
        }
        previous = c;
    }
    true
}

#[cfg(test)]
mod tests {
    use crate::{ConfigErrorKind, TracingConfig};

    #[test]
    fn deep_nesting_is_refused_before_parsing() {
        for text in [
            format!("ignored: {}{}\n", "[".repeat(100_000), "]".repeat(100_000)),
            format!("ignored: {}1{}\n", "{a: ".repeat(65), "}".repeat(65)),
            format!("ignored:\n{}x\n", "- ".repeat(65)),
            format!("ignored:\n{}x: 1\n", " ".repeat(600)),
        ] {
            let error = TracingConfig::from_yaml_str(&text).unwrap_err();
            assert_eq!(error.kind(), ConfigErrorKind::Yaml);
            let error = error.to_string();
            assert!(error.contains("config files are limited to"), "{error}");
        }
        // At the limit, and brackets inside quotes and comments, are fine.
        let nested = format!("ok: {}1{}\n", "[".repeat(64), "]".repeat(64));
        let quoted = format!(
            "ok: \"{}\" # {}\ntracing_config: {{}}\n",
            "[".repeat(100),
            "{".repeat(100)
        );
        for text in [nested, quoted] {
            TracingConfig::from_yaml_str(&text).unwrap();
        }
    }
}
