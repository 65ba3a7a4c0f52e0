//! Many application threads ending spans at once: every span is written whole,
//! exactly once.

use std::collections::HashSet;

use opentelemetry::trace::{Span as _, Tracer as _};
use opentelemetry::KeyValue;
use spanplug_tests::{config, read_records, span_files};

const THREADS: i64 = 8;
const SPANS_PER_THREAD: i64 = 10_000;

#[test]
fn eight_threads_times_ten_thousand_spans_lose_and_tear_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let guard = spanplug_sdk::init(config(
        &["console_file:default_tracing_exporter"],
        dir.path(),
    ))
    .unwrap();
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let tracer = guard.tracer("load");
            scope.spawn(move || {
                for i in 0..SPANS_PER_THREAD {
                    let mut span = tracer.start("work");
                    span.set_attribute(KeyValue::new("thread", thread));
                    span.set_attribute(KeyValue::new("i", i));
                    // Multi-byte text makes a torn record show up as broken JSON.
                    span.set_attribute(KeyValue::new("payload", "données ✓ ".repeat(8)));
                    span.end();
                }
            });
        }
    });
    guard.shutdown().unwrap();

    assert_eq!(span_files(dir.path()).len(), 1);
    // read_records fails the test on any record that does not parse.
    let records = read_records(dir.path());
    assert_eq!(records.len() as i64, THREADS * SPANS_PER_THREAD);
    let pairs: HashSet<(i64, i64)> = records
        .iter()
        .map(|r| {
            (
                r.attributes["thread"].as_i64().unwrap(),
                r.attributes["i"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(pairs.len() as i64, THREADS * SPANS_PER_THREAD);
    let span_ids: HashSet<&str> = records.iter().map(|r| r.span_id.as_str()).collect();
    assert_eq!(span_ids.len(), records.len());
    assert!(records
        .iter()
        .all(|r| r.attributes["payload"].as_str() == Some(&"données ✓ ".repeat(8))));
}
