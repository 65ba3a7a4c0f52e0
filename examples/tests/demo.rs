//! The README's main command: five processes, real HTTP, spans flushed on SIGTERM,
//! and the trace trees of Ray Serve's multi-service example printed.

use std::process::Command;

mod support;

use support::{demo, demo_with_config};

#[test]
fn demo_prints_the_seed_trace_trees() {
    let logs = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_demo"))
        .env("SPANPLUG_LOG_DIR", logs.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );

    assert!(stdout.contains("GET /user/1 -> 200 OK"), "{stdout}");
    assert!(stdout.contains("\"name\":\"Alice\""), "{stdout}");
    assert!(stdout.contains("POST /register -> 200 OK"), "{stdout}");
    assert!(
        stdout.contains("Welcome David! Thanks for joining our service."),
        "{stdout}"
    );
    assert!(stdout.contains("GET /user/99 -> 404 Not Found"), "{stdout}");

    // GET /user/{id}: proxy → APIGateway → UserService → DatabaseService.
    let user_tree = [
        "1. proxy_http_request (proxy)",
        "   └── 2. proxy_route_to_replica (APIGateway)",
        "       └── 3. replica_handle_request (APIGateway)",
        "           └── 4. APIGateway.get_user_profile (APIGateway)",
        "               └── 5. proxy_route_to_replica (UserService)",
        "                   └── 6. replica_handle_request (UserService)",
        "                       └── 7. UserService.get_user_profile (UserService)",
        "                           └── 8. proxy_route_to_replica (DatabaseService)",
        "                               └── 9. replica_handle_request (DatabaseService)",
        "                                   └── 10. DatabaseService.get_user (DatabaseService)",
    ];
    let lines: Vec<&str> = stdout.lines().collect();
    let starts = lines
        .windows(user_tree.len())
        .filter(|window| {
            window
                .iter()
                .zip(&user_tree)
                .all(|(line, expected)| line.starts_with(expected))
        })
        .count();
    assert_eq!(
        starts, 3,
        "/user/1, /user/99 and the continued /user/2: {stdout}"
    );

    // POST /register fans out to DatabaseService and NotificationService.
    assert!(
        stdout
            .contains("                           ├── 8. proxy_route_to_replica (DatabaseService)"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "                           └── 11. proxy_route_to_replica (NotificationService)"
        ),
        "{stdout}"
    );
    // The unknown user is an error, with its reason.
    assert!(
        stdout.contains("DatabaseService.get_user (DatabaseService) - Duration: ")
            && stdout.contains("[ERROR: User 99 not found]")
    );
    // The incoming traceparent was continued.
    assert!(
        stdout.contains("Trace 0x4bf92f3577b34da6a3ce929d0e0e4736 (10 spans"),
        "{stdout}"
    );
    assert!(
        stdout.contains("[remote parent 0x00f067aa0ba902b7]"),
        "{stdout}"
    );
    // One span file per process.
    let files = std::fs::read_dir(logs.path().join("spans"))
        .unwrap()
        .count();
    assert_eq!(files, 5);
}

/// The Anyscale guide's recipe copies the request context onto spans that already
/// carry `request_id`: the key must still appear once per span (OTLP requires it).
#[test]
fn the_enricher_recipe_writes_each_attribute_key_once() {
    let logs = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_demo"))
        .env("SPANPLUG_LOG_DIR", logs.path())
        .env(
            "SPANPLUG_TRACING_EXPORTER_IMPORT_PATH",
            "context_enricher:serve_context,console_file:default_tracing_exporter",
        )
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut spans = 0;
    let mut with_request_id = 0;
    for entry in std::fs::read_dir(logs.path().join("spans")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        // Pretty records start with `{` on a line of its own.
        for span in text.split("\n{\n").filter(|s| s.contains("\"name\"")) {
            spans += 1;
            let count = span.matches("\"request_id\":").count();
            assert!(count <= 1, "request_id {count} times in {span}");
            with_request_id += count;
        }
    }
    assert_eq!(spans, 49);
    assert!(
        with_request_id >= 36,
        "{with_request_id} of {spans} spans carry request_id"
    );
}

/// The per-process delivered counts in the demo's report.
fn delivered_counts(stdout: &str) -> Vec<u64> {
    stdout
        .lines()
        .filter_map(|line| line.split("shut down; ").nth(1))
        .map(|rest| rest.split(' ').next().unwrap().parse().unwrap())
        .collect()
}

#[test]
fn demo_takes_an_otlp_only_config_and_reports_where_spans_went() {
    let receiver = spanplug_tests::otlp_receiver::Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    let (output, stdout, stderr) = demo_with_config(
        dir.path(),
        &format!(
            "tracing_config:\n  exporter_import_path: otlp_http:otlp\n  exporter_config: {{endpoint: \"{}\", schedule_delay: 20}}\n",
            receiver.base_url()
        ),
    );
    let logs = dir.path().join("logs");
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("Where the spans went"), "{stdout}");
    for service in [
        "proxy",
        "APIGateway",
        "UserService",
        "DatabaseService",
        "NotificationService",
    ] {
        assert!(
            stdout
                .lines()
                .any(|l| l.trim_start().starts_with(service) && l.contains(&receiver.base_url())),
            "{service}: {stdout}"
        );
    }
    let counts = delivered_counts(&stdout);
    assert_eq!(counts.len(), 5, "{stdout}");
    assert_eq!(counts.iter().sum::<u64>(), 49, "{stdout}");
    assert_eq!(receiver.delivered_spans().len(), 49);
    assert!(
        !logs.join("spans").exists(),
        "no span files without console_file"
    );
}

#[test]
fn a_backend_that_is_down_is_reported_with_counts_not_as_a_failure() {
    let port = spanplug_tests::otlp_receiver::unused_port();
    let dir = tempfile::tempdir().unwrap();
    let (output, stdout, stderr) = demo_with_config(
        dir.path(),
        &format!("tracing_config:\n  exporter_import_path: otlp_http:otlp\n  exporter_config: {{endpoint: \"http://127.0.0.1:{port}\", schedule_delay: 20}}\n"),
    );
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("GET /user/1 -> 200 OK"), "{stdout}");
    let lost: u64 = stdout
        .lines()
        .filter_map(|line| line.split_once(" spans lost; 0 delivered"))
        .map(|(before, _)| before.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(lost, 49, "{stdout}");
}

#[test]
fn a_bad_config_fails_the_demo_with_the_hosts_error() {
    let dir = tempfile::tempdir().unwrap();
    let (output, stdout, stderr) =
        demo_with_config(dir.path(), "tracing_config:\n  sampling_ratio: 2\n");
    assert!(!output.status.success());
    assert!(
        stderr.contains("tracing_config.sampling_ratio: must be a number between 0 and 1, got 2"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("stack backtrace"),
        "{stderr}"
    );
    assert!(
        !stdout.contains("started proxy"),
        "nothing started: {stdout}"
    );

    // A plugin that is not there stops the demo before it starts any process.
    let (output, stdout, stderr) = demo_with_config(
        dir.path(),
        "tracing_config:\n  exporter_import_path: no_such_plugin:exporter\n",
    );
    assert!(!output.status.success());
    assert_eq!(
        stderr
            .matches("plugin module \"no_such_plugin\" not found")
            .count(),
        1,
        "{stderr}"
    );
    assert!(stderr.contains("so the demo started nothing"), "{stderr}");
    assert!(!stdout.contains("started proxy"), "{stdout}");
}

/// The Ray Serve failure (a bad import path took the proxy down) under
/// `on_error: warn`: every request is answered and the good exporter still writes.
#[test]
fn with_on_error_warn_a_bad_import_path_takes_nothing_down() {
    let dir = tempfile::tempdir().unwrap();
    let (output, stdout, stderr) = demo_with_config(
        dir.path(),
        "tracing_config:\n  on_error: warn\n  exporter_import_path: [my_module:missing_exporter, console_file:default_tracing_exporter]\n",
    );
    assert!(output.status.success(), "{stdout}\n{stderr}");
    for answer in [
        "GET / -> 200 OK",
        "GET /user/1 -> 200 OK",
        "POST /register -> 200 OK",
        "GET /user/99 -> 404 Not Found",
        "GET /health -> 200 OK",
        "GET /user/2 (with incoming traceparent/tracestate) -> 200 OK",
    ] {
        assert!(stdout.contains(answer), "{answer}: {stdout}");
    }
    assert!(stdout.contains("49 spans from 5 processes"), "{stdout}");
    // Logged once per process, at error level, with the full message.
    let skipped: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("exporter my_module:missing_exporter skipped (on_error: warn)"))
        .collect();
    assert_eq!(skipped.len(), 5, "{stderr}");
    assert!(
        skipped
            .iter()
            .all(|l| l.contains("spanplug error: ") && l.contains("searched:")),
        "{skipped:?}"
    );
}

#[test]
fn demo_answers_help() {
    for args in [&["--help"][..], &["serve", "--help"]] {
        let (output, stdout, _) = demo(args, &[]);
        assert!(output.status.success());
        assert!(stdout.contains("Usage: demo"), "{stdout}");
    }
    assert!(demo(&["--help"], &[]).1.contains("--config <FILE>"));
}

/// SIGTERM ends a service on time even while clients hold requests half-sent
/// (partial headers, a partial body): it drains, then closes them.
#[test]
fn sigterm_stops_a_service_whatever_its_clients_do() {
    use std::io::Write as _;
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let port = spanplug_tests::otlp_receiver::unused_port();
    let mut service = Command::new(env!("CARGO_BIN_EXE_demo"))
        .args(["serve", "notification", "--port", &port.to_string()])
        .env("SPANPLUG_PLUGIN_PATH", spanplug_tests::plugin_dir())
        .env("SPANPLUG_LOG_DIR", dir.path())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let connect = || loop {
        if let Ok(stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            break stream;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut half_headers = connect();
    half_headers
        .write_all(b"GET /health HTTP/1.1\r\nHo")
        .unwrap();
    let mut half_body = connect();
    half_body
        .write_all(b"POST /notify HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\nContent-Length: 100\r\n\r\n{\"na")
        .unwrap();
    // The server has both requests in hand once a full one after them is answered.
    let mut probe = connect();
    probe
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut probe, &mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    let stopped_at = Instant::now();
    Command::new("kill")
        .args(["-TERM", &service.id().to_string()])
        .status()
        .unwrap();
    let status = loop {
        if let Some(status) = service.try_wait().unwrap() {
            break status;
        }
        if stopped_at.elapsed() > Duration::from_secs(30) {
            let _ = service.kill();
            panic!("still running 30 s after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    drop((half_headers, half_body));
    // Its spans were flushed on the way out.
    let text = std::fs::read_dir(dir.path().join("spans"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect::<String>();
    assert!(text.contains("\"http.route\": \"/health\""), "{text}");
}
