//! The factory and its processor run natively through the host's chain
//! (`spanplug-plugin-test`): what the exporters after it receive, and what it logs.

use spanplug_api::{SpanKind, StatusCode};
use spanplug_plugin_test::{TestContext, TestSpan};

use super::drop;

#[test]
fn spans_matching_any_rule_are_dropped_for_later_processors_and_counted() {
    let pipeline = TestContext::new("span_filter:drop#rules")
        .config("names", "GET /health*")
        .config("attributes", "http.response.status_code=404")
        .config("kinds", "client")
        .run(drop)
        .unwrap();
    pipeline.end(&TestSpan::new("GET /healthz"));
    pipeline.end(&TestSpan::new("GET /missing").attribute("http.response.status_code", 404));
    pipeline.end(&TestSpan::new("SELECT users").kind(SpanKind::CLIENT));
    pipeline.end(&TestSpan::new("GET /orders").attribute("http.response.status_code", 200));
    pipeline.shutdown().unwrap();

    let names: Vec<String> = pipeline.exported().into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["GET /orders"]);
    assert_eq!(
        pipeline.logs(),
        ["INFO [span_filter:drop#rules] dropped 3 spans matching its rules"]
    );
}

#[test]
fn a_status_rule_drops_only_that_status() {
    let pipeline = TestContext::new("span_filter:drop")
        .config("status", "error")
        .run(drop)
        .unwrap();
    pipeline.end(&TestSpan::new("failed").error("boom"));
    pipeline.end(&TestSpan::new("fine").ok());
    let exported = pipeline.exported();
    assert_eq!(exported.len(), 1);
    assert_eq!(exported[0].status_code, StatusCode::OK);
}

#[test]
fn bad_settings_name_the_key_and_the_valid_values() {
    let error = |key: &str, value: &str| {
        TestContext::new("span_filter:drop")
            .config(key, value)
            .run(drop)
            .unwrap_err()
    };
    assert_eq!(
        error("name", "x"),
        "unknown config key `name` for span_filter:drop; valid keys: names, attributes, status, kinds"
    );
    assert!(error("names", "[abc").starts_with("names: glob \"[abc\" does not parse"));
    assert!(error("kinds", "sever").contains("unknown kind \"sever\"; valid: server"));
    assert!(error("attributes", "=x").starts_with("attributes: expected key=glob"));
    let none = TestContext::new("span_filter:drop").run(drop).unwrap_err();
    assert_eq!(
        none,
        "no rules: set at least one of names, attributes, status, kinds in the entry's config"
    );
}

#[test]
fn shared_settings_are_rules_too_and_not_refused() {
    let pipeline = TestContext::new("span_filter:drop")
        .shared("names", "noise*")
        .shared("endpoint", "http://collector:4318")
        .run(drop)
        .unwrap();
    pipeline.end(&TestSpan::new("noise.tick"));
    assert!(pipeline.exported().is_empty());
}
