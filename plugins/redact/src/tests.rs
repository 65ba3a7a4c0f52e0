//! The factory and the redactor run natively through the host's chain
//! (`spanplug-plugin-test`): what the exporters after it receive, and what it logs.

use spanplug_api::OwnedValue;
use spanplug_plugin_test::{TestContext, TestSpan};

use super::attributes;

#[test]
fn secret_keys_and_detected_values_are_masked_for_the_processors_after_it() {
    let pipeline = TestContext::new("redact:attributes")
        .run(attributes)
        .unwrap();
    let span = TestSpan::new("login alice@example.com")
        .attribute("user.password", "hunter2")
        .attribute("note", "card 4111 1111 1111 1111 on file")
        .attribute("http.route", "/login")
        .event(
            "retry",
            &[("authorization", OwnedValue::from("Bearer abc"))],
        )
        .error("token Bearer abc.def rejected");
    pipeline.end(&span);

    let exported = &pipeline.exported()[0];
    assert_eq!(exported.name, "login [REDACTED]");
    assert_eq!(
        exported.attribute("user.password"),
        Some(&OwnedValue::from("[REDACTED]"))
    );
    assert_eq!(
        exported.attribute("note"),
        Some(&OwnedValue::from("card [REDACTED] on file"))
    );
    assert_eq!(
        exported.attribute("http.route"),
        Some(&OwnedValue::from("/login"))
    );
    assert_eq!(
        exported.events[0].1,
        [("authorization".to_string(), OwnedValue::from("[REDACTED]"))]
    );
    assert!(!exported.status_description.contains("abc"), "{exported:?}");
}

#[test]
fn remove_mode_drops_the_attribute() {
    let pipeline = TestContext::new("redact:attributes")
        .config("mode", "remove")
        .run(attributes)
        .unwrap();
    pipeline.end(&TestSpan::new("GET /").attribute("api_key", "k-1"));
    assert_eq!(pipeline.exported()[0].attribute("api_key"), None);
}

#[test]
fn hash_mode_without_a_key_warns_that_hashes_can_be_guessed() {
    let pipeline = TestContext::new("redact:attributes#unkeyed")
        .config("mode", "hash")
        .run(attributes)
        .unwrap();
    let logs = pipeline.logs();
    assert_eq!(logs.len(), 1, "{logs:?}");
    assert!(
        logs[0].starts_with("WARN [redact:attributes#unkeyed] mode hash without hash_key"),
        "{logs:?}"
    );
}

#[test]
fn bad_settings_name_the_key_and_the_valid_values() {
    let error = |key: &str, value: &str| {
        TestContext::new("redact:attributes")
            .config(key, value)
            .run(attributes)
            .unwrap_err()
    };
    assert_eq!(
        error("value", "email"),
        "unknown config key `value` for redact:attributes; valid keys: keys, values, mode, hash_key"
    );
    assert_eq!(
        error("values", "email,phone"),
        "values: unknown detector \"phone\"; valid: email, card, bearer, ipv4"
    );
    assert_eq!(
        error("mode", "blur"),
        "mode: unknown mode \"blur\"; valid: mask, hash, remove"
    );
    assert!(error("keys", "[x").starts_with("keys: glob \"[x\" does not parse"));
}
