//! The built `.so`, loaded through the host's loader as a service loads it.

use spanplug_plugin_test::{TestContext, TestSpan};

/// The entry a service would name.
const IMPORT_PATH: &str = "custom_plugin:span_log";

#[test]
fn the_built_library_loads_and_writes_failed_spans() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("spans.jsonl");
    let pipeline = TestContext::new(IMPORT_PATH)
        .config("file", file.display())
        .load_built()
        .unwrap();
    assert_eq!(
        pipeline.processor_names(),
        [format!("span_log({})", file.display())]
    );
    pipeline.end(&TestSpan::new("GET /orders").error("timeout"));
    pipeline.shutdown().unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains(r#""name":"GET /orders""#), "{text}");
}

#[test]
fn a_missing_setting_is_reported_by_the_host_naming_the_entry() {
    let error = TestContext::new(IMPORT_PATH).load_built().unwrap_err();
    assert_eq!(
        error,
        "factory custom_plugin:span_log failed: `file` is required: the file spans are appended to"
    );
}
