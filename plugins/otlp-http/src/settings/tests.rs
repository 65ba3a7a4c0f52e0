//! Where each setting comes from, with a context built as the host builds it and an
//! environment given as a list (the process environment is shared by every test).

use std::cell::RefCell;

use spanplug_api::abi_stable::prefix_type::WithMetadata;
use spanplug_api::abi_stable::std_types::RStr;
use spanplug_api::{
    with_context, ContextParts, HostServices, HostServicesRef, LogLevel, PluginContextFields,
    StrPair,
};

use super::*;

mod credentials;

thread_local! {
    /// What this test's resolutions logged (each test runs on a thread of its own).
    static LOGGED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

extern "C" fn capture(level: LogLevel, _: RStr<'_>, message: RStr<'_>) {
    let line = format!("{} {message}", level.as_str());
    LOGGED.with(|logged| logged.borrow_mut().push(line));
}

static SERVICES: WithMetadata<HostServices> = WithMetadata::new(HostServices::new(capture));

/// The lines logged since the last call.
fn logged() -> Vec<String> {
    LOGGED.with(|logged| logged.take())
}

/// `Settings::resolve_with` for an entry whose own `config` is `entry`, laid over the
/// shared `shared`, in the environment `env`.
fn resolve(
    preset: &Preset,
    entry: &[(&str, &str)],
    shared: &[(&str, &str)],
    env: &[(&str, &str)],
) -> Result<Settings, String> {
    resolve_in(None, preset, entry, shared, env)
}

/// [`resolve`] for a config read from a file in `config_dir`.
fn resolve_in(
    config_dir: Option<&str>,
    preset: &Preset,
    entry: &[(&str, &str)],
    shared: &[(&str, &str)],
    env: &[(&str, &str)],
) -> Result<Settings, String> {
    let config: Vec<StrPair<'_>> = entry
        .iter()
        .chain(
            shared
                .iter()
                .filter(|(k, _)| !entry.iter().any(|(e, _)| e == k)),
        )
        .map(|(key, value)| StrPair {
            key: (*key).into(),
            value: (*value).into(),
        })
        .collect();
    let keys: Vec<RStr<'_>> = entry.iter().map(|(key, _)| (*key).into()).collect();
    let parts = ContextParts {
        import_path: "otlp_http:otlp",
        service_name: "test",
        resource_attributes: &[],
        config: &config,
        entry_config_keys: &keys,
        dry_run: false,
    };
    let mut fields = PluginContextFields::new(parts, HostServicesRef::from_static(&SERVICES));
    if let Some(dir) = config_dir {
        fields = fields.with_config_dir(dir);
    }
    let read = |name: &str| match env.iter().find(|(n, _)| *n == name) {
        Some((_, "not utf-8")) => Err(format!("{name}: not UTF-8")),
        found => Ok(found.map(|(_, value)| value.to_string())),
    };
    with_context(fields, |ctx| {
        Settings::resolve_with(preset, &PluginContext::new(ctx), &read)
    })
}

fn header<'s>(settings: &'s Settings, name: &str) -> Option<&'s str> {
    let found = settings.headers.iter().find(|(k, _)| k == name);
    found.map(|(_, value)| value.expose())
}

const HONEYCOMB: Preset = Preset {
    default_endpoint: "https://api.honeycomb.io",
    endpoint_env: Some("HONEYCOMB_API_ENDPOINT"),
    header_envs: &[("x-honeycomb-team", &["HONEYCOMB_WRITE_KEY"])],
    resource_envs: &[("HONEYCOMB_SERVICE_NAME", "service.name")],
};

#[test]
fn an_entrys_own_config_beats_the_environment_which_beats_exporter_config() {
    let all = [
        ("endpoint", "http://entry:1"),
        ("headers", "a=entry"),
        ("timeout", "1"),
        ("protocol", "http/json"),
        ("compression", "gzip"),
        ("max_queue_size", "7"),
    ];
    let shared = all.map(|(k, _)| (k, "shared"));
    let env = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://env:2"),
        (
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "http://traces-env:3/t",
        ),
        ("OTEL_EXPORTER_OTLP_HEADERS", "a=env"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "2"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ("OTEL_EXPORTER_OTLP_COMPRESSION", "none"),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "8"),
    ];
    let entry = resolve(&OTLP, &all, &shared, &env).unwrap();
    assert_eq!(entry.endpoint, "http://entry:1/v1/traces");
    assert_eq!(header(&entry, "a"), Some("entry"));
    assert_eq!(entry.timeout, Duration::from_millis(1));
    assert_eq!(entry.protocol, Protocol::Json);
    assert_eq!(entry.compression, Compression::Gzip);
    assert_eq!(entry.batch.max_queue_size, 7);

    // Without the entry's own: the traces variable, then the generic one.
    let shared = [("endpoint", "http://shared:4"), ("timeout", "5")];
    let env_wins = resolve(&OTLP, &[], &shared, &env).unwrap();
    assert_eq!(env_wins.endpoint, "http://traces-env:3/t");
    assert_eq!(header(&env_wins, "a"), Some("env"));
    assert_eq!(env_wins.timeout, Duration::from_millis(2));
    assert_eq!(env_wins.batch.max_queue_size, 8);
    let generic = resolve(&OTLP, &[], &shared, &env[..1]).unwrap();
    assert_eq!(generic.endpoint, "http://env:2/v1/traces");
    // Without either: exporter_config, then the default.
    let shared_wins = resolve(&OTLP, &[], &shared, &[]).unwrap();
    assert_eq!(shared_wins.endpoint, "http://shared:4/v1/traces");
    assert_eq!(shared_wins.timeout, Duration::from_millis(5));
    let default = resolve(&OTLP, &[], &[], &[]).unwrap();
    assert_eq!(default.endpoint, "http://localhost:4318/v1/traces");
    assert_eq!(default.timeout, Duration::from_millis(10_000));
}

#[test]
fn vendor_variables_rank_below_the_entry_and_above_the_spec_variables() {
    let env = [
        ("HONEYCOMB_API_ENDPOINT", "http://vendor:1"),
        (
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "http://traces-env:3/t",
        ),
        ("HONEYCOMB_WRITE_KEY", "vendor-key"),
        ("OTEL_EXPORTER_OTLP_HEADERS", "x-honeycomb-team=env-key,b=2"),
        ("HONEYCOMB_SERVICE_NAME", "svc"),
    ];
    let vendor = resolve(&HONEYCOMB, &[], &[], &env).unwrap();
    assert_eq!(vendor.endpoint, "http://vendor:1/v1/traces");
    assert_eq!(header(&vendor, "x-honeycomb-team"), Some("vendor-key"));
    assert_eq!(header(&vendor, "b"), Some("2"));
    assert_eq!(
        vendor.resource_overrides,
        [("service.name".into(), "svc".into())]
    );
    let entry = [
        ("endpoint", "http://entry:2"),
        ("headers", "x-honeycomb-team=entry-key"),
    ];
    let entry = resolve(&HONEYCOMB, &entry, &[], &env).unwrap();
    assert_eq!(entry.endpoint, "http://entry:2/v1/traces");
    assert_eq!(header(&entry, "x-honeycomb-team"), Some("entry-key"));
    assert_eq!(
        header(&entry, "b"),
        None,
        "the entry's headers replace the list"
    );
    let none = resolve(&OTLP, &[("headers", "")], &[], &env[3..4]).unwrap();
    assert!(none.headers.is_empty(), "headers: \"\" sends none");
    // The entry's headers without the vendor's header: the variable adds it.
    let other = resolve(&HONEYCOMB, &[("headers", "c=3")], &[], &env).unwrap();
    assert_eq!(header(&other, "x-honeycomb-team"), Some("vendor-key"));
}

#[test]
fn an_unreadable_variable_is_an_error_unless_a_source_above_it_decided() {
    let env = [("OTEL_EXPORTER_OTLP_ENDPOINT", "not utf-8")];
    let error = resolve(&OTLP, &[], &[], &env).unwrap_err();
    assert_eq!(error, "OTEL_EXPORTER_OTLP_ENDPOINT: not UTF-8");
    let entry = [("endpoint", "http://entry:1")];
    assert!(resolve(&OTLP, &entry, &[], &env).is_ok());
    let env = [("HONEYCOMB_SERVICE_NAME", "not utf-8")];
    let error = resolve(&HONEYCOMB, &[], &[], &env).unwrap_err();
    assert_eq!(error, "HONEYCOMB_SERVICE_NAME: not UTF-8");
}

#[test]
fn misspelt_keys_of_the_entry_are_refused_but_shared_ones_are_not() {
    let error = resolve(&OTLP, &[("endpiont", "http://h:1")], &[], &[]).unwrap_err();
    assert!(
        error.starts_with(
            "unknown config key `endpiont` for otlp_http:otlp; valid keys: endpoint, headers,"
        ),
        "{error}"
    );
    // exporter_config is shared with other plugins (console_file's log_dir).
    assert!(resolve(&OTLP, &[], &[("log_dir", "/tmp")], &[]).is_ok());
}

#[test]
fn user_info_is_an_authorization_header_that_a_configured_one_beats() {
    let entry = [("endpoint", "http://user:pw@127.0.0.1:1/x?q#f")];
    let settings = resolve(&OTLP, &entry, &[], &[]).unwrap();
    assert_eq!(settings.endpoint, "http://127.0.0.1:1/x/v1/traces?q");
    assert_eq!(
        settings.endpoint_for_logs(),
        "http://127.0.0.1:1/x/v1/traces"
    );
    assert_eq!(
        header(&settings, "authorization"),
        Some("Basic dXNlcjpwdw==")
    );
    // The environment's header, meant for this origin, beats the user info.
    let env = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1"),
        ("OTEL_EXPORTER_OTLP_HEADERS", "Authorization=Bearer%20t"),
    ];
    let settings = resolve(&OTLP, &entry, &[], &env).unwrap();
    assert_eq!(header(&settings, "authorization"), Some("Bearer t"));
    assert_eq!(settings.headers.len(), 1);
}

#[test]
fn headers_are_percent_decoded_and_never_printed() {
    let headers = parse_headers("H", "x-honeycomb-team=abc%20123 , Api-Key=k%3Dv").unwrap();
    assert_eq!(headers[0].0, "x-honeycomb-team");
    assert_eq!(headers[0].1.expose(), "abc 123");
    assert_eq!(headers[1].0, "api-key");
    assert_eq!(headers[1].1.expose(), "k=v");
    assert_eq!(
        format!("{headers:?}"),
        r#"[("x-honeycomb-team", <redacted>), ("api-key", <redacted>)]"#
    );
    let error = parse_headers("H", "a=secret%zz").unwrap_err();
    assert!(!error.contains("secret"), "{error}");
}

#[test]
fn a_header_written_with_a_colon_never_echoes_its_value() {
    const VAR: &str = "OTEL_EXPORTER_OTLP_HEADERS";
    for (text, name, c) in [
        (
            "Authorization: Basic dXNlcjpwYXNzd29yZA==",
            "Authorization",
            ':',
        ),
        ("x-api-key:dXNlcjpwYXNzd29yZA=1", "x-api-key", ':'),
        (
            "ok=1, Authorization Basic dXNlcjpwYXNzd29yZA=1",
            "Authorization",
            ' ',
        ),
    ] {
        let error = parse_headers(VAR, text).unwrap_err();
        assert!(
            error.starts_with(&format!(
                "{VAR}: the header name {name:?} is followed by {c:?}: a header name may not contain ':' or spaces; write name=value"
            )),
            "{error}"
        );
        assert!(!error.contains("dXNlcjpwYXNzd29yZA"), "{error}");
    }
    // A name that is not `Name: value` is not shown at all, nor is an entry without
    // '=' or with an empty name.
    for text in [
        "dXNlcjpwYXNzd29yZA$x=1",
        ":dXNlcjpwYXNzd29yZA=1",
        "Authorization: Basic dXNlcjpwYXNzd29yZA",
        "=dXNlcjpwYXNzd29yZA",
    ] {
        let error = parse_headers(VAR, text).unwrap_err();
        assert!(
            error.starts_with(&format!("{VAR}: a header name is not valid (not shown"))
                || error.starts_with(&format!("{VAR}: expected key=value")),
            "{error}"
        );
        assert!(!error.contains("dXNlcjpwYXNzd29yZA"), "{error}");
    }
}

#[test]
fn settings_debug_shows_the_endpoints_log_form_and_no_header_value() {
    let entry = [
        ("endpoint", "http://user:s3cret@h:1/p?token=s3cret"),
        ("headers", "x-key=s3cret"),
    ];
    let settings = resolve(&OTLP, &entry, &[], &[]).unwrap();
    let debug = format!("{settings:?}");
    assert!(
        debug.starts_with(
            r#"Settings { endpoint: "http://h:1/p/v1/traces", headers: ["x-key", "authorization"], timeout"#
        ),
        "{debug}"
    );
    assert!(
        !debug.contains("s3cret") && !debug.contains("Basic"),
        "{debug}"
    );
}

#[test]
fn a_header_name_error_names_only_what_looks_like_a_header_name() {
    const VAR: &str = "H";
    for (text, name) in [
        ("Content-Type: x=1", "Content-Type"),
        ("DD-API-KEY: x=1", "DD-API-KEY"),
        ("x-scope-orgid: x=1", "x-scope-orgid"),
        ("cookie x=1", "cookie"),
    ] {
        let error = parse_headers(VAR, text).unwrap_err();
        assert!(
            error.starts_with(&format!("{VAR}: the header name {name:?} is followed by")),
            "{error}"
        );
    }
    // The text before the ':' may itself be the credential, or a piece of one that a
    // comma in a value split off.
    for (text, secret) in [
        ("TOKEN:x=1", "TOKEN"),
        ("s3cr3t-t0ken:x=1", "s3cr3t"),
        ("dXNlcjpw-YXNz:x=1", "dXNlcjpw"),
        ("Authorization=Basic a,b:c=", "\"b\""),
        (
            "abcdefghij-abcdefghij-abcdefghij-abcdefghij: x=1",
            "abcdefghij",
        ),
    ] {
        let error = parse_headers(VAR, text).unwrap_err();
        assert!(
            error.starts_with(&format!("{VAR}: a header name is not valid (not shown")),
            "{text}: {error}"
        );
        assert!(!error.contains(secret), "{error}");
    }
}

#[test]
fn a_percent_sequence_is_two_hex_digits() {
    assert_eq!(
        spanplug_api::settings::percent_decode("a%2Bb%2f").as_deref(),
        Some("a+b/")
    );
    for text in ["%+A", "%-1", "%A", "%G0", "% 1"] {
        assert_eq!(spanplug_api::settings::percent_decode(text), None, "{text}");
    }
}

#[test]
fn relative_tls_files_from_the_config_mean_its_folder_and_from_a_variable_the_working_one() {
    let entry = [
        ("certificate", "certs/ca.pem"),
        ("client_key", "/abs/key.pem"),
    ];
    let shared = [("client_certificate", "certs/client.pem")];
    let settings = resolve_in(Some("/etc/svc"), &OTLP, &entry, &shared, &[]).unwrap();
    let found = |s: &Option<(String, String)>| s.clone().unwrap();
    let expected = |source: &str, path: &str| (source.to_string(), path.to_string());
    assert_eq!(
        found(&settings.certificate),
        expected("config.certificate", "/etc/svc/certs/ca.pem")
    );
    assert_eq!(
        found(&settings.client_certificate),
        expected(
            "exporter_config.client_certificate",
            "/etc/svc/certs/client.pem"
        )
    );
    assert_eq!(
        found(&settings.client_key),
        expected("config.client_key", "/abs/key.pem")
    );
    let env = [("OTEL_EXPORTER_OTLP_CERTIFICATE", "env/ca.pem")];
    let settings = resolve_in(Some("/etc/svc"), &OTLP, &[], &[], &env).unwrap();
    assert_eq!(
        found(&settings.certificate),
        expected("OTEL_EXPORTER_OTLP_CERTIFICATE", "env/ca.pem")
    );
}

#[test]
fn a_config_file_entry_reads_no_variable_and_uses_its_traces_endpoint_as_is() {
    let env = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://from-env:4318"),
        ("OTEL_EXPORTER_OTLP_HEADERS", "x-env=1"),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "7"),
    ];
    let entry = [
        ("read_env", "false"),
        ("traces_endpoint", "http://collector:4318/custom/path"),
    ];
    let settings = resolve(&OTLP, &entry, &[], &env).unwrap();
    assert_eq!(settings.endpoint, "http://collector:4318/custom/path");
    assert!(settings.headers.is_empty());
    assert_eq!(settings.batch.max_queue_size, 2048);
    // Without read_env, the same environment applies.
    let settings = resolve(&OTLP, &[], &[], &env).unwrap();
    assert_eq!(settings.endpoint, "http://from-env:4318/v1/traces");
    assert_eq!(settings.batch.max_queue_size, 7);
    let error = resolve(&OTLP, &[("read_env", "no")], &[], &[])
        .err()
        .unwrap();
    assert!(error.starts_with("config.read_env"), "{error}");
}
