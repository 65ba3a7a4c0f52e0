//! `spanplug view` in a real headless browser (Debian's chromium, which `.ci/run`
//! installs): the page loads from a file with no network, and every span is drawn.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Debian's chromium; without it the browser tests are skipped, unless
/// `SPANPLUG_REQUIRE_BROWSER` (set by `.ci/run`) makes that a failure.
fn chromium() -> Option<PathBuf> {
    let found = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .map(PathBuf::from)
        .find(|path| path.is_file());
    if found.is_none() {
        assert!(
            std::env::var_os("SPANPLUG_REQUIRE_BROWSER").is_none(),
            "SPANPLUG_REQUIRE_BROWSER is set but chromium is not installed"
        );
        eprintln!("skipped: chromium is not installed (apt-get install chromium; .ci/run does)");
    }
    found
}

/// Headless flags that keep chromium off the network and out of the user's profile.
fn headless(browser: &Path, profile: &Path) -> Command {
    let mut command = Command::new(browser);
    command.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,900",
    ]);
    command.arg(format!("--user-data-dir={}", profile.display()));
    command
}

/// `spanplug view input -o page`, which must succeed.
fn write_view(input: &Path, page: &Path) {
    let output = Command::new(env!("CARGO_BIN_EXE_spanplug"))
        .arg("view")
        .arg(input)
        .arg("-o")
        .arg(page)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_waterfall_draws_every_span_in_a_real_browser() {
    let Some(browser) = chromium() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let reference = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/reference/python-console-spans.json");
    let page = dir.path().join("trace.html");
    write_view(&reference, &page);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "self-contained: no network references"
    );

    let url = format!("file://{}", page.display());
    let dom = headless(&browser, &dir.path().join("profile-dom"))
        .args(["--dump-dom", &url])
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.contains(r#"data-spans-drawn="4""#),
        "all four spans laid out with a width: {dom}"
    );
    assert!(
        dom.contains("Trace 0xbc2564d2e265a6dbf1bcb79e2e4904c8"),
        "{dom}"
    );
    assert!(
        dom.contains(r#"class="bar ERROR""#),
        "the failed span is drawn in the error colour"
    );
    assert!(
        dom.contains("connection reset by peer"),
        "details carry the status description"
    );

    let screenshot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("spanplug-view.png");
    let _ = std::fs::remove_file(&screenshot);
    let shot = headless(&browser, &dir.path().join("profile-shot"))
        .arg(format!("--screenshot={}", screenshot.display()))
        .arg(&url)
        .output()
        .unwrap();
    assert!(
        shot.status.success(),
        "{}",
        String::from_utf8_lossy(&shot.stderr)
    );
    let png = std::fs::read(&screenshot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "a real screenshot at {}",
        screenshot.display()
    );
}

/// One jsonl span record as console_file writes it.
fn record(id: usize, parent: Option<usize>, name: &str) -> String {
    let parent = parent.map_or("null".to_string(), |p| format!("\"0x{p:016x}\""));
    format!(
        r#"{{"name": "{name}", "context": {{"trace_id": "0x0000000000000000000000000000abcd", "span_id": "0x{id:016x}", "trace_state": "[]"}}, "kind": "SpanKind.INTERNAL", "parent_id": {parent}, "start_time": "2026-11-23T15:09:43.{:06}Z", "end_time": "2026-11-23T15:09:44.000000Z", "status": {{"status_code": "UNSET"}}, "attributes": {{}}, "events": [], "links": [], "resource": {{"attributes": {{"service.name": "deep"}}, "schema_url": ""}}}}"#,
        id % 1_000_000
    )
}

/// A 20,000-deep trace and parent cycles: every span drawn in a real browser (the
/// page used to go blank past about 4,000 levels), none dropped, and `view` refuses
/// to write its page over the span file it reads.
#[test]
fn deep_traces_and_parent_cycles_are_drawn_whole() {
    let dir = tempfile::tempdir().unwrap();
    let spans = dir.path().join("deep.jsonl");
    let depth = 20_000;
    let mut lines: Vec<String> = (1..=depth)
        .map(|i| record(i, (i > 1).then(|| i - 1), "level"))
        .collect();
    lines.push(record(depth + 1, Some(depth + 1), "self-parent"));
    lines.push(record(depth + 2, Some(depth + 3), "cycle-a"));
    lines.push(record(depth + 3, Some(depth + 2), "cycle-b"));
    std::fs::write(&spans, lines.join("\n") + "\n").unwrap();

    // `spanplug tree`: every span, the deepest at its depth, the cycles flagged.
    let tree = Command::new(env!("CARGO_BIN_EXE_spanplug"))
        .args(["tree", spans.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        tree.status.success(),
        "{}",
        String::from_utf8_lossy(&tree.stderr)
    );
    let text = String::from_utf8_lossy(&tree.stdout);
    assert!(
        text.contains(&format!("[depth {}] {depth}. level", depth - 1)),
        "deepest line"
    );
    assert_eq!(text.matches("[parent cycle: parent").count(), 2);
    assert_eq!(
        text.lines().filter(|l| l.contains(" - Duration: ")).count(),
        depth + 3
    );

    let refused = Command::new(env!("CARGO_BIN_EXE_spanplug"))
        .args([
            "view",
            spans.to_str().unwrap(),
            "-o",
            spans.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("is the span file"));
    assert!(std::fs::read_to_string(&spans)
        .unwrap()
        .starts_with("{\"name\""));

    let Some(browser) = chromium() else {
        return;
    };
    let page = dir.path().join("deep.html");
    write_view(&spans, &page);
    let url = format!("file://{}", page.display());
    let dom = headless(&browser, &dir.path().join("profile"))
        .args(["--dump-dom", &url])
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.contains(&format!(r#"data-spans-drawn="{}""#, depth + 3)),
        "every span laid out: {}",
        &dom[..dom.len().min(2000)]
    );
    assert_eq!(
        dom.matches("[parent cycle]").count(),
        2,
        "self-parent and one of the pair"
    );
}
