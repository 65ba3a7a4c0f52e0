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
    // On a loaded machine the writer can fall behind and the 8 MiB hand-off then drops
    // spans on the application thread, by design: each must be counted and reported.
    let dropped = match guard.shutdown() {
        Ok(()) => 0,
        Err(error) => dropped_behind(&format!("{error:?}")),
    };

    assert_eq!(span_files(dir.path()).len(), 1);
    // read_records fails the test on any record that does not parse.
    let records = read_records(dir.path());
    assert_eq!(records.len() as i64 + dropped, THREADS * SPANS_PER_THREAD);
    let pairs: HashSet<(i64, i64)> = records
        .iter()
        .map(|r| {
            (
                r.attributes["thread"].as_i64().unwrap(),
                r.attributes["i"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(pairs.len(), records.len());
    let span_ids: HashSet<&str> = records.iter().map(|r| r.span_id.as_str()).collect();
    assert_eq!(span_ids.len(), records.len());
    assert!(records
        .iter()
        .all(|r| r.attributes["payload"].as_str() == Some(&"données ✓ ".repeat(8))));
}

/// The spans a shutdown report says were dropped because writing fell behind; any
/// other failure (a write error, a torn record) fails the test.
fn dropped_behind(report: &str) -> i64 {
    assert!(
        report.contains(" because writing fell behind, 0 to write errors"),
        "{report}"
    );
    let (_, after) = report
        .split_once("spans dropped (not written): ")
        .unwrap_or_else(|| panic!("{report}"));
    let count: String = after.chars().take_while(char::is_ascii_digit).collect();
    count.parse().unwrap_or_else(|_| panic!("{report}"))
}
