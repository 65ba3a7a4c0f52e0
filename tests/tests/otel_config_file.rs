//! OpenTelemetry configuration files: the configuration repository's own examples
//! (vendored under fixtures/otel-config/examples, see its README) load with every
//! trace field applied or refused by path; a custom component's nested properties
//! reach a real plugin's factory intact; `OTEL_CONFIG_FILE` replaces a service's
//! tracing_config and no other variable applies (in a child process: environment).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use opentelemetry::trace::Tracer as _;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use spanplug_config::{OtelConfigFile, Propagator, ResourceDetector, SamplerSpec, TracingConfig};
use spanplug_loader::ProcessorEntry;
use spanplug_tests::otlp_receiver::{attribute, Receiver};
use spanplug_tests::{assert_child_passed, assert_in_child, child_test, plugin_dir};

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/otel-config/examples")
        .join(name)
}

/// The example `name` read with `vars` as the whole environment.
fn load(name: &str, vars: &[(&str, &str)]) -> Result<OtelConfigFile, spanplug_config::ConfigError> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let text = std::fs::read_to_string(example(name)).unwrap();
    OtelConfigFile::parse(&text, &|name| vars.get(name).cloned(), example(name))
}

fn only_entry(config: &TracingConfig) -> ProcessorEntry {
    let entries = config.entries();
    assert_eq!(entries.len(), 1, "{entries:?}");
    entries.into_iter().next().unwrap()
}

fn setting<'e>(entry: &'e ProcessorEntry, key: &str) -> Option<&'e str> {
    entry.config.get(key)
}

fn assert_default_sampler(config: &TracingConfig) {
    let Some(SamplerSpec::ParentBased(spec)) = &config.sampler else {
        panic!("{:?}", config.sampler)
    };
    assert_eq!(spec.root, SamplerSpec::AlwaysOn);
    assert_eq!(spec.remote_parent_sampled, SamplerSpec::AlwaysOn);
    assert_eq!(spec.remote_parent_not_sampled, SamplerSpec::AlwaysOff);
    assert_eq!(spec.local_parent_sampled, SamplerSpec::AlwaysOn);
    assert_eq!(spec.local_parent_not_sampled, SamplerSpec::AlwaysOff);
}

#[test]
fn the_getting_started_example_applies_its_trace_fields() {
    let file = load(
        "otel-getting-started.yaml",
        &[("OTEL_RESOURCE_ATTRIBUTES", "team=a,tier=web%20front")],
    )
    .unwrap();
    let config = &file.config;
    assert!(config.enabled);
    let entry = only_entry(config);
    assert_eq!(entry.import_path, "otlp_http:otlp");
    assert_eq!(
        setting(&entry, "traces_endpoint"),
        Some("http://localhost:4318/v1/traces")
    );
    assert_eq!(setting(&entry, "read_env"), Some("false"));
    assert_eq!(setting(&entry, "compression"), Some("none"));
    assert_default_sampler(config);
    assert_eq!(
        config.propagators,
        Some(vec![Propagator::TraceContext, Propagator::Baggage])
    );
    let resource = config.resource.as_ref().unwrap();
    use spanplug_config::AttributeValue::String as Text;
    assert_eq!(
        resource.attributes,
        vec![
            ("team".into(), Text("a".into())),
            ("tier".into(), Text("web front".into()))
        ]
    );
    use ResourceDetector::*;
    assert_eq!(resource.detectors, vec![Service, Host, Process, Container]);
    let warnings = file.warnings.join("\n");
    for named in ["resource.detection (line 17)", "logger_provider (line 50)"] {
        assert!(warnings.contains(named), "{named} in\n{warnings}");
    }
    // Its one periodic otlp_http reader is spanplug's own metrics, whole.
    assert!(!warnings.contains("meter_provider"), "{warnings}");
    let metrics = config.self_metrics.as_ref().unwrap();
    assert!(metrics.from_file);
    assert_eq!(
        metrics.endpoint.as_deref(),
        Some("http://localhost:4318/v1/metrics")
    );
    assert_eq!(metrics.interval, Some(Duration::from_secs(60)));
    assert_eq!(metrics.timeout, Some(Duration::from_secs(10)));
}

#[test]
fn the_sdk_config_example_applies_its_trace_fields() {
    let file = load("otel-sdk-config.yaml", &[]).unwrap();
    let config = &file.config;
    let entry = only_entry(config);
    for (key, value) in [
        ("traces_endpoint", "http://localhost:4318/v1/traces"),
        ("compression", "gzip"),
        ("timeout", "10000"),
        ("protocol", "http/protobuf"),
        ("schedule_delay", "5000"),
        ("export_timeout", "30000"),
        ("max_queue_size", "2048"),
        ("max_export_batch_size", "512"),
        ("headers", ""),
    ] {
        assert_eq!(setting(&entry, key), Some(value), "{key}");
    }
    // tls: ca_file and friends are null: no certificate setting at all.
    assert_eq!(setting(&entry, "certificate"), None);
    assert_default_sampler(config);
    let limits = &config.span_limits;
    let counts = [
        limits.attribute_count,
        limits.event_count,
        limits.link_count,
        limits.event_attribute_count,
        limits.link_attribute_count,
    ];
    assert_eq!(counts, [Some(128); 5]);
    let resource = config.resource.as_ref().unwrap();
    assert_eq!(
        resource.attributes,
        vec![(
            "service.name".into(),
            spanplug_config::AttributeValue::String("unknown_service".into())
        )]
    );
    let warnings = file.warnings.join("\n");
    let the_apps =
        "not applied: it configures the application's own metrics SDK, not spanplug's own metrics";
    for named in [
        "log_level (line 12)".to_string(),
        "meter_provider.view_matching_mode/development (line 75)".to_string(),
        format!("meter_provider.views (line 76): {the_apps}"),
        format!("meter_provider.exemplar_filter (line 90): {the_apps}"),
        "logger_provider (line 91)".to_string(),
    ] {
        assert!(warnings.contains(&named), "{named} in\n{warnings}");
    }
    // Every meter_provider field but those is applied to spanplug's own metrics.
    assert_eq!(warnings.matches("meter_provider").count(), 4, "{warnings}");
    let metrics = config.self_metrics.as_ref().unwrap();
    assert_eq!(
        metrics.endpoint.as_deref(),
        Some("http://localhost:4318/v1/metrics")
    );
    assert_eq!(metrics.interval, Some(Duration::from_secs(60)));
    // The reader's 30 s and the exporter's 10 s: the shorter bounds each export.
    assert_eq!(metrics.timeout, Some(Duration::from_secs(10)));
    assert!(metrics.gzip);
    use spanplug_config::{HistogramAggregation, MetricsTemporality};
    assert_eq!(metrics.temporality, Some(MetricsTemporality::Cumulative));
    assert_eq!(
        metrics.histogram_aggregation,
        Some(HistogramAggregation::ExplicitBucket)
    );
    assert_eq!(metrics.certificate, None);
}

#[test]
fn the_migration_example_follows_its_variables_and_refuses_what_it_cannot_apply() {
    let file = load("otel-sdk-migration-config.yaml", &[]).unwrap();
    let config = &file.config;
    assert!(config.enabled);
    let entry = only_entry(config);
    assert_eq!(setting(&entry, "compression"), Some("gzip"));
    assert_eq!(setting(&entry, "max_queue_size"), Some("2048"));
    assert_eq!(
        config.propagators,
        Some(vec![Propagator::TraceContext, Propagator::Baggage])
    );
    assert_eq!(config.span_limits.attribute_count, Some(128));
    assert!(
        file.warnings
            .iter()
            .any(|w| w.starts_with("instrumentation/development (line 125)")),
        "{:?}",
        file.warnings
    );
    let metrics = config.self_metrics.as_ref().unwrap();
    assert_eq!(metrics.interval, Some(Duration::from_secs(60)));
    assert!(metrics.gzip && metrics.headers.iter().next().is_none());
    let meter_warnings: Vec<&String> = file
        .warnings
        .iter()
        .filter(|w| w.starts_with("meter_provider"))
        .collect();
    assert_eq!(meter_warnings.len(), 1, "{meter_warnings:?}");
    assert!(
        meter_warnings[0].starts_with("meter_provider.exemplar_filter (line "),
        "{meter_warnings:?}"
    );

    let vars = [
        ("OTEL_SDK_DISABLED", "true"),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "7"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:4318"),
        ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x-key=s3cret"),
        ("OTEL_PROPAGATORS", "baggage"),
        ("OTEL_SPAN_EVENT_COUNT_LIMIT", "9"),
        // Through the file's own references, as the migration example means them.
        ("OTEL_METRIC_EXPORT_INTERVAL", "500"),
        ("OTEL_EXPORTER_OTLP_METRICS_HEADERS", "x-m=a%20b"),
    ];
    let config = load("otel-sdk-migration-config.yaml", &vars)
        .unwrap()
        .config;
    assert!(!config.enabled);
    let entry = only_entry(&config);
    assert_eq!(setting(&entry, "max_queue_size"), Some("7"));
    assert_eq!(
        setting(&entry, "traces_endpoint"),
        Some("https://collector:4318/v1/traces")
    );
    assert_eq!(setting(&entry, "headers"), Some("x-key=s3cret"));
    assert_eq!(config.propagators, Some(vec![Propagator::Baggage]));
    assert_eq!(config.span_limits.event_count, Some(9));
    let metrics = config.self_metrics.as_ref().unwrap();
    assert_eq!(
        metrics.endpoint.as_deref(),
        Some("https://collector:4318/v1/metrics")
    );
    assert_eq!(metrics.headers.get("x-key"), None);
    assert_eq!(metrics.headers.get("x-m"), Some("a b"));
    assert_eq!(metrics.interval, Some(Duration::from_millis(500)));

    let refused = load(
        "otel-sdk-migration-config.yaml",
        &[
            ("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "64"),
            ("OTEL_PROPAGATORS", "b3"),
        ],
    )
    .unwrap_err();
    let problems = refused.problems().join("\n");
    assert_eq!(refused.problems().len(), 2, "{problems}");
    assert!(
        problems.contains(
            "tracer_provider.limits.attribute_value_length_limit (line 69): not supported"
        ),
        "{problems}"
    );
    assert!(
        problems.contains("propagator.composite_list (line 50): propagator `b3` is not available"),
        "{problems}"
    );
}

#[test]
fn a_custom_plugin_gets_its_nested_properties_intact() {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("settings.txt");
    let file = dir.path().join("otel.yaml");
    std::fs::write(&file, format!(
        "file_format: \"1.1\"\ntracer_provider:\n  processors:\n    - \"test_plugins:settings_recorder\":\n        record_file: {}\n        rules:\n          - match: \"http.*\"\n            keep: false\n            weight: 0.5\n          - 3\n        nested: {{a: {{b: [true, null, \"x\"]}}}}\n",
        record.display()
    )).unwrap();
    let mut config = TracingConfig::from_otel_config_file(&file).unwrap();
    config.plugin_path = vec![plugin_dir()];
    let guard = spanplug_sdk::init(config).unwrap();
    guard.tracer("t").in_span("one", |_| {});
    guard.shutdown().unwrap();
    let recorded = std::fs::read_to_string(&record).unwrap();
    let lines: Vec<&str> = recorded.lines().collect();
    assert_eq!(
        lines[0],
        format!("structured {{\"record_file\":{:?},\"rules\":[{{\"match\":\"http.*\",\"keep\":bool:false,\"weight\":float:0.5}},int:3],\"nested\":{{\"a\":{{\"b\":[bool:true,null,\"x\"]}}}}}}", record.display().to_string())
    );
    assert!(
        lines.contains(&"flat nested={\"a\":{\"b\":[true,null,\"x\"]}}"),
        "{recorded}"
    );
    assert!(
        lines.contains(&format!("flat record_file={}", record.display()).as_str()),
        "{recorded}"
    );
}

/// The parent of [`config_file_variable_replaces_tracing_config_child`].
#[test]
fn config_file_variable_replaces_tracing_config_and_other_variables() {
    let receiver = Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("otel.yaml");
    std::fs::write(&file, format!(
        "file_format: \"1.0\"\nresource:\n  attributes:\n    - name: service.name\n      value: from-file\ntracer_provider:\n  processors:\n    - simple:\n        exporter:\n          otlp_http:\n            endpoint: {}/v1/traces\n  sampler:\n    always_on:\n",
        receiver.base_url()
    )).unwrap();
    let service = dir.path().join("service.yaml");
    std::fs::write(&service, "tracing_config:\n  exporter_import_path: console_file:debug_span_processor\n  sampling_ratio: 0.0\n").unwrap();
    let output = child_test("config_file_variable_replaces_tracing_config_child")
        .env("OTEL_CONFIG_FILE", &file)
        .env("SERVICE_YAML", &service)
        .env("SPANPLUG_PLUGIN_PATH", plugin_dir())
        .env(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "http://127.0.0.1:9/nowhere",
        )
        .env("OTEL_SERVICE_NAME", "from-env")
        .env("OTEL_TRACES_SAMPLER", "always_off")
        .env("OTEL_SDK_DISABLED", "true")
        .output()
        .unwrap();
    assert_child_passed(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr
            .matches("is the tracing configuration; it replaces")
            .count(),
        1,
        "{stderr}"
    );
    let spans = receiver.wait_for_spans(2, Duration::from_secs(10));
    let names: Vec<&str> = spans.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["first", "second"]);
    for request in receiver.requests() {
        let resource = request.request.resource_spans[0].resource.clone().unwrap();
        let service_name = attribute(&resource.attributes, "service.name");
        assert_eq!(service_name, Some(&Any::StringValue("from-file".into())));
    }
}

#[test]
#[ignore = "run by its parent, in a child process"]
fn config_file_variable_replaces_tracing_config_child() {
    assert_in_child();
    spanplug_loader::stderr_log::init();
    let service = std::env::var("SERVICE_YAML").unwrap();
    for name in ["first", "second"] {
        let config = TracingConfig::from_yaml_file(&service).unwrap();
        let guard = spanplug_sdk::init(config).unwrap();
        assert!(guard.is_enabled());
        assert_eq!(guard.plugins()[0].import_path, "otlp_http:otlp");
        guard.tracer("t").in_span(name, |_| {});
        guard.shutdown().unwrap();
    }
}

/// The parent of [`meter_provider_sends_spanplugs_own_metrics_child`].
#[test]
fn a_files_meter_provider_sends_spanplugs_own_metrics_and_no_variable_applies() {
    let receiver = Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("otel.yaml");
    std::fs::write(&file, format!(
        "file_format: \"1.0\"\ntracer_provider:\n  processors:\n    - simple:\n        exporter:\n          \"test_plugins:settings_recorder\":\n            record_file: {}\nmeter_provider:\n  readers:\n    - periodic:\n        interval: 100\n        exporter:\n          otlp_http:\n            endpoint: {}/v1/metrics\n            headers:\n              - name: x-file\n                value: from-file\n            compression: gzip\n",
        dir.path().join("spans.txt").display(),
        receiver.base_url()
    )).unwrap();
    let output = child_test("meter_provider_sends_spanplugs_own_metrics_child")
        .env("OTEL_CONFIG_FILE", &file)
        .env("SPANPLUG_PLUGIN_PATH", plugin_dir())
        .env("OTEL_METRICS_EXPORTER", "none")
        .env(
            "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
            "http://127.0.0.1:9/nowhere",
        )
        .env("OTEL_METRIC_EXPORT_INTERVAL", "3600000")
        .env("OTEL_EXPORTER_OTLP_METRICS_HEADERS", "x-env=leaked")
        .env("OTEL_EXPORTER_OTLP_HEADERS", "x-env-general=leaked")
        .env("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "delta")
        .env(
            "OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE",
            "/nonexistent/ca.pem",
        )
        .output()
        .unwrap();
    assert_child_passed(&output);
    let received = receiver.metrics();
    // The file's 100 ms interval: exports while the child ran, then the final one.
    assert!(received.len() >= 2, "{} metrics requests", received.len());
    let started = spanplug_tests::otlp_receiver::sum_of(&received, "otel.sdk.span.started", &[]);
    assert_eq!(started, 3);
    let counter = spanplug_tests::otlp_receiver::metrics_named(&received, "otel.sdk.span.started")
        .last()
        .unwrap();
    let Some(opentelemetry_proto::tonic::metrics::v1::metric::Data::Sum(sum)) = &counter.data
    else {
        panic!("{counter:?}")
    };
    assert_eq!(
        sum.aggregation_temporality, 2,
        "cumulative, as the file defaults"
    );
    for headers in receiver.metrics_headers() {
        let get = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("x-file"), Some("from-file"), "{headers:?}");
        assert_eq!(get("content-encoding"), Some("gzip"), "{headers:?}");
        assert_eq!(get("x-env"), None, "{headers:?}");
        assert_eq!(get("x-env-general"), None, "{headers:?}");
    }
}

#[test]
#[ignore = "run by its parent, in a child process"]
fn meter_provider_sends_spanplugs_own_metrics_child() {
    assert_in_child();
    spanplug_loader::stderr_log::init();
    let file = std::env::var("OTEL_CONFIG_FILE").unwrap();
    let config = TracingConfig::from_otel_config_file(file).unwrap();
    assert!(config.self_metrics.as_ref().unwrap().from_file);
    let guard = spanplug_sdk::init(config).unwrap();
    for name in ["one", "two", "three"] {
        guard.tracer("t").in_span(name, |_| {});
    }
    std::thread::sleep(Duration::from_millis(400));
    guard.shutdown().unwrap();
}
