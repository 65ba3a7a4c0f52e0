//! Environment substitution exactly as the OpenTelemetry configuration data model
//! says (specification/configuration/data-model.md): `${VAR}`, `${env:VAR}`,
//! `${VAR:-default}`, `$$` for `$`, scanned left to right between escapes, with no
//! recursion (a variable's value and a default are used as they are). An unset
//! variable without a default is an empty value; a `${...}` that is not a valid
//! reference is an error.

/// The longest scalar substitution may produce.
const MAX_SUBSTITUTED_BYTES: usize = 64 * 1024;

/// Resolves every reference in `text`, one scalar of the file.
pub(crate) fn substitute(
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, String> {
    if !text.contains('$') {
        return Ok(text.to_string());
    }
    let mut out = String::with_capacity(text.len());
    let mut segments = text.split("$$").peekable();
    while let Some(segment) = segments.next() {
        substitute_segment(segment, env, &mut out)?;
        if segments.peek().is_some() {
            out.push('$');
        }
        if out.len() > MAX_SUBSTITUTED_BYTES {
            return Err(format!(
                "the value is longer than {MAX_SUBSTITUTED_BYTES} bytes after substitution"
            ));
        }
    }
    Ok(out)
}

/// One stretch between `$$` escapes: each `${...}` closed by the first `}` is a
/// reference; a `${` never closed is text.
fn substitute_segment(
    segment: &str,
    env: &dyn Fn(&str) -> Option<String>,
    out: &mut String,
) -> Result<(), String> {
    let mut rest = segment;
    while let Some(at) = rest.find("${") {
        let body = &rest[at + 2..];
        let Some(end) = body.find('}') else { break };
        out.push_str(&rest[..at]);
        let reference = &body[..end];
        if reference.is_empty() {
            out.push_str("${}");
        } else {
            resolve(reference, env, out)?;
        }
        rest = &body[end + 1..];
    }
    out.push_str(rest);
    Ok(())
}

fn resolve(
    reference: &str,
    env: &dyn Fn(&str) -> Option<String>,
    out: &mut String,
) -> Result<(), String> {
    let (name, default) = match reference.split_once(":-") {
        Some((name, default)) => (name, Some(default)),
        None => (reference, None),
    };
    let name = name.strip_prefix("env:").unwrap_or(name);
    let printable = |text: &str| {
        text.chars()
            .all(|c| c == ' ' || c == '\t' || c.is_ascii_graphic())
    };
    if !is_variable_name(name) || !default.is_none_or(printable) {
        // Not echoed: a default may be a secret.
        return Err(
            "a `${...}` reference is not valid; expected ${VAR}, ${env:VAR} or ${VAR:-default} with VAR matching [a-zA-Z_][a-zA-Z0-9_]* (write `$$` for a literal `$`)"
                .into(),
        );
    }
    match (env(name).filter(|value| !value.is_empty()), default) {
        (Some(value), _) => out.push_str(&value),
        (None, Some(default)) => out.push_str(default),
        (None, None) => {}
    }
    Ok(())
}

fn is_variable_name(name: &str) -> bool {
    name.starts_with(|c: char| c == '_' || c.is_ascii_alphabetic())
        && name.bytes().all(|b| b == b'_' || b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::substitute;

    /// The spec's table, with its environment.
    #[test]
    fn the_spec_table_resolves_as_written() {
        let env = |name: &str| {
            let value = match name {
                "STRING_VALUE" => "value",
                "BOOL_VALUE" => "true",
                "REPLACE_ME" => "${DO_NOT_REPLACE_ME}",
                "VALUE_WITH_ESCAPE" => "value$$",
                "INVALID_MAP_VALUE" => "value\nkey:value",
                _ => return None,
            };
            Some(value.to_string())
        };
        let sub = |text: &str| substitute(text, &env);
        for (input, expected) in [
            ("${STRING_VALUE}", "value"),
            ("${env:STRING_VALUE}", "value"),
            ("${BOOL_VALUE}", "true"),
            ("${INVALID_MAP_VALUE}", "value\nkey:value"),
            ("foo ${STRING_VALUE} ${BOOL_VALUE}", "foo value true"),
            ("${UNDEFINED_KEY}", ""),
            ("${UNDEFINED_KEY:-fallback}", "fallback"),
            ("${REPLACE_ME}", "${DO_NOT_REPLACE_ME}"),
            ("${UNDEFINED_KEY:-${STRING_VALUE}}", "${STRING_VALUE}"),
            ("$${STRING_VALUE}", "${STRING_VALUE}"),
            ("$$${STRING_VALUE}", "$value"),
            ("$$$${STRING_VALUE}", "$${STRING_VALUE}"),
            ("$${STRING_VALUE:-fallback}", "${STRING_VALUE:-fallback}"),
            (
                "$${STRING_VALUE:-${STRING_VALUE}}",
                "${STRING_VALUE:-value}",
            ),
            (
                "${UNDEFINED_KEY:-$${UNDEFINED_KEY}}",
                "${UNDEFINED_KEY:-${UNDEFINED_KEY}}",
            ),
            ("${VALUE_WITH_ESCAPE}", "value$$"),
            ("a $$ b", "a $ b"),
            ("a $ b", "a $ b"),
        ] {
            assert_eq!(sub(input).unwrap(), expected, "{input}");
        }
        for invalid in ["${STRING_VALUE:?error}", "${1API_KEY}", "${API_$KEY}"] {
            let error = sub(invalid).unwrap_err();
            assert!(error.contains("not valid"), "{invalid}: {error}");
        }
    }
}
