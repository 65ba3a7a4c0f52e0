//! `spanplug new-plugin`: a plugin crate that builds, passes `cargo test` and loads,
//! as the README's "Writing your own plugin" teaches it. `examples/custom-plugin` is
//! this output for `custom-plugin` (an exporter), with the workspace's dependencies.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// The version of `spanplug-plugin-test` that goes with this spanplug-api; the
/// test below keeps it equal to the crate's.
const TESTKIT_VERSION: &str = "0.1";

/// What the generated plugin's factory returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `module:span_log`: failed or slow spans to a JSON-lines file.
    Exporter,
    /// `module:tag_spans`: tags spans and drops some (`needs_on_end() == false`).
    Transformer,
}

/// Where the generated crate takes `spanplug-api` and `spanplug-plugin-test` from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApiSource {
    /// A spanplug checkout (its `plugin-api` and `plugins/testkit` folders).
    Checkout(PathBuf),
    /// Published versions: `spanplug-api = "V"`.
    Version(String),
    /// The workspace's own (`examples/custom-plugin`).
    Workspace,
}

impl ApiSource {
    /// From `--api-path` or `--api-version`; with neither, the checkout this binary was
    /// built from (until spanplug-api is published).
    pub fn from_flags(
        api_path: Option<&Path>,
        api_version: Option<String>,
    ) -> Result<ApiSource, NewPluginError> {
        match (api_path, api_version) {
            (_, Some(version)) => Ok(ApiSource::Version(version)),
            (Some(path), None) => checkout(path).map(ApiSource::Checkout),
            (None, None) => built_from_checkout().map(ApiSource::Checkout),
        }
    }
}

/// Why a plugin crate could not be made; [`NewPluginError::kind`] says which failure.
#[derive(Debug, Error)]
#[error(transparent)]
pub struct NewPluginError(Box<Repr>);

/// Which failure a [`NewPluginError`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NewPluginErrorKind {
    /// The name cannot be a crate and module name.
    BadName,
    /// No spanplug checkout where one was expected, or none known.
    NoCheckout,
    /// The target folder exists and is not empty.
    FolderNotEmpty,
    /// Writing a file failed.
    Io,
}

impl NewPluginError {
    /// Which failure this is.
    pub fn kind(&self) -> NewPluginErrorKind {
        match *self.0 {
            Repr::BadName { .. } => NewPluginErrorKind::BadName,
            Repr::NoCheckout { .. } | Repr::NoBuiltCheckout => NewPluginErrorKind::NoCheckout,
            Repr::FolderNotEmpty { .. } => NewPluginErrorKind::FolderNotEmpty,
            Repr::Io { .. } => NewPluginErrorKind::Io,
        }
    }
}

#[derive(Debug, Error)]
enum Repr {
    #[error("plugin name {name:?}: expected a lowercase letter, then lowercase letters, digits, `_` or `-` (it becomes the crate name, and with `-` as `_` the module name)")]
    BadName { name: String },
    #[error("{} holds no spanplug checkout (looked for {} and {})", dir.display(), dir.join("plugin-api/Cargo.toml").display(), dir.join("Cargo.toml").display())]
    NoCheckout { dir: PathBuf },
    #[error("spanplug-api is not on crates.io yet and the checkout this spanplug was built from is gone: pass --api-path <your spanplug checkout>, or --api-version V once it is published")]
    NoBuiltCheckout,
    #[error("{} exists and is not empty: choose a new folder (--dir)", path.display())]
    FolderNotEmpty { path: PathBuf },
    #[error("cannot write {}: {error}", path.display())]
    Io { path: PathBuf, error: io::Error },
}

impl From<Repr> for NewPluginError {
    fn from(repr: Repr) -> Self {
        NewPluginError(Box::new(repr))
    }
}

/// The module name of plugin `name` (`-` as `_`), once the name is checked.
pub fn module_name(name: &str) -> Result<String, NewPluginError> {
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if !valid {
        return Err(Repr::BadName { name: name.into() }.into());
    }
    Ok(name.replace('-', "_"))
}

/// The spanplug checkout `dir` is, or whose `plugin-api` folder it is.
pub fn checkout(dir: &Path) -> Result<PathBuf, NewPluginError> {
    let dir = fs::canonicalize(dir).map_err(|_| Repr::NoCheckout { dir: dir.into() })?;
    if dir.join("plugin-api/Cargo.toml").is_file() {
        return Ok(dir);
    }
    match dir.parent() {
        Some(parent) if dir.ends_with("plugin-api") && dir.join("Cargo.toml").is_file() => {
            Ok(parent.to_path_buf())
        }
        _ => Err(Repr::NoCheckout { dir }.into()),
    }
}

/// The checkout this binary was built from, while it still exists (the default
/// until spanplug-api is published).
pub fn built_from_checkout() -> Result<PathBuf, NewPluginError> {
    checkout(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
        .map_err(|_| Repr::NoBuiltCheckout.into())
}

/// The files of plugin `name`, paths relative to its folder.
pub fn render(
    name: &str,
    kind: Kind,
    api: &ApiSource,
) -> Result<Vec<(PathBuf, String)>, NewPluginError> {
    let module = module_name(name)?;
    let (lib, load) = match kind {
        Kind::Exporter => (
            include_str!("../templates/exporter/lib.rs.tmpl"),
            include_str!("../templates/exporter/load.rs.tmpl"),
        ),
        Kind::Transformer => (
            include_str!("../templates/transformer/lib.rs.tmpl"),
            include_str!("../templates/transformer/load.rs.tmpl"),
        ),
    };
    let (dependencies, dev_dependencies, tail) = manifest_parts(kind, api);
    // The workspace's example carries the workspace's licence (cargo-deny checks it).
    let package_extra = match api {
        ApiSource::Workspace => "license.workspace = true\n",
        _ => "",
    };
    let manifest = include_str!("../templates/Cargo.toml.tmpl")
        .replace("{{crate}}", name)
        .replace("{{package_extra}}", package_extra)
        .replace("{{dependencies}}", &dependencies)
        .replace("{{dev_dependencies}}", &dev_dependencies)
        .replace("{{tail}}", tail);
    let mut files = vec![
        (PathBuf::from("Cargo.toml"), manifest),
        (
            PathBuf::from("src/lib.rs"),
            lib.replace("{{module}}", &module),
        ),
        (
            PathBuf::from("tests/load.rs"),
            load.replace("{{module}}", &module),
        ),
    ];
    if *api != ApiSource::Workspace {
        files.push((PathBuf::from(".gitignore"), "/target\n".into()));
    }
    Ok(files)
}

/// `[dependencies]` and `[dev-dependencies]` lines, and what ends the manifest.
fn manifest_parts(kind: Kind, api: &ApiSource) -> (String, String, &'static str) {
    let line = |name: &str, spec: String| format!("{name} = {spec}\n");
    let (api_spec, testkit_spec) = match api {
        ApiSource::Checkout(root) => (
            format!("{{ path = {:?} }}", root.join("plugin-api")),
            format!("{{ path = {:?} }}", root.join("plugins/testkit")),
        ),
        ApiSource::Version(version) => (format!("{version:?}"), format!("{TESTKIT_VERSION:?}")),
        ApiSource::Workspace => ("{ workspace = true }".into(), "{ workspace = true }".into()),
    };
    let external = |version: &str| match api {
        ApiSource::Workspace => "{ workspace = true }".to_string(),
        _ => format!("{version:?}"),
    };
    let mut dependencies = line("spanplug-api", api_spec);
    if kind == Kind::Exporter {
        dependencies += &line("serde_json", external("1"));
    }
    let mut dev_dependencies = line("spanplug-plugin-test", testkit_spec);
    if kind == Kind::Exporter {
        dev_dependencies += &line("tempfile", external("3"));
    }
    let tail = match api {
        ApiSource::Workspace => "\n[lints]\nworkspace = true\n",
        // Its own workspace, even when made inside another one's folder.
        _ => "\n[workspace]\n",
    };
    (dependencies, dev_dependencies, tail)
}

/// `spanplug new-plugin`: writes plugin `name` into `dir` and returns what to tell the user.
pub fn create(
    name: &str,
    kind: Kind,
    api: &ApiSource,
    dir: &Path,
) -> Result<String, NewPluginError> {
    let files = render(name, kind, api)?;
    write(dir, &files)?;
    let module = module_name(name)?;
    let function = match kind {
        Kind::Exporter => "span_log",
        Kind::Transformer => "tag_spans",
    };
    let dir = dir.display();
    Ok(format!(
        "wrote {dir} ({module}:{function})\nnext:\n  cd {dir} && cargo test    # unit tests, then the .so through the host's loader\n  cargo build --release && spanplug list target/release/lib{module}.so\n"
    ))
}

/// Writes `files` under `dir`, which must not exist or be empty.
pub fn write(dir: &Path, files: &[(PathBuf, String)]) -> Result<(), NewPluginError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |error| NewPluginError::from(Repr::Io { path, error })
    };
    if let Ok(mut entries) = fs::read_dir(dir) {
        if entries.next().is_some() {
            return Err(Repr::FolderNotEmpty { path: dir.into() }.into());
        }
    }
    for (relative, text) in files {
        let path = dir.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io(parent))?;
        }
        fs::write(&path, text).map_err(io(&path))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
