//! Both factories run natively through the host's `on_start` path
//! (`spanplug-plugin-test`): what they set on a starting span.

use spanplug_api::OwnedValue;
use spanplug_plugin_test::{TestContext, TestSpan};

use super::{serve_context, static_attributes};

#[test]
fn the_request_context_is_copied_under_the_prefix_as_spans_start() {
    let pipeline = TestContext::new("context_enricher:serve_context")
        .config("context_prefix", "ray.")
        .run(serve_context)
        .unwrap();
    let mut span = TestSpan::new("handle").attribute("request_id", "from-the-app");
    pipeline.start(&mut span, &[("request_id", "r-1"), ("app", "default")]);
    assert_eq!(span.get("ray.request_id"), Some(&OwnedValue::from("r-1")));
    assert_eq!(span.get("ray.app"), Some(&OwnedValue::from("default")));
    assert_eq!(
        span.get("request_id"),
        Some(&OwnedValue::from("from-the-app"))
    );

    pipeline.end(&span);
    let exported = pipeline.exported();
    assert_eq!(
        exported[0].attribute("ray.app"),
        Some(&OwnedValue::from("default"))
    );
}

#[test]
fn static_attributes_are_set_on_every_span_and_a_misspelt_key_is_refused() {
    let pipeline = TestContext::new("context_enricher:static_attributes")
        .shared("static_attributes", "team=payments,tier=1")
        .run(static_attributes)
        .unwrap();
    let mut span = TestSpan::new("charge");
    pipeline.start(&mut span, &[]);
    assert_eq!(span.get("team"), Some(&OwnedValue::from("payments")));
    assert_eq!(span.get("tier"), Some(&OwnedValue::from("1")));

    let error = TestContext::new("context_enricher:static_attributes")
        .config("static_attribute", "team=payments")
        .run(static_attributes)
        .unwrap_err();
    assert_eq!(
        error,
        "unknown config key `static_attribute` for context_enricher:static_attributes; valid keys: static_attributes"
    );
}
