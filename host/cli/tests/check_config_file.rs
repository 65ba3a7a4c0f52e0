//! `spanplug check` on OpenTelemetry configuration files: the vendored examples pass,
//! and a bad file gets one line per problem with its YAML path and line.

mod support;

use std::path::Path;

use support::{spanplug, stderr, stdout};

fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/otel-config/examples")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn the_configuration_examples_check_with_their_warnings() {
    for name in [
        "otel-getting-started.yaml",
        "otel-sdk-config.yaml",
        "otel-sdk-migration-config.yaml",
    ] {
        let output = spanplug(&["check", &example(name)]);
        let (out, err) = (stdout(&output), stderr(&output));
        assert!(output.status.success(), "{name}\n{out}\n{err}");
        assert!(out.contains("ok    otlp_http:otlp"), "{out}");
        assert!(out.contains("(configuration file)"), "{out}");
        // Each example's periodic otlp_http reader is spanplug's own metrics.
        assert!(
            out.contains(
                "self metrics: on, every 60s, from the configuration file's meter_provider"
            ),
            "{out}"
        );
        assert!(!err.contains("meter_provider.readers"), "{err}");
    }
}

#[test]
fn a_bad_configuration_file_gets_one_line_per_problem() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.yaml");
    std::fs::write(
        &file,
        "file_format: \"1.0\"\ntracer_provider:\n  processors:\n    - batch:\n        max_queue_size: 0\n        exporter:\n          otlp_grpc:\n    - \"nowhere:thing\":\n  sampler:\n    trace_id_ratio_based:\n      ratio: 2\n",
    )
    .unwrap();
    let output = spanplug(&["check", &file.to_string_lossy()]);
    assert!(!output.status.success());
    let err = stderr(&output);
    let lines: Vec<&str> = err.lines().collect();
    assert!(
        lines[0].starts_with("error: invalid OpenTelemetry config file "),
        "{err}"
    );
    assert_eq!(
        lines[1..4]
            .iter()
            .map(|l| l.split(':').next().unwrap())
            .collect::<Vec<_>>(),
        [
            "  tracer_provider.processors[0].batch.max_queue_size (line 5)",
            "  tracer_provider.processors[0].batch.exporter.otlp_grpc (line 7)",
            "  tracer_provider.sampler.trace_id_ratio_based.ratio (line 11)",
        ],
        "{err}"
    );
    assert_eq!(lines.len(), 4, "{err}");
}
