//! `spanplug check` on otlp_http (and context_enricher) entries, with the environment
//! a platform might inject: secrets never printed, URLs checked at load, the entry's
//! own settings first, unreadable variables and misspelt keys refused by name. Each check runs the
//! real binary in an environment of its own.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt as _;
use std::path::PathBuf;
use std::process::Command;

/// Where cargo put the plugin libraries the binary's tests depend on.
fn plugin_dir() -> PathBuf {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_spanplug"));
    bin.parent().unwrap().join("deps")
}

/// What `spanplug check` printed for `yaml`, with only `env` of the OpenTelemetry
/// and vendor variables set: (succeeded, stdout and stderr together).
fn check(yaml: &str, env: &[(&str, &OsStr)]) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("service.yaml");
    std::fs::write(&config, yaml).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_spanplug"));
    command
        .arg("check")
        .arg(&config)
        .env("SPANPLUG_PLUGIN_PATH", plugin_dir());
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if [
            "OTEL_",
            "HONEYCOMB_",
            "DD_",
            "SPANPLUG_TRACING_",
            "SPANPLUG_ENRICH_",
        ]
        .iter()
        .any(|prefix| name.starts_with(prefix))
        {
            command.env_remove(&*name);
        }
    }
    command.envs(env.iter().copied());
    let output = command.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

fn entry(import_path: &str, config: &str) -> String {
    format!("tracing_config:\n  exporter_import_path:\n    - import_path: {import_path}\n      config: {{{config}}}\n")
}

const CREDENTIAL: &str = "dXNlcjpwYXNzd29yZA";

#[test]
fn a_header_written_with_a_colon_never_echoes_its_value() {
    let yaml = entry("otlp_http:otlp", "endpoint: \"http://127.0.0.1:1\"");
    let header = format!("Authorization: Basic {CREDENTIAL}==");
    let (ok, text) = check(
        &yaml,
        &[("OTEL_EXPORTER_OTLP_HEADERS", OsStr::new(&header))],
    );
    assert!(!ok, "{text}");
    assert!(
        text.contains("OTEL_EXPORTER_OTLP_HEADERS: the header name \"Authorization\" is followed by ':': a header name may not contain ':' or spaces; write name=value"),
        "{text}"
    );
    assert!(!text.contains(CREDENTIAL), "{text}");
    // The same in the entry's own config, and without any '='.
    for headers in [
        format!("headers: \"x-api-key: {CREDENTIAL}\""),
        format!("headers: \"Authorization: Basic {CREDENTIAL}=\""),
    ] {
        let yaml = entry("otlp_http:otlp", &headers);
        let (ok, text) = check(&yaml, &[]);
        assert!(!ok && text.contains("config.headers: "), "{text}");
        assert!(!text.contains(CREDENTIAL), "{text}");
    }
}

#[test]
fn endpoints_are_parsed_at_load_and_printed_without_credentials() {
    let yaml = entry("otlp_http:otlp", "timeout: 100");
    for (url, reason) in [
        ("http://[::1", "not a valid URL (invalid IPv6 address)"),
        (
            "http://127.0.0.1:99999",
            "not a valid URL (invalid port number)",
        ),
        // The `#` ends the authority: host `user`, port `s3cret`.
        (
            "http://user:s3cret#pw@127.0.0.1:1",
            "not a valid URL (invalid port number)",
        ),
        (
            "ftp://user:s3cret@127.0.0.1/",
            "expected a URL starting with http:// or https://",
        ),
    ] {
        let (ok, text) = check(&yaml, &[("OTEL_EXPORTER_OTLP_ENDPOINT", url.as_ref())]);
        assert!(!ok, "{url}: {text}");
        assert!(
            text.contains(&format!("OTEL_EXPORTER_OTLP_ENDPOINT: {reason}")),
            "{url}: {text}"
        );
        assert!(!text.contains("s3cret") && !text.contains(url), "{text}");
    }
    let url = "http://user:s3cret@127.0.0.1:1/x?token=s3cret#s3cret";
    let (ok, text) = check(&yaml, &[("OTEL_EXPORTER_OTLP_ENDPOINT", url.as_ref())]);
    assert!(ok, "{text}");
    assert!(
        text.contains("processor: otlp_http(http://127.0.0.1:1/x/v1/traces)"),
        "{text}"
    );
    assert!(
        !text.contains("s3cret") && !text.contains("user:"),
        "{text}"
    );
}

#[test]
fn each_entry_shows_its_own_endpoint_over_the_environments() {
    let yaml = "tracing_config:\n  exporter_import_path:\n    - import_path: otlp_http:otlp\n      config: {endpoint: \"http://127.0.0.1:1001\"}\n    - import_path: otlp_http:jaeger\n      config: {endpoint: \"http://127.0.0.1:1002/base\"}\n    - otlp_http:datadog\n  exporter_config: {endpoint: \"http://127.0.0.1:1004\"}\n";
    let env = [(
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        OsStr::new("http://127.0.0.1:1003"),
    )];
    let (ok, text) = check(yaml, &env);
    assert!(ok, "{text}");
    for shown in [
        "processor: otlp_http(http://127.0.0.1:1001/v1/traces)",
        "processor: otlp_http(http://127.0.0.1:1002/base/v1/traces)",
        // An entry without its own: the environment, over exporter_config.
        "processor: otlp_http(http://127.0.0.1:1003/v1/traces)",
    ] {
        assert!(text.contains(shown), "{shown}: {text}");
    }
    assert!(!text.contains(":1004"), "{text}");
}

#[test]
fn a_variable_that_is_not_utf8_is_an_error_naming_it() {
    let endpoint = OsStr::from_bytes(b"http://127.0.0.1:18330\xff");
    let headers = OsStr::from_bytes(b"authorization=Bearer%20tok-S3CRET\xff");
    let otlp = entry("otlp_http:otlp", "timeout: 100");
    let honeycomb = entry("otlp_http:honeycomb", "timeout: 100");
    let datadog = entry("otlp_http:datadog", "timeout: 100");
    let key = OsStr::new("hc-key");
    for (yaml, env) in [
        (&otlp, vec![("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)]),
        (
            &otlp,
            vec![("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", endpoint)],
        ),
        (&otlp, vec![("OTEL_EXPORTER_OTLP_HEADERS", headers)]),
        (&otlp, vec![("OTEL_BSP_MAX_QUEUE_SIZE", headers)]),
        (&honeycomb, vec![("HONEYCOMB_WRITE_KEY", headers)]),
        (
            &honeycomb,
            vec![
                ("HONEYCOMB_WRITE_KEY", key),
                ("HONEYCOMB_API_ENDPOINT", endpoint),
            ],
        ),
        (&datadog, vec![("DD_SERVICE", headers)]),
    ] {
        let (ok, text) = check(yaml, &env);
        let name = env.last().unwrap().0;
        assert!(!ok, "{name}: {text}");
        assert!(
            text.contains(&format!("{name}: the value is not valid UTF-8 (")),
            "{name}: {text}"
        );
        assert!(
            !text.contains("S3CRET") && !text.contains("18330"),
            "{text}"
        );
    }
}

#[test]
fn misspelt_keys_of_an_otlp_http_entry_are_refused_naming_the_valid_ones() {
    for import_path in ["otlp_http:otlp", "otlp_http:jaeger", "otlp_http:datadog"] {
        let yaml = entry(import_path, "endpiont: \"http://127.0.0.1:1\"");
        let (ok, text) = check(&yaml, &[]);
        assert!(!ok, "{text}");
        assert!(
            text.contains(&format!("unknown config key `endpiont` for {import_path}; valid keys: endpoint, headers, timeout, protocol, compression, certificate, client_certificate, client_key, schedule_delay, max_queue_size, max_export_batch_size, export_timeout")),
            "{text}"
        );
    }
}

#[test]
fn misspelt_keys_of_a_context_enricher_entry_are_refused_naming_the_valid_ones() {
    for (function, config, valid) in [
        (
            "static_attributes",
            "static_atributes: \"a=1\"",
            "static_attributes",
        ),
        ("serve_context", "context_prfix: \"ctx.\"", "context_prefix"),
    ] {
        let import_path = format!("context_enricher:{function}");
        let (ok, text) = check(&entry(&import_path, config), &[]);
        assert!(!ok, "{text}");
        let misspelt = config.split(':').next().unwrap();
        assert!(
            text.contains(&format!(
                "unknown config key `{misspelt}` for {import_path}; valid keys: {valid}"
            )),
            "{text}"
        );
    }
}

#[test]
fn spanplug_enrich_attributes_that_is_not_utf8_is_an_error_naming_it() {
    let yaml = entry(
        "context_enricher:static_attributes",
        "static_attributes: \"team=checkout\"",
    );
    let (ok, text) = check(&yaml, &[]);
    assert!(ok, "{text}");
    let value = OsStr::from_bytes(b"a=S3CRET\xff");
    let (ok, text) = check(&yaml, &[("SPANPLUG_ENRICH_ATTRIBUTES", value)]);
    assert!(!ok, "{text}");
    assert!(
        text.contains("SPANPLUG_ENRICH_ATTRIBUTES: the value is not valid UTF-8 ("),
        "{text}"
    );
    assert!(!text.contains("S3CRET"), "{text}");
}
