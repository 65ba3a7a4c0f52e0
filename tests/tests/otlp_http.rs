//! `otlp_http` against a real OTLP/HTTP receiver on 127.0.0.1 that decodes with the
//! official protobuf schema: delivery, retries and failures (what each span field
//! becomes is in otlp_round_trip.rs).

use std::time::{Duration, Instant};

use opentelemetry::trace::{TraceContextExt as _, Tracer as _};
use opentelemetry::KeyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use spanplug_config::TracingConfig;
use spanplug_sdk::RequestContext;
use spanplug_tests::otlp_receiver::{attribute, Receiver, Reply, ResettingListener};
use spanplug_tests::{
    assert_child_passed, assert_in_child, child_test, log_capture, otlp_config, plugin_dir,
};

const WAIT: Duration = Duration::from_secs(10);

#[test]
fn retry_after_is_honoured_and_the_batch_delivered_once() {
    let receiver = Receiver::start();
    receiver.script([Reply::Status {
        code: 503,
        retry_after: Some(1),
        body: "busy".into(),
    }]);
    let guard = spanplug_sdk::init(otlp_config(&receiver.base_url(), &[])).unwrap();
    let tracer = guard.tracer("retry");
    let started = Instant::now();
    for i in 0..10 {
        tracer.in_span(format!("span-{i}"), |_| {});
    }
    let spans = receiver.wait_for_spans(10, WAIT);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "retried before Retry-After"
    );
    guard.shutdown().unwrap();
    let statuses: Vec<u16> = receiver.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [503, 200]);
    assert_eq!(spans.len(), 10, "delivered exactly once");
}

#[test]
fn client_errors_are_not_retried_and_the_loss_is_reported() {
    log_capture::install();
    let receiver = Receiver::start();
    receiver.script([Reply::Status {
        code: 400,
        retry_after: None,
        body: "invalid span: missing name".into(),
    }]);
    let guard = spanplug_sdk::init(otlp_config(&receiver.base_url(), &[])).unwrap();
    let tracer = guard.tracer("refused");
    for _ in 0..5 {
        tracer.in_span("refused", |_| {});
    }
    guard.force_flush().unwrap();
    let error = guard.shutdown().unwrap_err().to_string();
    assert_eq!(receiver.requests().len(), 1, "a 400 is not retried");
    assert!(
        error.contains("5 spans lost; 0 delivered, 0 dropped (queue full), 5 failed"),
        "{error}"
    );
    let logged = log_capture::lines_containing(&format!(
        "127.0.0.1:{}/v1/traces refused a batch",
        receiver.port()
    ));
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert!(
        logged[0].contains("HTTP 400 (not retried): invalid span: missing name"),
        "{logged:?}"
    );
}

#[test]
fn partial_success_is_reported() {
    log_capture::install();
    let receiver = Receiver::start();
    receiver.script([Reply::PartialSuccess {
        rejected: 2,
        message: "2 spans too old".into(),
    }]);
    let guard = spanplug_sdk::init(otlp_config(&receiver.base_url(), &[])).unwrap();
    let tracer = guard.tracer("partial");
    for _ in 0..3 {
        tracer.in_span("partial", |_| {});
    }
    guard.force_flush().unwrap();
    let error = guard.shutdown().unwrap_err().to_string();
    assert!(
        error.contains("2 spans lost; 1 delivered, 0 dropped (queue full), 0 failed, 2 rejected"),
        "{error}"
    );
    let logged = log_capture::lines_containing(
        "accepted a batch partially: 2 spans rejected: 2 spans too old",
    );
    assert_eq!(logged.len(), 1);
}

/// A backend's message is cut short, its control characters escaped, and logged once
/// per interval however many batches repeat it.
#[test]
fn backend_messages_are_bounded_escaped_and_not_repeated() {
    log_capture::install();
    let receiver = Receiver::start();
    let hostile = format!("\u{1b}[2J\nfake: line{}", "x".repeat(10_000));
    receiver.script((0..3).map(|_| Reply::PartialSuccess {
        rejected: 1,
        message: hostile.clone(),
    }));
    let guard = spanplug_sdk::init(otlp_config(&receiver.base_url(), &[])).unwrap();
    let tracer = guard.tracer("hostile");
    for _ in 0..3 {
        tracer.in_span("hostile", |_| {});
        guard.force_flush().unwrap();
    }
    let _ = guard.shutdown();
    assert_eq!(receiver.requests().len(), 3);
    let logged = log_capture::lines_containing("accepted a batch partially");
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert!(
        logged[0].contains("\\u{1b}[2J\\nfake: line"),
        "{}",
        &logged[0][..200]
    );
    assert!(!logged[0].contains('\u{1b}') && !logged[0].contains('\n'));
    assert!(logged[0].len() < 1_000, "{} bytes", logged[0].len());
}

/// Credentials never follow a redirect: the second origin receives nothing, and the
/// export fails with a line saying why.
#[test]
fn a_redirect_to_another_origin_receives_nothing() {
    log_capture::install();
    let elsewhere = Receiver::start();
    let receiver = Receiver::start();
    receiver.script([Reply::Redirect {
        code: 307,
        location: format!("{}/v1/traces?token=leak", elsewhere.base_url()),
    }]);
    let config = otlp_config(
        &receiver.base_url(),
        &[("headers", "x-api-key=redirect-secret-1")],
    );
    let guard = spanplug_sdk::init(config).unwrap();
    guard.tracer("redirect").in_span("redirected", |_| {});
    let error = guard.shutdown().unwrap_err().to_string();
    assert!(
        elsewhere.requests().is_empty(),
        "nothing reaches the other origin"
    );
    assert_eq!(receiver.requests().len(), 1, "not retried");
    assert!(
        error.contains("1 spans lost; 0 delivered, 0 dropped (queue full), 1 failed"),
        "{error}"
    );
    let logged = log_capture::lines_containing("redirect to");
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert!(
        logged[0].contains(&format!(
            "HTTP 307 redirect to http://127.0.0.1:{} not followed",
            elsewhere.port()
        )),
        "{logged:?}"
    );
    assert!(!logged[0].contains("leak") && !logged[0].contains("redirect-secret-1"));
}

#[test]
fn a_dead_backend_never_blocks_the_application_and_delivery_resumes() {
    log_capture::install();
    let down = ResettingListener::start_on(0);
    let port = down.port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let config = otlp_config(
        &endpoint,
        &[
            ("max_queue_size", "100"),
            ("max_export_batch_size", "50"),
            ("export_timeout", "300"),
            ("timeout", "100"),
        ],
    );
    let guard = spanplug_sdk::init(config).unwrap();
    let tracer = guard.tracer("outage");
    // Backend down: the application keeps ending spans; the queue holds at most 100.
    for _ in 0..5000 {
        tracer.in_span("during_outage", |_| {});
    }
    // Wait until the exporter has failed batches against it, not for a guessed time.
    assert!(down.wait_for_attempts(2, Duration::from_secs(20)));
    down.stop();
    // Backend back on the same port; what the outage left queued drains first.
    let receiver = Receiver::start_on(port);
    guard.force_flush().unwrap();
    for _ in 0..20 {
        tracer.in_span("after_recovery", |_| {});
    }
    guard.force_flush().unwrap();
    let error = guard.shutdown().unwrap_err().to_string();
    let delivered = receiver.delivered_spans();
    assert!(
        delivered
            .iter()
            .filter(|s| s.name == "after_recovery")
            .count()
            == 20,
        "delivery resumed"
    );
    // Every span is accounted for: delivered + dropped + failed = produced.
    let summary = &error[error.find("lost; ").expect("loss summary") + 6..];
    let number = |label: &str| -> u64 {
        let end = summary
            .find(label)
            .unwrap_or_else(|| panic!("{label} in {error}"));
        summary[..end].rsplit(' ').next().unwrap().parse().unwrap()
    };
    let (ok, dropped, failed) = (
        number(" delivered"),
        number(" dropped (queue full)"),
        number(" failed"),
    );
    assert_eq!(ok as usize, delivered.len());
    assert_eq!(ok + dropped + failed, 5020, "{error}");
    // Outage spans still queued, or in the batch being retried, when the backend
    // returned may be delivered then: at most the queue and one batch (100 + 50), and
    // none twice.
    let outage = delivered
        .iter()
        .filter(|s| s.name == "during_outage")
        .count();
    assert!(outage <= 150, "{outage} outage spans delivered: {error}");
    let ids: std::collections::HashSet<&[u8]> =
        delivered.iter().map(|s| s.span_id.as_slice()).collect();
    assert_eq!(ids.len(), delivered.len(), "nothing delivered twice");
    assert!(
        dropped > 0 && failed > 0,
        "a full queue drops, a dead backend fails batches: {error}"
    );
}

#[test]
fn shutdown_delivers_everything_queued() {
    let receiver = Receiver::start();
    // A long schedule delay: only shutdown makes the batch go.
    let config = otlp_config(&receiver.base_url(), &[("schedule_delay", "60000")]);
    let guard = spanplug_sdk::init(config).unwrap();
    let tracer = guard.tracer("shutdown");
    for _ in 0..300 {
        tracer.in_span("queued", |_| {});
    }
    guard.shutdown().unwrap();
    assert_eq!(receiver.delivered_spans().len(), 300);
}

#[test]
fn a_shutdown_deadline_that_expires_reports_the_loss() {
    let receiver = Receiver::start();
    receiver.script([Reply::Delay(Duration::from_secs(3))]);
    let config =
        otlp_config(&receiver.base_url(), &[]).with_shutdown_timeout(Duration::from_millis(300));
    let guard = spanplug_sdk::init(config).unwrap();
    let tracer = guard.tracer("deadline");
    for _ in 0..10 {
        tracer.in_span("slow", |_| {});
    }
    // The batch is in flight (the receiver holds it for 3 s) before shutdown starts.
    assert!(receiver.wait_for_arrivals(1, Duration::from_secs(20)));
    let started = Instant::now();
    let error = guard.shutdown().unwrap_err().to_string();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "shutdown kept its deadline"
    );
    assert!(error.contains("spans lost"), "{error}");
}

#[test]
fn the_enricher_stamps_request_context_per_request_and_host_facts_ride_on_the_resource() {
    let receiver = Receiver::start();
    let config = TracingConfig::default()
        .with_exporter_import_path("context_enricher:serve_context")
        .with_exporter_import_path("context_enricher:static_attributes")
        .with_exporter_import_path("otlp_http:otlp")
        .with_plugin_dir(plugin_dir())
        .with_service_name("enriched")
        .with_exporter_config("endpoint", receiver.base_url())
        .with_exporter_config("schedule_delay", "20")
        .with_exporter_config("context_prefix", "ray.")
        .with_exporter_config("static_attributes", "team=core,tier=1");
    let guard = spanplug_sdk::init(config).unwrap();
    std::thread::scope(|scope| {
        for worker in 0..4 {
            let tracer = guard.tracer("enricher");
            scope.spawn(move || {
                for request in 0..25 {
                    let request_id = format!("req-{worker}-{request}");
                    let _cx = RequestContext::new()
                        .with("request_id", request_id.clone())
                        .with("deployment", format!("Deployment{worker}"))
                        .attach();
                    tracer.in_span("replica_handle_request", |cx| {
                        cx.span().set_attribute(KeyValue::new(
                            "expected_request_id",
                            request_id.clone(),
                        ));
                    });
                }
            });
        }
    });
    guard.shutdown().unwrap();
    let spans = receiver.delivered_spans();
    assert_eq!(spans.len(), 100);
    for span in &spans {
        let Some(Any::StringValue(expected)) = attribute(&span.attributes, "expected_request_id")
        else {
            panic!("marker missing")
        };
        assert_eq!(
            attribute(&span.attributes, "ray.request_id"),
            Some(&Any::StringValue(expected.clone()))
        );
        let worker = &expected[4..5];
        assert_eq!(
            attribute(&span.attributes, "ray.deployment"),
            Some(&Any::StringValue(format!("Deployment{worker}")))
        );
        assert!(attribute(&span.attributes, "process.pid").is_none());
        assert!(attribute(&span.attributes, "host.name").is_none());
        assert_eq!(
            attribute(&span.attributes, "team"),
            Some(&Any::StringValue("core".into()))
        );
        assert_eq!(
            attribute(&span.attributes, "tier"),
            Some(&Any::StringValue("1".into()))
        );
    }
    // Once per request, on the resource.
    for request in receiver.requests() {
        for resource_spans in &request.request.resource_spans {
            let resource = &resource_spans.resource.as_ref().unwrap().attributes;
            assert_eq!(
                attribute(resource, "process.pid"),
                Some(&Any::IntValue(i64::from(std::process::id())))
            );
            assert!(attribute(resource, "host.name").is_some());
        }
    }
}

#[test]
fn bad_settings_name_the_key() {
    let receiver = Receiver::start();
    for (key, value, expected) in [
        ("protocol", "grpc", "exporter_config.protocol: otlp_http speaks `http/protobuf` (default) or `http/json`, got \"grpc\""),
        ("compression", "zstd", "exporter_config.compression: expected `gzip` or `none`, got \"zstd\""),
        ("timeout", "10s", "exporter_config.timeout: expected a positive whole number of milliseconds, got \"10s\""),
            ("schedule_delay", "0", "exporter_config.schedule_delay: expected a positive whole number of milliseconds, got \"0\""),
        ("max_queue_size", "0", "exporter_config.max_queue_size: expected a positive whole number, got \"0\""),
        ("endpoint", "collector:4318", "exporter_config.endpoint: expected a URL starting with http:// or https://"),
        // Files are read without blocking, only if regular, bounded, and must hold PEM.
        ("certificate", "/dev/zero", "exporter_config.certificate: /dev/zero is a device, not a regular file"),
        ("certificate", "/etc/passwd", "exporter_config.certificate: /etc/passwd holds no PEM CERTIFICATE block (-----BEGIN ...CERTIFICATE-----)"),
        ("certificate", "/tmp", "exporter_config.certificate: /tmp is a directory, not a regular file"),
    ] {
        let mut config = otlp_config(&receiver.base_url(), &[]);
        config.exporter_config.insert(key.into(), value.into());
        let error = spanplug_sdk::init(config).err().unwrap().to_string();
        assert_eq!(error, format!("factory otlp_http:otlp failed: {expected}"));
    }
    // A FIFO does not block the factory (it would wait for a writer forever).
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("ca.pem");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    let config = otlp_config(
        &receiver.base_url(),
        &[("certificate", fifo.to_str().unwrap())],
    );
    let error = spanplug_sdk::init(config).err().unwrap().to_string();
    assert_eq!(
        error,
        format!(
            "factory otlp_http:otlp failed: exporter_config.certificate: {} is a FIFO, not a regular file",
            fifo.display()
        )
    );
}

/// A panic in the export thread stays in the plugin: flushes and shutdown answer at
/// once (not after their timeouts) with an error naming it, and every span is counted.
#[test]
fn a_dead_export_thread_fails_flushes_at_once_and_counts_the_loss() {
    // In a child: the fault is switched on by a process-wide variable.
    let output = child_test("dead_export_thread_child")
        .env("SPANPLUG_FAULT_INJECTION", "otlp_worker_panic")
        .output()
        .unwrap();
    assert_child_passed(&output);
}

#[test]
#[ignore = "run by a_dead_export_thread_fails_flushes_at_once_and_counts_the_loss"]
fn dead_export_thread_child() {
    assert_in_child();
    log_capture::install();
    let receiver = Receiver::start();
    let config = otlp_config(&receiver.base_url(), &[])
        .with_shutdown_timeout(std::time::Duration::from_secs(30));
    let guard = spanplug_sdk::init(config).unwrap();
    let tracer = guard.tracer("dead");
    for _ in 0..3 {
        tracer.in_span("before", |_| {});
    }
    let started = std::time::Instant::now();
    let flushed = guard.force_flush().unwrap_err().to_string();
    assert!(flushed.contains("the export thread died"), "{flushed}");
    tracer.in_span("after", |_| {});
    let error = guard.shutdown().unwrap_err().to_string();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(25),
        "did not wait out the timeout"
    );
    assert!(error.contains("4 spans lost"), "{error}");
    assert!(
        error.contains("4 lost when the export thread died"),
        "{error}"
    );
    assert!(receiver.requests().is_empty());
    assert_eq!(
        log_capture::lines_containing("the export thread panicked; 3 spans lost").len(),
        1
    );
}

/// A backend slower than the request timeout: that request is abandoned at the
/// timeout (well before the backend would answer) and the batch retried.
#[test]
fn a_request_slower_than_its_timeout_is_abandoned_and_retried() {
    let receiver = Receiver::start();
    receiver.script([Reply::Delay(Duration::from_secs(30))]);
    let config = otlp_config(&receiver.base_url(), &[("timeout", "300")]);
    let guard = spanplug_sdk::init(config).unwrap();
    for _ in 0..3 {
        guard.tracer("timeout").in_span("slow_backend", |_| {});
    }
    // The first attempt is held for 30 s; the retry after the 300 ms timeout gets 200.
    let delivered = receiver.wait_for_spans(3, Duration::from_secs(20));
    assert_eq!(delivered.len(), 3);
    assert!(receiver.wait_for_arrivals(2, Duration::from_secs(1)));
    guard.shutdown().unwrap();
}
