//! Helpers for reading plugin settings, shared by hosts and plugins (plugins may
//! depend on nothing else of spanplug's). Nothing here crosses the boundary.

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
    }
}
