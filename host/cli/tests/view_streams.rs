//! `spanplug view -o` naming a stream: `-`, `/dev/stdout` (a pipe, or a file the
//! shell redirected to) and a FIFO get the page written into them, never a file
//! staged beside them and renamed over them.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn reference() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/reference/python-console-spans.json")
}

fn view(output: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_spanplug"));
    command.arg("view").arg(reference()).args(["-o", output]);
    command
}

/// A whole page, holding a span of the reference file.
fn assert_whole_page(page: &str) {
    assert!(page.starts_with("<!DOCTYPE html>"), "{page:.200}");
    assert!(page.trim_end().ends_with("</html>"), "cut page");
    assert!(page.contains("SELECT orders"), "no spans in the page");
}

fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Descriptor paths naming standard output. `/dev/stdout` only when not root: a
/// regression (staging beside the output and renaming over it) would replace the
/// machine's `/dev/stdout` link with a file as root; `/dev/fd/1` and
/// `/proc/self/fd/1` cannot be replaced, so they fail harmlessly. The three are
/// told apart by the same rule (`waterfall` unit test).
fn stdout_paths() -> Vec<&'static str> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    let mut paths = vec!["/dev/fd/1", "/proc/self/fd/1"];
    if !root {
        paths.push("/dev/stdout");
    }
    paths
}

/// The page is standard output itself (a pipe here), and the summary goes to stderr
/// so the page stays whole; `/dev/stdout` was replaced as a file (root) or refused.
#[test]
fn view_to_dev_stdout_or_a_dash_writes_the_page_into_the_pipe() {
    for name in stdout_paths().into_iter().chain(["-"]) {
        let output = view(name).output().unwrap();
        assert_success(&output);
        assert_whole_page(&String::from_utf8(output.stdout).unwrap());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(&format!("wrote {name}")), "{stderr}");
    }
}

/// `-o /dev/stdout > page.html`: standard output is a regular file, written as it
/// is, and nothing is staged beside the descriptor path.
#[test]
fn view_to_dev_stdout_redirected_to_a_file_writes_that_file() {
    let dir = tempfile::tempdir().unwrap();
    for (i, name) in stdout_paths().into_iter().enumerate() {
        let page = dir.path().join(format!("page{i}.html"));
        let file = std::fs::File::create(&page).unwrap();
        let output = view(name).stdout(Stdio::from(file)).output().unwrap();
        assert_success(&output);
        assert_whole_page(&std::fs::read_to_string(&page).unwrap());
    }
}

/// A FIFO with a reader gets the page; the FIFO is still a FIFO afterwards.
#[test]
fn view_to_a_fifo_with_a_reader_writes_the_page_into_it() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("page.fifo");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    let (sent, received) = mpsc::channel();
    let reader_path = fifo.clone();
    std::thread::spawn(move || {
        let mut page = String::new();
        let read = std::fs::File::open(reader_path).and_then(|mut f| f.read_to_string(&mut page));
        let _ = sent.send(read.map(|_| page));
    });
    let output = view(fifo.to_str().unwrap()).output().unwrap();
    assert_success(&output);
    let page = received
        .recv_timeout(Duration::from_secs(20))
        .expect("the FIFO's reader got nothing within 20 s")
        .unwrap();
    assert_whole_page(&page);
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo());
}

/// A socket or a block device is neither a page nor a stream: refused, not replaced.
#[test]
fn view_refuses_an_output_that_is_a_socket() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("page.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let output = view(socket.to_str().unwrap()).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("it is a socket"), "{stderr}");
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::symlink_metadata(&socket)
        .unwrap()
        .file_type()
        .is_socket());
}
