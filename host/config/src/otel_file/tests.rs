use std::path::PathBuf;

use spanplug_api::{Setting, SettingKind, SettingValue};

use crate::{ConfigErrorKind, OtelConfigFile, Propagator, SamplerSpec};

fn no_env(_: &str) -> Option<String> {
    None
}

fn parse(text: &str) -> Result<OtelConfigFile, crate::ConfigError> {
    OtelConfigFile::parse(text, &no_env, PathBuf::from("/etc/otel.yaml"))
}

const MINIMAL: &str = "file_format: \"1.0\"\ntracer_provider:\n  processors:\n    - simple:\n        exporter:\n          console:\n";

#[test]
fn a_minimal_file_is_the_whole_config_and_defaults_as_the_spec_says() {
    let file = parse(MINIMAL).unwrap();
    let config = file.config;
    assert!(config.enabled);
    assert_eq!(config.config_file, Some(PathBuf::from("/etc/otel.yaml")));
    let entries = config.entries();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].import_path, "console_file:debug_span_processor");
    // Omitted propagator: a noop one; omitted sampler: parent_based(always_on).
    assert_eq!(config.propagators, Some(vec![]));
    let Some(SamplerSpec::ParentBased(spec)) = config.sampler else {
        panic!("{:?}", config.sampler)
    };
    assert_eq!(spec.root, SamplerSpec::AlwaysOn);
    assert_eq!(spec.remote_parent_not_sampled, SamplerSpec::AlwaysOff);
    assert_eq!(config.span_limits.attribute_count, Some(128));
    assert!(file.warnings.is_empty(), "{:?}", file.warnings);
}

#[test]
fn a_bad_file_gets_one_line_per_problem_with_its_path_and_line() {
    let text = "file_format: \"1.0\"\ntracer_provider:\n  processors:\n    - batch:\n        max_queue_size: -1\n        exporter:\n          otlp_http:\n            endpoint: 5\n            bogus: 1\n  sampler:\n    always_on:\n";
    let error = parse(text).unwrap_err();
    assert_eq!(error.kind(), ConfigErrorKind::Yaml);
    let problems = error.problems();
    assert_eq!(problems.len(), 3, "{problems:#?}");
    let expect = [
        "tracer_provider.processors[0].batch.max_queue_size (line 5): ",
        "tracer_provider.processors[0].batch.exporter.otlp_http.endpoint (line 8): ",
        "tracer_provider.processors[0].batch.exporter.otlp_http.bogus (line 9): ",
    ];
    for prefix in expect {
        assert!(
            problems.iter().any(|p| p.starts_with(prefix)),
            "{prefix} in {problems:#?}"
        );
    }
    assert_eq!(error.to_string().lines().count(), 4, "{error}");
}

#[test]
fn file_format_majors_are_refused_and_newer_minors_warn() {
    let error = parse(&MINIMAL.replace("1.0", "2.0")).unwrap_err();
    assert!(
        error.problems()[0].starts_with("file_format (line 1): \"2.0\" is file format 2"),
        "{error}"
    );
    let error = parse(&MINIMAL.replace("\"1.0\"", "1.0")).unwrap_err();
    assert!(
        error.problems()[0].contains("expected a quoted version"),
        "{error}"
    );
    let file = parse(&MINIMAL.replace("1.0", "1.7")).unwrap();
    assert!(
        file.warnings[0].starts_with("file_format (line 1): 1.7 is newer"),
        "{:?}",
        file.warnings
    );
    // A 1.1 file's properties the 1.0 schema lacks are warnings, not errors.
    let text = format!(
        "{}resource:\n  detection:\n    detectors:\n      - host:\n",
        MINIMAL.replace("1.0", "1.1")
    );
    let file = parse(&text).unwrap();
    assert!(
        file.warnings
            .iter()
            .any(|w| w.starts_with("resource.detection (line 8)")),
        "{:?}",
        file.warnings
    );
}

#[test]
fn unsupported_trace_fields_are_refused_and_other_signals_warned() {
    let text = "file_format: \"1.0\"\nlog_level: info\n\ntracer_provider:\n  processors:\n    - batch:\n        exporter:\n          otlp_grpc:\n    - batch:\n        exporter:\n          otlp_file/development:\n    - nonsense:\n  sampler:\n    probability/development:\n      ratio: 0.5\npropagator:\n  composite:\n    - b3:\n";
    let error = parse(text).unwrap_err();
    let problems = error.problems().join("\n");
    for expected in [
        "tracer_provider.processors[0].batch.exporter.otlp_grpc (line 8): not supported: spanplug has no gRPC",
        "tracer_provider.processors[1].batch.exporter.otlp_file/development (line 11): not supported",
        "tracer_provider.processors[2].nonsense (line 12): processor `nonsense` is not known",
        "tracer_provider.sampler.probability/development (line 14): sampler",
        "propagator.composite[0].b3 (line 18): propagator `b3` is not available",
    ] {
        assert!(problems.contains(expected), "{expected}\nin\n{problems}");
    }
    // Other signals are warnings.
    let text = format!("{MINIMAL}logger_provider:\n  processors:\n    - batch:\n        exporter:\n          console:\n");
    let file = parse(&text).unwrap();
    assert!(
        file.warnings[0].starts_with("logger_provider (line 7): not applied"),
        "{:?}",
        file.warnings
    );
}

#[test]
fn otlp_http_settings_are_all_given_so_no_variable_applies() {
    let text = "file_format: \"1.0\"\ntracer_provider:\n  processors:\n    - batch:\n        schedule_delay: 200\n        max_queue_size: 10\n        exporter:\n          otlp_http:\n            endpoint: https://collector:4318/v1/traces\n            headers_list: a=1,b=2\n            headers:\n              - name: b\n                value: \"x,y\"\n            compression: gzip\n            timeout: 3000\n            encoding: json\n            tls:\n              ca_file: /ca.pem\n";
    let config = parse(text).unwrap().config;
    let entry = &config.entries()[0];
    assert_eq!(entry.import_path, "otlp_http:otlp");
    let get = |k: &str| entry.config.get(k).map(String::from);
    assert_eq!(get("read_env").as_deref(), Some("false"));
    assert_eq!(
        get("traces_endpoint").as_deref(),
        Some("https://collector:4318/v1/traces")
    );
    assert_eq!(get("headers").as_deref(), Some("a=1,b=x%2Cy"));
    assert_eq!(get("compression").as_deref(), Some("gzip"));
    assert_eq!(get("timeout").as_deref(), Some("3000"));
    assert_eq!(get("protocol").as_deref(), Some("http/json"));
    assert_eq!(get("certificate").as_deref(), Some("/ca.pem"));
    assert_eq!(get("schedule_delay").as_deref(), Some("200"));
    assert_eq!(get("max_queue_size").as_deref(), Some("10"));
}

#[test]
fn a_custom_plugin_gets_its_properties_structured_and_flat() {
    let text = "file_format: \"1.0\"\ntracer_provider:\n  processors:\n    - \"redact:redact\":\n        mode: strict\n        ratio: 0.5\n        rules:\n          - match: \"http.*\"\n            keep: false\n          - 3\n        nested: {a: {b: [true]}}\n";
    let config = parse(text).unwrap().config;
    let entry = &config.entries()[0];
    assert_eq!(entry.import_path, "redact:redact");
    assert_eq!(entry.config.get("mode"), Some("strict"));
    assert_eq!(entry.config.get("ratio"), Some("0.5"));
    assert_eq!(
        entry.config.get("rules"),
        Some("[{\"keep\":false,\"match\":\"http.*\"},3]")
    );
    let nodes = entry.settings.as_ref().unwrap().nodes();
    let root = Setting::new(&nodes).unwrap();
    assert_eq!(root.kind(), SettingKind::MAP);
    let rules: Vec<_> = root.get("rules").unwrap().children().collect();
    assert_eq!(rules[0].get("match").unwrap().as_str(), Some("http.*"));
    assert_eq!(rules[1].as_i64(), Some(3));
    let b = root
        .get("nested")
        .unwrap()
        .get("a")
        .unwrap()
        .get("b")
        .unwrap()
        .to_value();
    assert_eq!(b, SettingValue::List(vec![SettingValue::Bool(true)]));
}

#[test]
fn sampler_propagator_resource_and_limits_are_read() {
    let text = "file_format: \"1.0\"\ndisabled: false\nattribute_limits:\n  attribute_count_limit: 20\ntracer_provider:\n  processors:\n    - simple:\n        exporter:\n          console:\n  limits:\n    event_count_limit: 5\n  sampler:\n    parent_based:\n      root:\n        trace_id_ratio_based:\n          ratio: 0.25\n      local_parent_not_sampled:\n        always_on:\npropagator:\n  composite:\n    - baggage:\n  composite_list: tracecontext,baggage\nresource:\n  schema_url: https://example.com/s\n  attributes_list: a=1%2C2,b=x\n  attributes:\n    - name: b\n      value: [1, 2]\n      type: int_array\n    - name: c\n      value: null\n";
    let config = parse(text).unwrap().config;
    let Some(SamplerSpec::ParentBased(spec)) = &config.sampler else {
        panic!()
    };
    assert_eq!(spec.root, SamplerSpec::TraceIdRatio(0.25));
    assert_eq!(spec.local_parent_not_sampled, SamplerSpec::AlwaysOn);
    assert_eq!(
        config.propagators,
        Some(vec![Propagator::Baggage, Propagator::TraceContext])
    );
    assert_eq!(config.span_limits.attribute_count, Some(20));
    assert_eq!(config.span_limits.event_count, Some(5));
    assert_eq!(config.span_limits.link_count, Some(128));
    let resource = config.resource.unwrap();
    assert_eq!(
        resource.schema_url.as_deref(),
        Some("https://example.com/s")
    );
    use crate::AttributeValue::{IntArray, String as Text};
    assert_eq!(
        resource.attributes,
        vec![
            ("a".into(), Text("1,2".into())),
            ("b".into(), IntArray(vec![1, 2]))
        ]
    );
    let off =
        parse(&MINIMAL.replace("tracer_provider", "disabled: true\ntracer_provider")).unwrap();
    assert!(!off.config.enabled);
}

#[test]
fn the_spanplug_exporter_names_a_plugin_as_python_can_too() {
    let text = "file_format: \"1.0\"\ntracer_provider:\n  processors:\n    - simple:\n        exporter:\n          spanplug:\n            import_path: \"redact:redact\"\n            rules: [a, b]\n    - simple:\n        exporter:\n          spanplug:\n            rules: []\n";
    let error = parse(text).unwrap_err();
    assert_eq!(error.problems(), ["tracer_provider.processors[1].simple.exporter.spanplug (line 11): needs `import_path: module:function`, the plugin to run"]);
    let config = parse(
        &text[..text
            .find("    - simple:\n        exporter:\n          spanplug:\n            rules")
            .unwrap()],
    )
    .unwrap()
    .config;
    let entry = &config.entries()[0];
    assert_eq!(entry.import_path, "redact:redact");
    assert_eq!(entry.config.get("rules"), Some("[\"a\",\"b\"]"));
    assert_eq!(entry.config.get("import_path"), None);
}

#[test]
fn a_service_yaml_names_its_configuration_file_alone() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("otel.yaml"), MINIMAL).unwrap();
    let service = dir.path().join("service.yaml");
    std::fs::write(
        &service,
        "name: shop\ntracing_config:\n  config_file: otel.yaml\n",
    )
    .unwrap();
    let config = crate::TracingConfig::from_yaml_file(&service).unwrap();
    assert_eq!(config.config_file, Some(dir.path().join("otel.yaml")));
    assert_eq!(
        config.entries()[0].import_path,
        "console_file:debug_span_processor"
    );
    std::fs::write(
        &service,
        "tracing_config:\n  config_file: otel.yaml\n  sampling_ratio: 0.5\n",
    )
    .unwrap();
    let error = crate::TracingConfig::from_yaml_file(&service)
        .unwrap_err()
        .to_string();
    assert!(error.contains("tracing_config.config_file: the file is the whole tracing configuration; remove sampling_ratio"), "{error}");
    // A configuration file where a service YAML goes is read as one.
    let config = crate::TracingConfig::from_yaml_file(dir.path().join("otel.yaml")).unwrap();
    assert!(config.config_file.is_some());
}
