use std::path::{Path, PathBuf};

use super::*;

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn the_example_plugin_is_what_new_plugin_generates() {
    let example = repository().join("examples/custom-plugin");
    let files = render("custom-plugin", Kind::Exporter, &ApiSource::Workspace).unwrap();
    for (relative, text) in files {
        let on_disk = fs::read_to_string(example.join(&relative)).unwrap_or_default();
        assert!(
            on_disk == text,
            "examples/custom-plugin/{} differs from what `spanplug new-plugin custom-plugin` writes; regenerate it:\n{text}",
            relative.display()
        );
    }
}

#[test]
fn the_testkit_version_written_is_the_crates() {
    let manifest = fs::read_to_string(repository().join("plugins/testkit/Cargo.toml")).unwrap();
    let version = manifest
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .unwrap();
    assert!(
        version.starts_with(&format!("{TESTKIT_VERSION}.")),
        "{version}"
    );
}

#[test]
fn a_checkout_dependency_names_its_crates_by_absolute_path() {
    let root = checkout(&repository().join("plugin-api")).unwrap();
    assert_eq!(root, fs::canonicalize(repository()).unwrap());
    let files = render(
        "tag-env",
        Kind::Transformer,
        &ApiSource::Checkout(root.clone()),
    )
    .unwrap();
    let manifest = &files[0].1;
    assert!(manifest.contains(&format!(
        "spanplug-api = {{ path = {:?} }}",
        root.join("plugin-api")
    )));
    assert!(manifest.contains("name = \"tag-env\""), "{manifest}");
    assert!(manifest.contains("crate-type = [\"cdylib\", \"rlib\"]"));
    assert!(manifest.contains("\n[workspace]\n"));
    assert!(!manifest.contains("serde_json"), "{manifest}");
    assert!(files[1].1.contains("tag_env:tag_spans"));
}

#[test]
fn a_version_dependency_names_both_crates_by_version() {
    let files = render("audit", Kind::Exporter, &ApiSource::Version("0.3".into())).unwrap();
    let manifest = &files[0].1;
    assert!(
        manifest.contains("spanplug-api = \"0.3\"\nserde_json = \"1\"\n"),
        "{manifest}"
    );
    assert!(manifest.contains(&format!("spanplug-plugin-test = \"{TESTKIT_VERSION}\"")));
}

#[test]
fn names_that_cannot_be_modules_are_refused() {
    for name in ["Audit", "1audit", "audit.so", "", "audit plugin"] {
        let error = module_name(name).unwrap_err();
        assert_eq!(error.kind(), NewPluginErrorKind::BadName, "{name}");
    }
    assert_eq!(module_name("slow-spans").unwrap(), "slow_spans");
}

#[test]
fn a_folder_that_is_not_a_checkout_is_refused_naming_what_was_looked_for() {
    let dir = tempfile::tempdir().unwrap();
    let error = checkout(dir.path()).unwrap_err();
    assert_eq!(error.kind(), NewPluginErrorKind::NoCheckout);
    assert!(
        error.to_string().contains("plugin-api/Cargo.toml"),
        "{error}"
    );
}

#[test]
fn a_folder_with_files_is_never_written_into() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("keep.txt"), "mine").unwrap();
    let files = render("audit", Kind::Exporter, &ApiSource::Version("0.3".into())).unwrap();
    let error = write(dir.path(), &files).unwrap_err();
    assert_eq!(error.kind(), NewPluginErrorKind::FolderNotEmpty);
    assert!(!dir.path().join("Cargo.toml").exists());

    let fresh = dir.path().join("audit");
    write(&fresh, &files).unwrap();
    let lib = fs::read_to_string(fresh.join("src/lib.rs")).unwrap();
    assert!(lib.contains("audit:span_log"));
    assert_eq!(
        fs::read_to_string(fresh.join(".gitignore")).unwrap(),
        "/target\n"
    );
}
