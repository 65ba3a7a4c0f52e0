//! The Honeycomb, Datadog and Jaeger presets, the spec's environment variables, and
//! where each setting comes from. The environment is process-wide: each test runs
//! as a child with an environment of its own.

use std::time::Duration;

use opentelemetry::trace::Tracer as _;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use spanplug_config::TracingConfig;
use spanplug_loader::LoadErrorKind;
use spanplug_tests::otlp_receiver::{unused_port, Receiver, Reply};
use spanplug_tests::{assert_child_passed, assert_in_child, child_test, log_capture, plugin_dir};

const HONEYCOMB_KEY: &str = "hc-secret-KEY-7788";
const BEARER_TOKEN: &str = "tok-SECRET-4242";

fn config(import_path: &str) -> TracingConfig {
    TracingConfig::default()
        .with_exporter_import_path(import_path)
        .with_plugin_dir(plugin_dir())
        .with_service_name("preset-test")
        .with_exporter_config("schedule_delay", "20")
}

fn resource_attribute(receiver: &Receiver, key: &str) -> Option<Any> {
    let request = receiver.requests().into_iter().find(|r| r.status == 200)?;
    let resource = request.request.resource_spans[0].resource.clone()?;
    resource
        .attributes
        .into_iter()
        .find(|kv| kv.key == key)?
        .value?
        .value
}

fn send_spans(config: TracingConfig, count: usize) -> Result<(), String> {
    let guard = spanplug_sdk::init(config).map_err(|e| e.to_string())?;
    let tracer = guard.tracer("presets");
    for _ in 0..count {
        tracer.in_span("preset_span", |_| {});
    }
    guard.shutdown().map_err(|e| e.to_string())
}

fn string(value: &str) -> Option<Any> {
    Some(Any::StringValue(value.into()))
}

/// No secret in anything logged or returned (`returned`: the errors).
fn assert_no_secret_shown(returned: &[String]) {
    let logs = log_capture::all();
    assert!(
        logs.iter()
            .any(|line| line.contains("exporting to otlp_http(")),
        "plugin logs were captured"
    );
    for secret in [HONEYCOMB_KEY, BEARER_TOKEN] {
        for text in logs.iter().chain(returned) {
            assert!(!text.contains(secret), "secret in: {text}");
        }
    }
}

#[test]
fn the_honeycomb_preset_takes_its_settings_from_its_variables() {
    assert_child_passed(&child_test("honeycomb_child").output().unwrap());
}

/// Endpoint, team key, dataset and service name from Honeycomb's variables; a
/// refusal that echoes the key never shows it.
#[test]
#[ignore = "run by the_honeycomb_preset_takes_its_settings_from_its_variables"]
fn honeycomb_child() {
    let honeycomb = Receiver::start();
    honeycomb.script([Reply::Status {
        code: 401,
        retry_after: None,
        body: format!("unknown API key {HONEYCOMB_KEY}"),
    }]);
    own_environment(&[
        ("HONEYCOMB_API_ENDPOINT", &honeycomb.base_url()),
        ("HONEYCOMB_WRITE_KEY", HONEYCOMB_KEY),
        ("HONEYCOMB_DATASET_NAME", "orders"),
        ("HONEYCOMB_SERVICE_NAME", "hc-service"),
    ]);
    log_capture::install();
    let error = send_spans(config("otlp_http:honeycomb"), 1).unwrap_err();
    send_spans(config("otlp_http:honeycomb"), 2).unwrap();
    let requests = honeycomb.requests();
    assert_eq!(requests.len(), 2);
    for request in &requests {
        assert_eq!(request.path, "/v1/traces");
        assert_eq!(request.header("x-honeycomb-team"), Some(HONEYCOMB_KEY));
        assert_eq!(request.header("x-honeycomb-dataset"), Some("orders"));
    }
    assert_eq!(
        resource_attribute(&honeycomb, "service.name"),
        string("hc-service")
    );
    assert!(error.contains("1 spans lost"), "{error}");
    assert!(
        log_capture::lines_containing("HTTP 401 (not retried): unknown API key <redacted>").len()
            == 1
    );
    assert_no_secret_shown(&[error]);
}

#[test]
fn the_honeycomb_preset_without_a_key_is_a_factory_error_naming_the_variable() {
    assert_child_passed(
        &child_test("honeycomb_without_a_key_child")
            .output()
            .unwrap(),
    );
}

#[test]
#[ignore = "run by the_honeycomb_preset_without_a_key_is_a_factory_error_naming_the_variable"]
fn honeycomb_without_a_key_child() {
    let honeycomb = Receiver::start();
    own_environment(&[
        ("HONEYCOMB_API_ENDPOINT", &honeycomb.base_url()),
        ("HONEYCOMB_DATASET_NAME", "orders"),
    ]);
    let error =
        spanplug_sdk::init(config("otlp_http:honeycomb")).expect_err("init without a key failed");
    assert_eq!(
        error.as_load().map(|e| e.kind()),
        Some(LoadErrorKind::FactoryFailed),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains("no Honeycomb API key: set HONEYCOMB_WRITE_KEY (or HONEYCOMB_API_KEY)"),
        "{error}"
    );
}

#[test]
fn the_datadog_preset_sends_to_the_agent_with_unified_service_tags() {
    assert_child_passed(&child_test("datadog_child").output().unwrap());
}

/// The agent's endpoint from OTEL_EXPORTER_OTLP_ENDPOINT, unified service tagging
/// from DD_*.
#[test]
#[ignore = "run by the_datadog_preset_sends_to_the_agent_with_unified_service_tags"]
fn datadog_child() {
    let agent = Receiver::start();
    own_environment(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &agent.base_url()),
        ("DD_SERVICE", "dd-service"),
        ("DD_ENV", "prod"),
        ("DD_VERSION", "1.4.0"),
    ]);
    send_spans(config("otlp_http:datadog"), 1).unwrap();
    assert_eq!(agent.requests()[0].path, "/v1/traces");
    assert_eq!(
        resource_attribute(&agent, "service.name"),
        string("dd-service")
    );
    assert_eq!(
        resource_attribute(&agent, "deployment.environment"),
        string("prod")
    );
    assert_eq!(
        resource_attribute(&agent, "service.version"),
        string("1.4.0")
    );
}

#[test]
fn the_jaeger_preset_follows_the_specs_variables_over_exporter_config() {
    assert_child_passed(&child_test("jaeger_child").output().unwrap());
}

/// A traces endpoint is used as is, headers are percent-decoded, batches are sized
/// by OTEL_BSP_*, and the environment wins over exporter_config.
#[test]
#[ignore = "run by the_jaeger_preset_follows_the_specs_variables_over_exporter_config"]
fn jaeger_child() {
    let collector = Receiver::start();
    own_environment(&[
        (
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            &format!("{}/custom/traces", collector.base_url()),
        ),
        (
            "OTEL_EXPORTER_OTLP_HEADERS",
            &format!("authorization=Bearer%20{BEARER_TOKEN}"),
        ),
        ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "2"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
    ]);
    log_capture::install();
    let config = config("otlp_http:jaeger")
        .with_exporter_config("endpoint", "http://192.0.2.1:1")
        .with_exporter_config("protocol", "http/protobuf");
    send_spans(config, 5).unwrap();
    let requests = collector.requests();
    assert!(requests.iter().all(|r| r.path == "/custom/traces"));
    assert!(requests
        .iter()
        .all(|r| r.header("content-type") == Some("application/json")));
    assert!(requests
        .iter()
        .all(|r| r.header("authorization") == Some(&*format!("Bearer {BEARER_TOKEN}"))));
    assert!(requests.iter().all(|r| r.spans().count() <= 2));
    assert_eq!(collector.delivered_spans().len(), 5);
    assert_no_secret_shown(&[]);
}

/// In a child test: no OpenTelemetry or vendor variable but `vars`.
fn own_environment(vars: &[(&str, &str)]) {
    assert_in_child();
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if ["OTEL_", "HONEYCOMB_", "DD_"]
            .iter()
            .any(|prefix| name.starts_with(prefix))
        {
            std::env::remove_var(&*name);
        }
    }
    for (name, value) in vars {
        std::env::set_var(name, value);
    }
}

fn from_yaml(yaml: &str) -> TracingConfig {
    TracingConfig::from_yaml_str(yaml)
        .unwrap()
        .with_plugin_dir(plugin_dir())
        .with_service_name("settings-test")
}

#[test]
fn each_entrys_own_endpoint_beats_the_environments() {
    assert_child_passed(&child_test("entry_endpoints_child").output().unwrap());
}

#[test]
#[ignore = "run by each_entrys_own_endpoint_beats_the_environments"]
fn entry_endpoints_child() {
    let (a, b, platform) = (Receiver::start(), Receiver::start(), Receiver::start());
    own_environment(&[("OTEL_EXPORTER_OTLP_ENDPOINT", &platform.base_url())]);
    let yaml = format!(
        "tracing_config:\n  exporter_import_path:\n    - import_path: otlp_http:otlp\n      config: {{endpoint: \"{}\"}}\n    - import_path: otlp_http:otlp\n      config: {{endpoint: \"{}\"}}\n    - otlp_http:otlp\n  exporter_config: {{schedule_delay: 20, endpoint: \"http://127.0.0.1:{}\"}}\n",
        a.base_url(),
        b.base_url(),
        unused_port()
    );
    send_spans(from_yaml(&yaml), 5).unwrap();
    // Each entry's own receiver, and the environment's for the entry without one.
    for receiver in [&a, &b, &platform] {
        let spans = receiver.wait_for_spans(5, Duration::from_secs(10));
        assert_eq!(spans.len(), 5);
        assert!(receiver.requests().iter().all(|r| r.path == "/v1/traces"));
    }
}

#[test]
fn the_environments_headers_never_follow_an_entry_to_another_origin() {
    assert_child_passed(&child_test("platform_headers_child").output().unwrap());
}

#[test]
#[ignore = "run by the_environments_headers_never_follow_an_entry_to_another_origin"]
fn platform_headers_child() {
    const SECRET: &str = "platform-secret";
    let (platform, vendor) = (Receiver::start(), Receiver::start());
    own_environment(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &platform.base_url()),
        (
            "OTEL_EXPORTER_OTLP_HEADERS",
            &format!("authorization={SECRET}"),
        ),
    ]);
    log_capture::install();
    let yaml = format!(
        "tracing_config:\n  exporter_import_path:\n    - import_path: otlp_http:otlp\n      config: {{endpoint: \"{}\"}}\n    - otlp_http:otlp\n  exporter_config: {{schedule_delay: 20}}\n",
        vendor.base_url()
    );
    send_spans(from_yaml(&yaml), 3).unwrap();
    // The entry naming another origin gets no platform credential; the other does.
    for receiver in [&platform, &vendor] {
        assert_eq!(receiver.wait_for_spans(3, Duration::from_secs(10)).len(), 3);
    }
    let authorization = |r: &Receiver| -> Vec<Option<String>> {
        let requests = r.requests();
        requests
            .iter()
            .map(|r| r.header("authorization").map(str::to_owned))
            .collect()
    };
    assert!(authorization(&vendor).iter().all(Option::is_none));
    assert!(authorization(&platform)
        .iter()
        .all(|h| h.as_deref() == Some(SECRET)));
    let withheld = log_capture::lines_containing("OTEL_EXPORTER_OTLP_HEADERS not sent to");
    assert_eq!(withheld.len(), 1, "{:?}", log_capture::all());
    let shown = format!(
        "not sent to {}/v1/traces (config.endpoint)",
        vendor.base_url()
    );
    assert!(
        withheld[0].starts_with("WARN ") && withheld[0].contains(&shown),
        "{withheld:?}"
    );
    assert!(
        withheld[0].contains("${env:OTEL_EXPORTER_OTLP_HEADERS}"),
        "{withheld:?}"
    );
    for line in log_capture::all() {
        assert!(!line.contains(SECRET), "{line}");
    }
}

/// With no endpoint in the environment, its headers (a Kubernetes secret) go where
/// the YAML sends spans; a vendor key the environment's endpoint keeps from another
/// is a factory error saying so.
#[test]
fn the_environments_headers_go_to_the_yamls_endpoint_when_the_environment_names_none() {
    assert_child_passed(&child_test("yaml_endpoint_child").output().unwrap());
}

#[test]
#[ignore = "run by the_environments_headers_go_to_the_yamls_endpoint_when_the_environment_names_none"]
fn yaml_endpoint_child() {
    own_environment(&[("OTEL_EXPORTER_OTLP_HEADERS", "authorization=k8s-secret")]);
    log_capture::install();
    let collector = Receiver::start();
    let yaml = format!(
        "tracing_config:\n  exporter_import_path: [otlp_http:otlp]\n  exporter_config: {{endpoint: \"{}\", schedule_delay: 20}}\n",
        collector.base_url()
    );
    send_spans(from_yaml(&yaml), 2).unwrap();
    let requests = collector.requests();
    assert!(!requests.is_empty());
    assert!(requests
        .iter()
        .all(|r| r.header("authorization") == Some("k8s-secret")));
    assert_eq!(log_capture::lines_containing("not sent to").len(), 0);

    own_environment(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1"),
        ("HONEYCOMB_WRITE_KEY", HONEYCOMB_KEY),
    ]);
    let yaml = format!(
        "tracing_config:\n  exporter_import_path:\n    - import_path: otlp_http:honeycomb\n      config: {{endpoint: \"{}\"}}\n",
        collector.base_url()
    );
    let error = send_spans(from_yaml(&yaml), 1).unwrap_err();
    assert!(
        error.contains("no Honeycomb API key, it was withheld: HONEYCOMB_WRITE_KEY not sent to")
            && error
                .contains("the environment names another endpoint (OTEL_EXPORTER_OTLP_ENDPOINT)"),
        "{error}"
    );
    assert!(!error.contains(HONEYCOMB_KEY), "{error}");
}

#[test]
fn an_endpoints_user_info_is_sent_as_basic_auth_and_never_logged() {
    assert_child_passed(&child_test("user_info_child").output().unwrap());
}

#[test]
#[ignore = "run by an_endpoints_user_info_is_sent_as_basic_auth_and_never_logged"]
fn user_info_child() {
    own_environment(&[]);
    log_capture::install();
    let entry = |url: &str| {
        format!("tracing_config:\n  exporter_import_path:\n    - import_path: otlp_http:otlp\n      config: {{endpoint: \"{url}\", export_timeout: 300, timeout: 100, schedule_delay: 20}}\n")
    };
    let receiver = Receiver::start();
    let url = format!(
        "http://user:s3cret@127.0.0.1:{}/?token=s3cret#s3cret",
        receiver.port()
    );
    send_spans(from_yaml(&entry(&url)), 2).unwrap();
    let request = &receiver.requests()[0];
    // base64("user:s3cret")
    assert_eq!(
        request.header("authorization"),
        Some("Basic dXNlcjpzM2NyZXQ=")
    );
    // A dead endpoint: warnings, then a shutdown error, both naming it.
    let port = unused_port();
    let url = format!("http://user:s3cret@127.0.0.1:{port}/x?token=s3cret#s3cret");
    let error = send_spans(from_yaml(&entry(&url)), 1).unwrap_err();
    let shown = format!("otlp_http(http://127.0.0.1:{port}/x/v1/traces)");
    assert!(error.contains(&shown), "{error}");
    let logs = log_capture::all();
    assert!(
        logs.iter()
            .any(|line| line.starts_with("WARN") && line.contains(&shown)),
        "{logs:?}"
    );
    for text in logs.iter().chain([&error]) {
        assert!(!text.contains("s3cret"), "{text}");
    }
}

#[test]
fn a_header_written_with_a_colon_never_echoes_its_value() {
    assert_child_passed(&child_test("colon_header_child").output().unwrap());
}

#[test]
#[ignore = "run by a_header_written_with_a_colon_never_echoes_its_value"]
fn colon_header_child() {
    const CREDENTIAL: &str = "dXNlcjpwYXNzd29yZA";
    let header = format!("Authorization: Basic {CREDENTIAL}==");
    own_environment(&[("OTEL_EXPORTER_OTLP_HEADERS", &header)]);
    log_capture::install();
    let yaml = "tracing_config:\n  exporter_import_path: otlp_http:otlp\n";
    let error = spanplug_sdk::init(from_yaml(yaml)).unwrap_err().to_string();
    assert!(
        error.contains(
            "OTEL_EXPORTER_OTLP_HEADERS: the header name \"Authorization\" is followed by ':'"
        ),
        "{error}"
    );
    // on_error: warn logs the same error and carries on without the entry.
    let warn = format!("{yaml}  on_error: warn\n");
    spanplug_sdk::init(from_yaml(&warn))
        .unwrap()
        .shutdown()
        .unwrap();
    let logged = log_capture::lines_containing("OTEL_EXPORTER_OTLP_HEADERS: the header name");
    assert_eq!(logged.len(), 1, "{:?}", log_capture::all());
    for text in log_capture::all().iter().chain([&error]) {
        assert!(!text.contains(CREDENTIAL), "{text}");
    }
}
