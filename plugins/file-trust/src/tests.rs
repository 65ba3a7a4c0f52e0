use std::os::unix::fs::PermissionsExt;

use super::*;

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A folder of this user's that only it can write, as the tests' temporary folders are.
fn own_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    set_mode(dir.path(), 0o700);
    dir
}

fn refusal(result: Result<(), Untrusted>) -> (UntrustedKind, String) {
    let error = result.expect_err("refused");
    (error.kind(), error.to_string())
}

#[test]
fn a_folder_only_this_user_can_write_is_trusted() {
    let dir = own_folder();
    check_folder("the folder", dir.path(), Links::Refuse).unwrap();
    set_mode(dir.path(), 0o755);
    check_folder("the folder", dir.path(), Links::Refuse).unwrap();
}

#[test]
fn a_folder_of_roots_is_trusted() {
    let root = Path::new("/");
    assert_eq!(std::fs::metadata(root).unwrap().uid(), 0);
    check_folder("the folder", root, Links::Refuse).unwrap();
}

#[test]
fn a_folder_its_group_can_write_is_refused() {
    let dir = own_folder();
    set_mode(dir.path(), 0o770);
    let (kind, message) = refusal(check_folder("the folder", dir.path(), Links::Refuse));
    assert_eq!(kind, UntrustedKind::WritableByGroup);
    assert_eq!(
        message,
        format!(
            "the folder {} is writable by its group (mode 770)",
            dir.path().display()
        )
    );
}

#[test]
fn a_folder_every_user_can_write_is_refused_even_with_the_sticky_bit() {
    let dir = own_folder();
    for mode in [0o777, 0o1777, 0o702] {
        set_mode(dir.path(), mode);
        let (kind, message) = refusal(check_folder("the folder", dir.path(), Links::Follow));
        assert_eq!(kind, UntrustedKind::WritableByEveryone, "{mode:o}");
        assert!(
            message.ends_with(&format!("is writable by every user (mode {mode:o})")),
            "{message}"
        );
    }
}

#[test]
fn a_link_to_a_folder_is_refused_unless_links_are_followed() {
    let dir = own_folder();
    let target = dir.path().join("real");
    std::fs::create_dir(&target).unwrap();
    set_mode(&target, 0o700);
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let (kind, message) = refusal(check_folder("the spans folder", &link, Links::Refuse));
    assert_eq!(kind, UntrustedKind::NotADirectory);
    assert_eq!(
        message,
        format!(
            "the spans folder {} is not a directory (a link or a file)",
            link.display()
        )
    );
    check_folder("the spans folder", &link, Links::Follow).unwrap();
    // Followed, a link is judged by what it points to.
    set_mode(&target, 0o777);
    let (kind, _) = refusal(check_folder("the folder", &link, Links::Follow));
    assert_eq!(kind, UntrustedKind::WritableByEveryone);
}

#[test]
fn a_file_where_a_folder_is_expected_is_refused() {
    let dir = own_folder();
    let file = dir.path().join("file");
    std::fs::write(&file, "").unwrap();
    for links in [Links::Follow, Links::Refuse] {
        let (kind, _) = refusal(check_folder("the folder", &file, links));
        assert_eq!(kind, UntrustedKind::NotADirectory);
    }
}

#[test]
fn a_missing_folder_cannot_be_inspected_and_says_why() {
    let dir = own_folder();
    let missing = dir.path().join("missing");
    let error = check_folder("plugin folder", &missing, Links::Follow).unwrap_err();
    assert_eq!(error.kind(), UntrustedKind::Uninspectable);
    assert_eq!(error.path(), missing);
    let message = error.to_string();
    assert!(
        message.starts_with(&format!(
            "cannot inspect plugin folder {}: ",
            missing.display()
        )),
        "{message}"
    );
    assert_eq!(
        error.io_error().unwrap().kind(),
        std::io::ErrorKind::NotFound
    );
    // Said once by a report of the chain: the message has it, so no `source`.
    assert!(std::error::Error::source(&error).is_none());
}

#[test]
fn a_folder_or_file_owned_by_another_user_is_refused() {
    if effective_uid() != 0 {
        eprintln!("skipped: only root can give a folder to another user");
        return;
    }
    let dir = own_folder();
    std::os::unix::fs::chown(dir.path(), Some(65534), Some(65534)).unwrap();
    let (kind, message) = refusal(check_folder("the folder", dir.path(), Links::Refuse));
    assert_eq!(kind, UntrustedKind::OwnedByAnother);
    assert_eq!(
        message,
        format!(
            "the folder {} is owned by uid 65534, neither this user nor root",
            dir.path().display()
        )
    );
    let path = dir.path().join("plugin.so");
    let file = File::create(&path).unwrap();
    set_mode(&path, 0o644);
    check_open_file("plugin file", &path, &file).unwrap();
    std::os::unix::fs::chown(&path, Some(65534), None).unwrap();
    let (kind, _) = refusal(check_open_file("plugin file", &path, &file));
    assert_eq!(kind, UntrustedKind::OwnedByAnother);
}

#[test]
fn an_open_file_is_judged_by_its_descriptor_not_by_what_its_path_names_now() {
    let dir = own_folder();
    let path = dir.path().join("plugin.so");
    let file = File::create(&path).unwrap();
    set_mode(&path, 0o666);
    let (kind, message) = refusal(check_open_file("plugin file", &path, &file));
    assert_eq!(kind, UntrustedKind::WritableByEveryone);
    assert_eq!(
        message,
        format!(
            "plugin file {} is writable by every user (mode 666)",
            path.display()
        )
    );
    // A safe file renamed over the path does not make the open one safe.
    let safe = dir.path().join("safe.so");
    std::fs::write(&safe, "").unwrap();
    set_mode(&safe, 0o600);
    std::fs::rename(&safe, &path).unwrap();
    let (kind, _) = refusal(check_open_file("plugin file", &path, &file));
    assert_eq!(kind, UntrustedKind::WritableByEveryone);
}

#[test]
fn what_this_process_creates_belongs_to_the_effective_user() {
    let dir = own_folder();
    assert_eq!(
        std::fs::metadata(dir.path()).unwrap().uid(),
        effective_uid()
    );
}
