//! Helpers shared by the integration tests: where cargo put the plugin libraries,
//! configs pointing at them, and reading `console_file` output back.

pub mod log_capture;
pub mod otlp_receiver;
pub mod python;
pub mod sample_spans;
pub mod tls_receiver;

use std::path::{Path, PathBuf};

use spanplug_cli::spans_file::{self, SpanRecord};
use spanplug_config::TracingConfig;

/// The folder holding the plugin libraries of this build. Cargo puts the cdylibs a
/// crate depends on in `target/<profile>/deps`: beside a test binary, or in `deps/`
/// under a binary such as the benchmark (sometimes also copied to `target/<profile>`).
pub fn plugin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("executable path");
    let dir = exe.parent().expect("executable folder").to_path_buf();
    // `deps/` first: cargo rewrites the libraries there on every build, while the
    // copies beside a binary can be left over from an earlier one.
    let candidates = [
        dir.join("deps"),
        dir.clone(),
        dir.parent().map(Path::to_path_buf).unwrap_or_default(),
    ];
    match candidates
        .into_iter()
        .find(|c| c.join(library_file_name("console_file")).is_file())
    {
        Some(found) => found,
        None => panic!(
            "plugin libraries not found beside {}; build the workspace (cargo test --workspace)",
            exe.display()
        ),
    }
}

pub fn library_file_name(module: &str) -> String {
    format!(
        "{}{module}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )
}

pub fn plugin_file(module: &str) -> PathBuf {
    plugin_dir().join(library_file_name(module))
}

/// A config that loads `import_paths` from this run's plugin folder and writes
/// console_file output under `log_dir`.
pub fn config(import_paths: &[&str], log_dir: &Path) -> TracingConfig {
    import_paths
        .iter()
        .fold(TracingConfig::default(), |config, path| {
            config.with_exporter_import_path(*path)
        })
        .with_plugin_dir(plugin_dir())
        .with_exporter_config("log_dir", log_dir.to_string_lossy())
        .with_service_name("spanplug-test")
}

/// A config exporting with `otlp_http:otlp` to `endpoint` (a base URL), a 20 ms
/// schedule delay, and `extra` exporter_config entries.
pub fn otlp_config(endpoint: &str, extra: &[(&str, &str)]) -> TracingConfig {
    extra.iter().fold(
        TracingConfig::default()
            .with_exporter_import_path("otlp_http:otlp")
            .with_plugin_dir(plugin_dir())
            .with_service_name("otlp-test")
            .with_exporter_config("endpoint", endpoint)
            .with_exporter_config("schedule_delay", "20"),
        |config, (key, value)| config.with_exporter_config(*key, *value),
    )
}

/// Every span record under `log_dir`, failing the test on any unreadable record.
pub fn read_records(log_dir: &Path) -> Vec<SpanRecord> {
    let set = spans_file::read_spans(&log_dir.join("spans")).expect("spans folder readable");
    assert!(
        set.problems.is_empty(),
        "unreadable span records: {:?}",
        set.problems
    );
    set.spans
}

/// The span files `console_file` wrote under `log_dir`.
pub fn span_files(log_dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(log_dir.join("spans"))
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// The ignored test `name` of the running test binary, as a child process of its
/// own (for faults that are process-wide: resource limits, memory, environment):
/// `SPANPLUG_FAULT_CHILD` is set so the child can tell it was started this way.
pub fn child_test(name: &str) -> std::process::Command {
    let mut command = std::process::Command::new(std::env::current_exe().expect("own path"));
    command
        .args([
            "--exact",
            name,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("SPANPLUG_FAULT_CHILD", "1");
    command
}

/// Fails unless a [`child_test`] ran its one test and passed; returns its stdout.
pub fn assert_child_passed(output: &std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Fails a child test started any other way than by its parent.
pub fn assert_in_child() {
    assert!(
        std::env::var_os("SPANPLUG_FAULT_CHILD").is_some(),
        "run through its parent test"
    );
}

/// Resident memory of this process and its peak (`VmRSS`, `VmHWM`), in KiB (Linux).
pub fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} in /proc/self/status"))
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Runs the ignored test `name` as a [`child_test`] whose stdout nobody reads (so a
/// writer to stdout in the child blocks once the pipe is full) until it prints a line
/// starting `CHILD-DONE` to stderr; returns its stderr up to that line. Fails if that
/// line does not come within `limit`.
pub fn child_with_stdout_unread(name: &str, limit: std::time::Duration) -> String {
    use std::io::{BufRead as _, Read as _};
    use std::process::Stdio;
    let mut child = child_test(name)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("child test started");
    let stderr = child.stderr.take().expect("piped stderr");
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let done = line.starts_with("CHILD-DONE");
            lines.push(line);
            if done {
                break;
            }
        }
        let _ = sender.send(lines);
    });
    let lines = receiver.recv_timeout(limit);
    if lines.is_err() {
        let _ = child.kill();
    }
    // Now its stdout may drain, and the child end.
    let mut stdout = Vec::new();
    let _ = child
        .stdout
        .take()
        .expect("piped stdout")
        .read_to_end(&mut stdout);
    let _ = child.wait();
    lines
        .unwrap_or_else(|_| {
            panic!("{name} did not finish within {limit:?} while its stdout was never read")
        })
        .join("\n")
}
