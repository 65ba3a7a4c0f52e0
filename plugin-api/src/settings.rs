//! Helpers for reading plugin settings, shared by hosts and plugins (plugins
//! depend on spanplug-api and otherwise only on this workspace's small helper
//! crates with no host code, such as spanplug-glob). Nothing here crosses the boundary.

use std::time::{Duration, Instant};

/// `key=value,key2=value2` (the OpenTelemetry list format of `OTEL_RESOURCE_ATTRIBUTES`
/// and `OTEL_EXPORTER_OTLP_HEADERS`): trimmed pairs, empty items skipped. Errors
/// name `source` and never echo a value (values may be secrets).
pub fn key_value_pairs<'t>(source: &str, text: &'t str) -> Result<Vec<(&'t str, &'t str)>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| match item.split_once('=') {
            Some((key, value)) if !key.trim().is_empty() => Ok((key.trim(), value.trim())),
            Some(_) => Err(format!(
                "{source}: expected key=value pairs separated by commas; an entry has an empty key"
            )),
            None => Err(format!(
                "{source}: expected key=value pairs separated by commas; an entry has no '='"
            )),
        })
        .collect()
}

/// `%XX` sequences decoded, as in the values of `OTEL_EXPORTER_OTLP_HEADERS` and
/// `OTEL_RESOURCE_ATTRIBUTES`; `None` when a sequence is not two hex digits or the
/// result is not UTF-8. (Since 0.3.1.)
pub fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            // `from_str_radix` alone would take a sign: `%+A`.
            let hex = text.get(i + 1..i + 3)?;
            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The inverse of [`percent_decode`] for a value in a `key=value,...` list: `%`,
/// `,`, `=`, blanks and controls are encoded. (Since 0.3.1.)
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_graphic() && !matches!(byte, b'%' | b',' | b'=') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// What [`env_var`] says, after the variable's name, of a value that is not UTF-8.
pub const NOT_UTF8: &str =
    "the value is not valid UTF-8 (its bytes are not shown); set it to UTF-8 text or unset it";

/// The text of the environment variable `name`; `Ok(None)` when it is unset or
/// blank. A value that is not UTF-8 is an error `"{name}: {NOT_UTF8}"`, never taken
/// as unset (a header or endpoint that silently went missing would send spans
/// elsewhere, unauthenticated) and never shown (it may be a secret). (Since 0.2.2.)
pub fn env_var(name: &str) -> Result<Option<String>, String> {
    match std::env::var(name) {
        Ok(value) if value.trim().is_empty() => Ok(None),
        Ok(value) => Ok(Some(value)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(format!("{name}: {NOT_UTF8}")),
    }
}

/// `now + timeout`, saturating instead of overflowing on huge timeouts.
pub fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_trimmed_and_errors_never_echo_values() {
        assert_eq!(
            key_value_pairs("X", " a = 1 ,, b=two=2 ").unwrap(),
            [("a", "1"), ("b", "two=2")]
        );
        let error = key_value_pairs("X", "token-secret-value").unwrap_err();
        assert!(error.starts_with("X: expected key=value") && !error.contains("secret"));
        assert!(key_value_pairs("X", "=v")
            .unwrap_err()
            .contains("empty key"));
        assert!(deadline_after(Duration::MAX) > Instant::now());
        let odd = "a b,c=d%é";
        assert_eq!(percent_decode(&percent_encode(odd)).as_deref(), Some(odd));
        assert_eq!(percent_decode("%+A"), None);
    }

    #[test]
    fn a_variable_that_is_not_utf8_is_an_error_naming_it_never_its_bytes() {
        use std::os::unix::ffi::OsStrExt as _;
        // A name no other test reads or writes.
        let name = "SPANPLUG_API_TEST_NOT_UTF8";
        std::env::set_var(name, std::ffi::OsStr::from_bytes(b"http://127.0.0.1:1\xff"));
        let error = env_var(name).unwrap_err();
        std::env::set_var(name, " ");
        assert_eq!(env_var(name), Ok(None));
        std::env::set_var(name, "x");
        assert_eq!(env_var(name), Ok(Some("x".into())));
        std::env::remove_var(name);
        assert_eq!(env_var(name), Ok(None));
        assert_eq!(error, format!("{name}: {NOT_UTF8}"));
    }
}
