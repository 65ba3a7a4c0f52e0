//! `${VAR}`, `${env:VAR}` and `${env:VAR:-default}` in the values of setting maps,
//! with the OpenTelemetry configuration file's syntax.

/// The longest value a `${...}` substitution may produce, so that a reference cannot
/// blow a config up.
const MAX_SUBSTITUTED_BYTES: usize = 64 * 1024;

/// Resolves the references in `text`, the value of the setting `key`; `$$` is a `$`.
/// Substituted text is not scanned again. Errors start with `key`.
pub(crate) fn substitute_env(key: &str, text: &str) -> Result<String, String> {
    if !text.contains('$') {
        return Ok(text.to_string());
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let end = body.find('}').ok_or_else(|| {
                format!("{key}: unterminated `${{` in the value; write `$$` for a literal `$`")
            })?;
            resolve_reference(key, &body[..end], &mut out)?;
            if out.len() > MAX_SUBSTITUTED_BYTES {
                return Err(format!(
                    "{key}: the value is longer than {MAX_SUBSTITUTED_BYTES} bytes after substitution"
                ));
            }
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// An environment variable name as the OpenTelemetry configuration file's
/// substitution takes it: `[a-zA-Z_][a-zA-Z0-9_]*`.
fn is_variable_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.bytes().all(|b| b == b'_' || b.is_ascii_alphanumeric())
}

/// Appends what one reference (the text between `${` and `}`) stands for to `out`.
fn resolve_reference(key: &str, reference: &str, out: &mut String) -> Result<(), String> {
    let (name, default) = match reference.split_once(":-") {
        Some((name, default)) => (name, Some(default)),
        None => (reference, None),
    };
    let name = name.strip_prefix("env:").unwrap_or(name);
    // The reference is not echoed: its default may be a secret.
    if !is_variable_name(name) || default.is_some_and(|d| d.contains("${")) {
        return Err(format!(
            "{key}: a `${{...}}` reference is not valid; expected ${{VAR}}, ${{env:VAR}} or ${{env:VAR:-default}} (no references inside a default)"
        ));
    }
    // Not `spanplug_loader::env::var`: an empty variable without a default is an
    // empty value here, where only an unset one is an error.
    match (std::env::var(name), default) {
        (Ok(value), _) if !value.is_empty() => out.push_str(&value),
        (Err(std::env::VarError::NotUnicode(_)), _) => {
            return Err(format!("{key}: environment variable {name} is not valid UTF-8"))
        }
        (_, Some(default)) => out.push_str(default),
        (Ok(_), None) => {}
        (Err(_), None) => {
            return Err(format!(
                "{key}: environment variable {name} is not set and its reference has no default (write `${{env:{name}:-default}}`)"
            ))
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::substitute_env;

    #[test]
    fn substitution_follows_the_otel_config_syntax() {
        std::env::set_var("SPANPLUG_TEST_SUB", "v");
        std::env::remove_var("SPANPLUG_TEST_UNSET");
        let sub = |text: &str| substitute_env("k", text);
        assert_eq!(sub("a${SPANPLUG_TEST_SUB}b").unwrap(), "avb");
        assert_eq!(sub("${env:SPANPLUG_TEST_SUB}").unwrap(), "v");
        assert_eq!(sub("${env:SPANPLUG_TEST_UNSET:-dflt}").unwrap(), "dflt");
        assert_eq!(sub("$$5 and $x").unwrap(), "$5 and $x");
        let error = sub("${SPANPLUG_TEST_UNSET}").unwrap_err();
        assert!(
            error.contains("SPANPLUG_TEST_UNSET is not set") && error.starts_with("k:"),
            "{error}"
        );
        assert!(sub("${not valid}").unwrap_err().contains("is not valid"));
        let nested = sub("${env:SPANPLUG_TEST_UNSET:-${SECRET_DEFAULT}}").unwrap_err();
        assert!(
            nested.contains("no references inside a default") && !nested.contains("SECRET_DEFAULT"),
            "{nested}"
        );
        assert!(sub("${OPEN").unwrap_err().contains("unterminated"));
    }
}
