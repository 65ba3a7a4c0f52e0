//! The README's main command: five processes, real HTTP, spans flushed on SIGTERM,
//! and the trace trees of Ray Serve's multi-service example printed.

use std::process::Command;

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
