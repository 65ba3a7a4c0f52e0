//! `spanplug tree` and `view` fed span files from strangers, through the real binary:
//! junk, over-long records, FIFOs, devices and inputs over the size limit. Each run
//! has a deadline, so a hang fails the test instead of blocking CI, and its peak RSS
//! is read back from `wait4`.

use std::fs::File;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How a run of the binary ended.
struct Finished {
    status: ExitStatus,
    stdout: String,
    stderr: String,
    peak_rss_kib: i64,
    elapsed: Duration,
}

/// Runs `spanplug args`, killing it and failing the test after `deadline`; output
/// goes to files, so a chatty child never blocks on a full pipe.
fn run(args: &[&Path], deadline: Duration) -> Finished {
    let dir = tempfile::tempdir().unwrap();
    let (out, err) = (dir.path().join("stdout"), dir.path().join("stderr"));
    let start = Instant::now();
    let mut command = Command::new(env!("CARGO_BIN_EXE_spanplug"));
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(File::create(&out).unwrap())
        .stderr(File::create(&err).unwrap());
    // SAFETY: the hook does nothing. Having one makes std fork rather than vfork: a
    // vforked child shares this process's memory until exec, and exec records that
    // memory's peak in the child's `ru_maxrss`; a forked copy starts from this
    // process's current RSS instead, which is small once the test's inputs are freed.
    unsafe { command.pre_exec(|| Ok(())) };
    #[expect(
        clippy::zombie_processes,
        reason = "reaped below by wait4, for its rusage"
    )]
    let mut child = command.spawn().unwrap();
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain data; all zeros is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `pid` is our unreaped child; the pointers are to live locals.
        let reaped = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        assert!(reaped >= 0, "wait4: {}", std::io::Error::last_os_error());
        if reaped == pid {
            break;
        }
        if start.elapsed() > deadline {
            child.kill().unwrap();
            // SAFETY: as above; this reaps the killed child.
            unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
            panic!("spanplug {args:?} still running after {deadline:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Finished {
        status: ExitStatus::from_raw(status),
        stdout: std::fs::read_to_string(out).unwrap(),
        stderr: std::fs::read_to_string(err).unwrap(),
        peak_rss_kib: usage.ru_maxrss,
        elapsed: start.elapsed(),
    }
}

fn reference_spans() -> String {
    let reference = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/reference/python-console-spans.json");
    std::fs::read_to_string(reference).unwrap()
}

fn mkfifo(path: &Path) {
    let c_path = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
}

/// A 48 MiB record in one file, 10 million junk lines (20 MB) in another, each
/// followed by real spans: the spans are shown, ten warnings name their lines and one
/// counts the rest, and peak RSS stays under 40 MiB, less than the long record alone
/// (whole-file reading took 1.35 GB for the junk and printed 10 million warnings).
#[test]
fn junk_in_span_files_is_summarised_in_bounded_memory_and_time() {
    let dir = tempfile::tempdir().unwrap();
    let (big, junk) = (dir.path().join("big.json"), dir.path().join("junk.json"));
    let record = format!("{{\"name\": \"{}\"\n", "x".repeat(48 << 20));
    std::fs::write(&big, record + &reference_spans()).unwrap();
    std::fs::write(&junk, "x\n".repeat(10_000_000) + &reference_spans()).unwrap();

    let finished = run(&[Path::new("tree"), &big, &junk], Duration::from_secs(120));
    assert!(finished.status.success(), "{}", finished.stderr);
    assert!(
        finished
            .stdout
            .contains("Trace 0xbc2564d2e265a6dbf1bcb79e2e4904c8 (6 spans, 495µs)"),
        "both files' spans: {}",
        finished.stdout
    );
    let warnings: Vec<&str> = finished.stderr.lines().collect();
    assert_eq!(warnings.len(), 11, "{}", finished.stderr);
    assert_eq!(
        warnings[0],
        format!(
            "warning: {}:1: a span record over 16777216 bytes, skipped",
            big.display()
        )
    );
    assert_eq!(
        warnings[9],
        format!(
            "warning: {}:9: text outside any span record",
            junk.display()
        )
    );
    assert_eq!(
        warnings[10],
        "warning: and 9999991 more unreadable records or lines (not shown)"
    );
    eprintln!(
        "68 MB of junk: peak RSS {} KiB, {:?}",
        finished.peak_rss_kib, finished.elapsed
    );
    assert!(
        finished.peak_rss_kib < 40 << 10,
        "peak RSS {} KiB",
        finished.peak_rss_kib
    );
}

/// `/dev/zero`, a FIFO and a FIFO inside a folder: clear errors naming the path and
/// what it is, at once (a FIFO used to hang both commands, `/dev/zero` to exhaust
/// memory); a folder's FIFO is passed over and its real span file read.
#[test]
fn fifos_and_devices_are_refused_promptly_by_tree_and_view() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("stuck.json");
    mkfifo(&fifo);
    let page = dir.path().join("page.html");
    for command in ["tree", "view"] {
        for (input, what) in [
            (Path::new("/dev/zero"), "is a device".to_string()),
            (fifo.as_path(), "is a FIFO".to_string()),
        ] {
            let args = [Path::new(command), input, Path::new("-o"), &page];
            let args = if command == "tree" { &args[..2] } else { &args };
            let finished = run(args, Duration::from_secs(20));
            assert!(!finished.status.success());
            let expected = format!("error: {} {what}, not a regular file\n", input.display());
            assert_eq!(finished.stderr, expected, "{command}");
        }
    }
    assert!(!page.exists());

    let folder = dir.path().join("logs");
    std::fs::create_dir_all(folder.join("spans")).unwrap();
    mkfifo(&folder.join("spans/stuck.json"));
    std::fs::write(folder.join("spans/real.json"), reference_spans()).unwrap();
    let finished = run(&[Path::new("tree"), &folder], Duration::from_secs(20));
    assert!(finished.status.success(), "{}", finished.stderr);
    assert!(finished.stdout.contains("3. SELECT orders"));
}

/// Inputs over `--max-mib` (256 by default) in all are refused, naming the limit and
/// the flag; several files and folders are read together.
#[test]
fn inputs_over_the_size_limit_name_the_limit_and_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let reference = reference_spans();
    let copies = (600 << 10) / reference.len() + 1;
    let files: Vec<PathBuf> = ["a.json", "b.json"]
        .iter()
        .map(|name| {
            let path = dir.path().join(name);
            std::fs::write(&path, reference.repeat(copies)).unwrap();
            path
        })
        .collect();
    let size = std::fs::metadata(&files[0]).unwrap().len();
    let limit = Path::new("--max-mib=1");

    let finished = run(
        &[Path::new("tree"), limit, &files[0]],
        Duration::from_secs(20),
    );
    assert!(finished.status.success(), "{}", finished.stderr);

    let finished = run(
        &[Path::new("tree"), limit, &files[0], &files[1]],
        Duration::from_secs(20),
    );
    assert!(!finished.status.success());
    assert_eq!(
        finished.stderr,
        format!(
            "error: {} is {size} bytes, after {size} bytes of other span files: over the limit of 1048576 bytes (1 MiB; raise it with --max-mib)\n",
            files[1].display()
        )
    );

    let finished = run(
        &[
            Path::new("tree"),
            Path::new("--max-mib=2"),
            &files[0],
            dir.path(),
        ],
        Duration::from_secs(20),
    );
    assert!(finished.status.success(), "{}", finished.stderr);
    let traces = finished.stdout.matches("Trace 0xbc2564d2").count();
    assert_eq!(traces, 1, "one trace, its spans from all three files");
    assert!(finished
        .stdout
        .contains(&format!("({} spans, 495µs)", 3 * 3 * copies)));
}
