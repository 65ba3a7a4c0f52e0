//! Parent-based sampling with a trace-id-ratio root, as in Ray Serve.

use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState, Tracer as _,
};
use opentelemetry::Context;
use spanplug_tests::{config, read_records};

const ROOTS: usize = 4000;

/// Starts `ROOTS` root spans with one child each; returns how many roots were written,
/// checking that every written child's root was written too.
fn sampled_roots(ratio: f64) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let config = config(&["console_file:default_tracing_exporter"], dir.path())
        .with_sampling_ratio(ratio)
        .with_exporter_config("format", "jsonl");
    let guard = spanplug_sdk::init(config).unwrap();
    let tracer = guard.tracer("sampling");
    for _ in 0..ROOTS {
        tracer.in_span("root", |_| tracer.in_span("child", |_| {}));
    }
    guard.shutdown().unwrap();
    let records = read_records(dir.path());
    let roots: Vec<_> = records.iter().filter(|r| r.name == "root").collect();
    let children: Vec<_> = records.iter().filter(|r| r.name == "child").collect();
    // Parent-based: a child is sampled exactly when its root is.
    assert_eq!(roots.len(), children.len());
    for child in children {
        assert!(roots
            .iter()
            .any(|r| Some(&r.span_id) == child.parent_id.as_ref()));
    }
    roots.len()
}

#[test]
fn ratio_one_keeps_every_trace() {
    assert_eq!(sampled_roots(1.0), ROOTS);
}

#[test]
fn ratio_zero_keeps_none() {
    assert_eq!(sampled_roots(0.0), 0);
}

#[test]
fn ratio_half_keeps_about_half() {
    // Binomial(4000, 0.5): sd ≈ 31.6, so ±5 sd is 158.
    let kept = sampled_roots(0.5);
    assert!(
        (2000 - 158..=2000 + 158).contains(&kept),
        "kept {kept} of {ROOTS}"
    );
}

#[test]
fn a_remote_parent_decides_for_its_children() {
    let dir = tempfile::tempdir().unwrap();
    let guard = spanplug_sdk::init(config(
        &["console_file:default_tracing_exporter"],
        dir.path(),
    ))
    .unwrap();
    let tracer = guard.tracer("sampling");
    let remote = |trace: u128, flags| {
        Context::new().with_remote_span_context(SpanContext::new(
            TraceId::from(trace),
            SpanId::from(0x00f067aa0ba902b7),
            flags,
            true,
            TraceState::default(),
        ))
    };
    let _ = tracer.start_with_context("from_unsampled_parent", &remote(1, TraceFlags::default()));
    let _ = tracer.start_with_context("from_sampled_parent", &remote(2, TraceFlags::SAMPLED));
    drop(tracer);
    guard.shutdown().unwrap();
    let names: Vec<String> = read_records(dir.path())
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(names, ["from_sampled_parent"]);
}
