//! Where the environment's credentials go: only to the origin it names, when it names
//! one; wherever the configuration sends spans, when it names none.

use super::*;

const PLATFORM_SECRET: &str = "platform-secret";

/// The environment of a platform that injects its collector and its credential.
fn platform_env(endpoint: &'static str) -> [(&'static str, &'static str); 2] {
    [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        (
            "OTEL_EXPORTER_OTLP_HEADERS",
            "authorization=platform-secret",
        ),
    ]
}

#[test]
fn the_environments_headers_go_only_to_the_origin_the_environment_names() {
    let env = platform_env("http://platform:4318");
    let endpoint = |url| [("endpoint", url)];
    for same in [
        "http://platform:4318/other/",
        "http://PLATFORM:4318",
        "http://u:p@platform:4318/?q",
    ] {
        let entry = resolve(&OTLP, &endpoint(same), &[], &env).unwrap();
        assert_eq!(
            header(&entry, "authorization"),
            Some(PLATFORM_SECRET),
            "{same}"
        );
    }
    assert_eq!(logged(), [] as [String; 0]);
    for other in [
        "https://platform:4318",
        "http://platform:4319",
        "https://api.vendor.example",
    ] {
        let entry = resolve(&OTLP, &endpoint(other), &[], &env).unwrap();
        assert!(entry.headers.is_empty(), "{other}");
    }
    let lines = logged();
    assert_eq!(lines.len(), 3, "one line per entry: {lines:?}");
    assert_eq!(
        lines[2],
        "WARN OTEL_EXPORTER_OTLP_HEADERS not sent to https://api.vendor.example/v1/traces (config.endpoint): the environment names another endpoint (OTEL_EXPORTER_OTLP_ENDPOINT), and credentials from the environment go only to its origin; to send them here, set this entry's own headers, e.g. headers: \"${env:OTEL_EXPORTER_OTLP_HEADERS}\""
    );
    // An entry without an endpoint goes to the environment's, with its headers; one
    // with its own headers sends those, wherever it goes.
    let env_entry = resolve(&OTLP, &[], &[("endpoint", "http://shared:1")], &env).unwrap();
    assert_eq!(header(&env_entry, "authorization"), Some(PLATFORM_SECRET));
    let own = [("endpoint", "http://elsewhere:1"), ("headers", "a=1")];
    let own = resolve(&OTLP, &own, &[], &env).unwrap();
    assert_eq!(own.headers.len(), 1);
    assert_eq!(header(&own, "a"), Some("1"));
    // The traces variables are the environment's too.
    let traces = [
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://platform:1/t"),
        ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "authorization=t"),
    ];
    let entry = resolve(&OTLP, &endpoint("http://platform:2"), &[], &traces).unwrap();
    assert!(entry.headers.is_empty());
    assert!(logged()[0].starts_with("WARN OTEL_EXPORTER_OTLP_TRACES_HEADERS not sent to http://platform:2/v1/traces (config.endpoint): the environment names another endpoint (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)"));
    assert!(logged().is_empty(), "nothing withheld, nothing logged");
}

#[test]
fn with_no_endpoint_named_the_environments_headers_go_where_the_configuration_sends_spans() {
    // A Kubernetes secret in OTEL_EXPORTER_OTLP_HEADERS, the endpoint in the YAML.
    let env = &platform_env("")[1..];
    let shared = [
        ("endpoint", "https://collector:4318"),
        ("headers", "x=shared"),
    ];
    let entry = resolve(&OTLP, &[], &shared, env).unwrap();
    assert_eq!(entry.endpoint, "https://collector:4318/v1/traces");
    assert_eq!(entry.headers.len(), 1);
    assert_eq!(header(&entry, "authorization"), Some(PLATFORM_SECRET));
    assert!(entry.withheld.is_none());
    for endpoint in ["http://localhost:4318/x", "https://elsewhere.example"] {
        let entry = resolve(&OTLP, &[("endpoint", endpoint)], &[], env).unwrap();
        assert_eq!(header(&entry, "authorization"), Some(PLATFORM_SECRET));
    }
    let default = resolve(&OTLP, &[], &[], env).unwrap();
    assert_eq!(header(&default, "authorization"), Some(PLATFORM_SECRET));
    assert!(logged().is_empty());
    // A withheld variable is still checked: a broken one fails as before.
    let broken = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://platform:1"),
        ("OTEL_EXPORTER_OTLP_HEADERS", "Authorization: Basic x=1"),
    ];
    let error = resolve(&OTLP, &shared[..1], &[], &broken).unwrap_err();
    assert!(error.contains("is followed by ':'"), "{error}");
}

#[test]
fn a_vendors_key_goes_to_the_vendor_and_the_platforms_headers_do_not() {
    let key = ("HONEYCOMB_WRITE_KEY", "vendor-key");
    // Nothing names an endpoint: the preset's default gets both.
    let env = [platform_env("")[1], key];
    let preset = resolve(&HONEYCOMB, &[], &[], &env).unwrap();
    assert_eq!(preset.endpoint, "https://api.honeycomb.io/v1/traces");
    assert_eq!(header(&preset, "authorization"), Some(PLATFORM_SECRET));
    assert_eq!(header(&preset, "x-honeycomb-team"), Some("vendor-key"));
    // Nor when the YAML names another of the vendor's endpoints.
    let eu = [("endpoint", "https://api.eu1.honeycomb.io")];
    let entry = resolve(&HONEYCOMB, &eu, &[], &env).unwrap();
    assert_eq!(header(&entry, "x-honeycomb-team"), Some("vendor-key"));
    assert!(logged().is_empty());
    // The platform names its collector; the entry names Honeycomb: its key only.
    let [endpoint, headers] = platform_env("http://platform:4318");
    let env = [endpoint, headers, key];
    let honeycomb = [("endpoint", "https://api.honeycomb.io")];
    let entry = resolve(&HONEYCOMB, &honeycomb, &[], &env).unwrap();
    assert_eq!(header(&entry, "authorization"), None);
    assert_eq!(header(&entry, "x-honeycomb-team"), Some("vendor-key"));
    // A proxy elsewhere gets neither, and the line names both with a way to send them.
    let proxy = [("endpoint", "http://refinery:8080")];
    let entry = resolve(&HONEYCOMB, &proxy, &[], &env).unwrap();
    assert!(entry.headers.is_empty());
    let lines = logged();
    assert!(lines[0].starts_with("WARN OTEL_EXPORTER_OTLP_HEADERS not sent"));
    assert_eq!(entry.withheld.as_deref(), lines[1].strip_prefix("WARN "));
    assert!(
        lines[1].starts_with("WARN OTEL_EXPORTER_OTLP_HEADERS, HONEYCOMB_WRITE_KEY not sent to http://refinery:8080/v1/traces (config.endpoint)")
            && lines[1].ends_with("headers: \"${env:OTEL_EXPORTER_OTLP_HEADERS},x-honeycomb-team=${env:HONEYCOMB_WRITE_KEY}\""),
        "{lines:?}"
    );
    // Unless the environment names that proxy.
    let env = [("HONEYCOMB_API_ENDPOINT", "http://refinery:8080"), key];
    let entry = resolve(&HONEYCOMB, &proxy, &[], &env).unwrap();
    assert_eq!(header(&entry, "x-honeycomb-team"), Some("vendor-key"));
    for line in lines {
        assert!(
            !line.contains("secret") && !line.contains("vendor-key"),
            "{line}"
        );
    }
}

#[test]
fn credentials_of_an_environment_endpoint_never_reach_another() {
    let env = [("OTEL_EXPORTER_OTLP_ENDPOINT", "http://user:pw@platform:1")];
    let entry = resolve(&OTLP, &[("endpoint", "http://other:1")], &[], &env).unwrap();
    assert!(entry.headers.is_empty());
    let platform = resolve(&OTLP, &[], &[], &env).unwrap();
    assert_eq!(
        header(&platform, "authorization"),
        Some("Basic dXNlcjpwdw==")
    );
    // An environment endpoint that cannot be read shares no origin: its headers stay.
    let [_, headers] = platform_env("");
    let env = [("OTEL_EXPORTER_OTLP_ENDPOINT", "not utf-8"), headers];
    let entry = resolve(&OTLP, &[("endpoint", "http://other:1")], &[], &env).unwrap();
    assert!(entry.headers.is_empty());
    assert_eq!(logged().len(), 1);
}
