//! What `otlp_http` counts from a backend's 2xx answer, against the real loopback
//! receiver answering hand-made bodies: partial successes of any size and field order,
//! every JSON form receivers send, counts that are not counts, and bodies that are not
//! OTLP responses. Each case reads the exact counts the exporter reports at shutdown.

use opentelemetry::trace::Tracer as _;
use spanplug_tests::otlp_receiver::{Receiver, Reply};
use spanplug_tests::{log_capture, otlp_config};

/// Spans in the one batch each case sends.
const SPANS: usize = 10;

/// Sends [`SPANS`] spans in one batch to a receiver answering `reply`, over
/// `protocol`; the exporter's summary at shutdown and the warnings it logged.
fn export(reply: Reply, protocol: &str) -> (String, Vec<String>) {
    log_capture::install();
    let receiver = Receiver::start();
    receiver.script([reply]);
    let config = otlp_config(
        &receiver.base_url(),
        &[("protocol", protocol), ("schedule_delay", "60000")],
    );
    let guard = spanplug_sdk::init(config).unwrap();
    let tracer = guard.tracer("responses");
    for _ in 0..SPANS {
        tracer.in_span("answered", |_| {});
    }
    guard.force_flush().unwrap();
    let ours = format!("127.0.0.1:{}", receiver.port());
    let summary = match guard.shutdown() {
        Err(error) => error.to_string(),
        Ok(()) => log_capture::lines_containing(&ours)
            .into_iter()
            .find(|line| line.contains("shut down;"))
            .expect("the shutdown summary is logged"),
    };
    assert_eq!(receiver.requests().len(), 1, "one batch");
    let warnings = log_capture::lines_containing(&ours)
        .into_iter()
        .filter(|line| line.starts_with("WARN"))
        .collect();
    (summary, warnings)
}

fn counts(delivered: usize, rejected: usize) -> String {
    format!("{delivered} delivered, 0 dropped (queue full), 0 failed, {rejected} rejected")
}

/// `ExportTraceServiceResponse { partial_success { fields } }`, protobuf-encoded.
fn protobuf(fields: &[u8]) -> Vec<u8> {
    length_delimited(0x0a, fields)
}

fn length_delimited(key: u8, content: &[u8]) -> Vec<u8> {
    let mut bytes = vec![key];
    let mut len = content.len();
    while len >= 0x80 {
        bytes.push(len as u8 | 0x80);
        len >>= 7;
    }
    bytes.push(len as u8);
    bytes.extend_from_slice(content);
    bytes
}

fn raw(content_type: &'static str, body: impl Into<Vec<u8>>) -> Reply {
    Reply::Body {
        content_type,
        body: body.into(),
    }
}

#[test]
fn a_partial_success_with_a_megabyte_message_is_counted_in_either_field_order() {
    let message = "m".repeat(1 << 20);
    let (summary, warnings) = export(
        Reply::PartialSuccess {
            rejected: 5,
            message: message.clone(),
        },
        "http/protobuf",
    );
    assert!(summary.contains(&counts(5, 5)), "{summary}");
    assert!(
        warnings[0].contains("accepted a batch partially: 5 spans rejected: mmm"),
        "{warnings:?}"
    );
    assert!(warnings[0].len() < 1_000);

    // error_message first, rejected_spans after it.
    let mut fields = length_delimited(0x12, message.as_bytes());
    fields.extend([0x08, 0x05]);
    let (summary, _) = export(
        raw("application/x-protobuf", protobuf(&fields)),
        "http/protobuf",
    );
    assert!(summary.contains(&counts(5, 5)), "{summary}");
}

#[test]
fn a_partial_success_past_4_mib_is_read_through_to_its_count() {
    // An 8 MiB error_message, then rejected_spans: the count is past the JSON cap.
    let mut fields = length_delimited(0x12, "m".repeat(8 << 20).as_bytes());
    fields.extend([0x08, 0x05]);
    let (summary, warnings) = export(
        raw("application/x-protobuf", protobuf(&fields)),
        "http/protobuf",
    );
    assert!(summary.contains(&counts(5, 5)), "{summary}");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("accepted a batch partially: 5 spans rejected: mmm"),
        "{warnings:?}"
    );
}

#[test]
fn json_partial_success_is_counted_in_every_form_receivers_send() {
    for body in [
        // Canonical proto3 JSON: int64 as a string.
        r#"{"partialSuccess":{"rejectedSpans":"5"}}"#,
        r#"{"partialSuccess":{"rejectedSpans":5,"errorMessage":""}}"#,
        r#"{"partial_success":{"rejected_spans":"5","error_message":""},"extra":[1,{}]}"#,
    ] {
        let (summary, warnings) = export(raw("application/json", body), "http/json");
        assert!(summary.contains(&counts(5, 5)), "{body}: {summary}");
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("accepted a batch partially: 5 spans rejected"),
            "{warnings:?}"
        );
    }
}

#[test]
fn a_count_that_is_not_one_is_flagged_and_never_trusted() {
    let (summary, warnings) = export(
        raw(
            "application/json",
            r#"{"partialSuccess":{"rejectedSpans":-5,"errorMessage":"odd"}}"#,
        ),
        "http/json",
    );
    assert!(summary.contains(&counts(SPANS, 0)), "{summary}");
    assert!(
        warnings[0].contains(
            "0 spans rejected (rejected_spans -5 is not a count, so none are counted): odd"
        ),
        "{warnings:?}"
    );

    let (summary, warnings) = export(
        raw(
            "application/json",
            r#"{"partialSuccess":{"rejectedSpans":"500"}}"#,
        ),
        "http/json",
    );
    assert!(summary.contains(&counts(0, SPANS)), "{summary}");
    assert!(
        warnings[0].contains("10 spans rejected (it said 500, more than the 10 sent)"),
        "{warnings:?}"
    );
}

#[test]
fn a_body_that_is_not_an_otlp_response_is_counted_as_delivered_and_says_so() {
    for (reply, protocol, problem) in [
        (
            Reply::Garbage { bytes: 64 },
            "http/protobuf",
            "not an OTLP protobuf response",
        ),
        (
            raw("application/json", r#"{"partialSuccess":{"rejectedSpans":"#),
            "http/json",
            "not an OTLP JSON response",
        ),
    ] {
        let (summary, warnings) = export(reply, protocol);
        assert!(summary.contains(&counts(SPANS, 0)), "{summary}");
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains(&format!(
                "accepted a batch, counted as delivered (its response could not be read whole: {problem}"
            )),
            "{warnings:?}"
        );
    }
}

/// A refusal that echoes the URL's credentials: the password and the query token
/// are redacted from the logged line and the shutdown error.
#[test]
fn a_refusal_echoing_the_urls_password_or_query_token_logs_neither() {
    log_capture::install();
    let receiver = Receiver::start();
    receiver.script([Reply::Status {
        code: 400,
        retry_after: None,
        body: "bad login user/pa55-word (dXNlcjpwYTU1LXdvcmQ=), token tok-7788".into(),
    }]);
    let port = receiver.port();
    let endpoint = format!("http://user:pa55-word@127.0.0.1:{port}/?token=tok-7788");
    let guard = spanplug_sdk::init(otlp_config(&endpoint, &[])).unwrap();
    guard.tracer("refused").in_span("refused", |_| {});
    guard.force_flush().unwrap();
    let error = guard.shutdown().unwrap_err().to_string();
    let request = &receiver.requests()[0];
    assert_eq!(
        request.header("authorization"),
        Some("Basic dXNlcjpwYTU1LXdvcmQ=")
    );
    let logged = log_capture::lines_containing(&format!("127.0.0.1:{port}/v1/traces refused"));
    assert_eq!(
        logged,
        [format!("ERROR spanplug::plugin: [otlp_http:otlp] http://127.0.0.1:{port}/v1/traces refused a batch: HTTP 400 (not retried): bad login user/<redacted> (<redacted>), token <redacted>")],
    );
    for text in log_capture::all().iter().chain([&error]) {
        assert!(
            !text.contains("pa55") && !text.contains("7788") && !text.contains("dXNl"),
            "{text}"
        );
    }
}
