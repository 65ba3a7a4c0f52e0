//! What the real `spanplug` binary prints or writes when configs, the environment
//! and span files carry terminal escapes and bidi overrides: every byte it prints is
//! checked, and the page `view` writes is checked for its mode and for links.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Characters that act on a terminal or reorder text, none of which may be printed.
const RAW: [char; 7] = [
    '\u{1b}', '\u{7}', '\u{9b}', '\u{202e}', '\u{2066}', '\u{2028}', '\u{2029}',
];

/// A title-setting escape (OSC ... BEL) followed by a right-to-left override.
const HOSTILE: &str = "svc\u{1b}]0;pwned\u{7}\u{202e}";
/// How [`HOSTILE`] must be shown.
const ESCAPED: &str = "svc\\u{1b}]0;pwned\\u{7}\\u{202e}";

/// Where cargo put the plugin libraries this package's tests depend on.
fn plugin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_spanplug"))
        .parent()
        .unwrap()
        .join("deps")
}

fn spanplug(args: &[&Path], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_spanplug"));
    command
        .args(args)
        .env("SPANPLUG_PLUGIN_PATH", plugin_dir())
        .env_remove("SPANPLUG_TRACING_EXPORTER_IMPORT_PATH")
        .env_remove("OTEL_RESOURCE_ATTRIBUTES")
        .envs(env.iter().copied());
    command.output().unwrap()
}

/// Stdout and stderr as text, after checking that neither holds a raw [`RAW`].
fn printed(output: &Output) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8(output.stdout.clone()).unwrap(),
        String::from_utf8(output.stderr.clone()).unwrap()
    );
    for c in RAW {
        assert!(!text.contains(c), "raw {:?} printed: {text:?}", c);
    }
    text
}

/// `OTEL_SERVICE_NAME` and a `log_dir` with a title-setting escape and a bidi
/// override, and an import path with both: `check` shows each escaped, on stdout
/// and in its log lines alike.
#[test]
fn check_prints_config_and_environment_text_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("service.yaml");
    std::fs::write(
        &config,
        format!(
            "tracing_config:\n  exporter_import_path: console_file:default_tracing_exporter\n  exporter_config: {{log_dir: \"{}/logs\\e]0;dir\\a\\u202e\"}}\n",
            dir.path().display()
        ),
    )
    .unwrap();
    let output = spanplug(
        &[Path::new("check"), &config],
        &[("OTEL_SERVICE_NAME", HOSTILE)],
    );
    let text = printed(&output);
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains(&format!("service.name: {ESCAPED}\n")),
        "{text}"
    );
    let processor = format!(
        "console_file({}/logs\\u{{1b}}]0;dir\\u{{7}}\\u{{202e}}/spans/",
        dir.path().display()
    );
    assert_eq!(
        text.matches(&processor).count(),
        2,
        "stdout and log: {text}"
    );

    std::fs::write(
        &config,
        "tracing_config:\n  exporter_import_path: \"console_file\\e]0;x\\a:x\\u202e\"\n",
    )
    .unwrap();
    let output = spanplug(&[Path::new("check"), &config], &[]);
    let text = printed(&output);
    assert!(!output.status.success());
    assert!(
        text.contains("console_file\\u{1b}]0;x\\u{7}:x\\u{202e}"),
        "{text}"
    );
}

/// A span record whose name, label and status carry bidi overrides, isolates, line
/// separators and escapes, in a file whose name carries an escape too: `tree` shows
/// them escaped, in the tree and in its warnings.
#[test]
fn tree_prints_names_descriptions_and_paths_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let spans = dir.path().join("spans\u{1b}]0;file\u{7}.jsonl");
    let record = r#"{"name": "invoice\u202egpj.exe\u2028x", "context": {"trace_id": "0x01", "span_id": "0x02"}, "kind": "SpanKind.INTERNAL", "parent_id": null, "start_time": "2026-01-01T00:00:00.000000Z", "end_time": "2026-01-01T00:00:00.000100Z", "status": {"status_code": "ERROR", "description": "\u2066late\u2069\u2029\u001b[2J"}, "attributes": {"deployment": "\u009b31m"}}"#;
    std::fs::write(&spans, format!("junk\u{202e}\n{record}\n")).unwrap();
    let output = spanplug(&[Path::new("tree"), &spans], &[]);
    let text = printed(&output);
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains(
            "1. invoice\\u{202e}gpj.exe\\u{2028}x (\\u{9b}31m) - Duration: 100µs [ERROR: \\u{2066}late\\u{2069}\\u{2029}\\u{1b}[2J]"
        ),
        "{text}"
    );
    assert!(
        text.contains("spans\\u{1b}]0;file\\u{7}.jsonl:1: text outside any span record"),
        "{text}"
    );
}

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o7777
}

/// `view` writes its page 0600 (the span files it shows are 0600 in 0700 folders):
/// a new page, a page over an existing 0644 file, and a page over a link, which is
/// replaced while the file it pointed to is left alone; nothing staged is left.
#[test]
fn view_writes_its_page_0600_and_never_through_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let reference = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/reference/python-console-spans.json");
    let view = |page: &Path| {
        let output = spanplug(&[Path::new("view"), &reference, Path::new("-o"), page], &[]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    };

    let new = dir.path().join("new.html");
    view(&new);
    assert_eq!(mode(&new), 0o600);

    let existing = dir.path().join("existing.html");
    std::fs::write(&existing, "old page").unwrap();
    std::fs::set_permissions(&existing, std::fs::Permissions::from_mode(0o644)).unwrap();
    view(&existing);
    assert_eq!(mode(&existing), 0o600);
    assert!(std::fs::read_to_string(&existing)
        .unwrap()
        .contains("SELECT orders"));

    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "not a page").unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).unwrap();
    let link = dir.path().join("link.html");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    view(&link);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "not a page");
    assert_eq!(mode(&victim), 0o644);
    assert!(std::fs::symlink_metadata(&link).unwrap().is_file());
    assert_eq!(mode(&link), 0o600);

    let folder = dir.path().join("folder.html");
    std::fs::create_dir(&folder).unwrap();
    let output = spanplug(
        &[Path::new("view"), &reference, Path::new("-o"), &folder],
        &[],
    );
    assert!(!output.status.success());
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "existing.html",
            "folder.html",
            "link.html",
            "new.html",
            "victim.txt"
        ]
    );
}
