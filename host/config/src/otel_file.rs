//! OpenTelemetry's declarative configuration file (`OTEL_CONFIG_FILE`), `file_format`
//! 1.0 and 1.1, read into a [`TracingConfig`]: environment substitution as the data
//! model says, validation against the vendored JSON schema, then every field either
//! applied or refused with its YAML path and line. `meter_provider` configures
//! spanplug's own metrics where it can and warns, by path, about the rest (the same
//! file configures the application's metrics); `logger_provider` is a warning.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::nesting::check_nesting;
use crate::{ConfigError, TracingConfig};

mod components;
mod map;
mod metrics;
mod node;
mod resource;
mod schema;
mod subst;
#[cfg(test)]
mod tests;

/// The variable naming a configuration file; when set, that file is the process's
/// whole tracing configuration.
pub const CONFIG_FILE_VAR: &str = "OTEL_CONFIG_FILE";

/// The file format major this reads, and the newest minor it knows.
const MAJOR: u64 = 1;
const NEWEST_MINOR: u64 = 1;
/// Files larger than this are refused rather than parsed.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// One problem with the file: where, and what.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Problem {
    path: String,
    line: usize,
    message: String,
}

impl Problem {
    pub(crate) fn new(path: &str, line: usize, message: String) -> Self {
        Problem {
            path: path.to_string(),
            line,
            message,
        }
    }

    fn note(mut self, note: &str) -> Self {
        self.message = format!("{} ({note})", self.message);
        self
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.path.is_empty(), self.line) {
            (true, 0) => f.write_str(&self.message),
            (true, line) => write!(f, "line {line}: {}", self.message),
            (false, line) => write!(f, "{} (line {line}): {}", self.path, self.message),
        }
    }
}

/// A configuration file read into a [`TracingConfig`], with the warnings about what
/// it sets that spanplug does not apply.
#[derive(Debug)]
#[non_exhaustive]
pub struct OtelConfigFile {
    /// The tracing configuration the file describes (`config_file` set).
    pub config: TracingConfig,
    /// One line per field not applied that does not stop tracing (other signals),
    /// or per newer-minor property, with its YAML path and line.
    pub warnings: Vec<String>,
}

impl OtelConfigFile {
    /// Reads, substitutes, validates and maps the file at `path`; the error lists
    /// every problem, one line each ([`ConfigError::problems`]).
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let read_error = |reason: String| ConfigError::read(path.to_path_buf(), reason);
        if !matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            return Err(read_error(format!(
                "{} is not a .yaml or .yml file, as OpenTelemetry configuration files must be",
                path.display()
            )));
        }
        let bytes = spanplug_api::files::read_regular_file(path, MAX_FILE_BYTES)
            .map_err(|e| read_error(e.to_string()))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| read_error(format!("{} is not UTF-8 text", path.display())))?;
        let env = |name: &str| std::env::var(name).ok();
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        Self::parse(&text, &env, absolute)
    }

    /// [`load`](Self::load) for `text`, as if read from `path`, with `env` standing
    /// for the environment in substitutions (tests give their own).
    pub fn parse(
        text: &str,
        env: &dyn Fn(&str) -> Option<String>,
        path: PathBuf,
    ) -> Result<Self, ConfigError> {
        let fail = |problems: Vec<Problem>| {
            ConfigError::file(
                path.clone(),
                problems.iter().map(ToString::to_string).collect(),
            )
        };
        check_nesting(text).map_err(|e| fail(vec![Problem::new("", 0, e)]))?;
        let root =
            node::parse(text, env).map_err(|(line, e)| fail(vec![Problem::new("", line, e)]))?;
        let mut warnings = Vec::new();
        let minor = file_format(&root).map_err(|e| fail(vec![e]))?;
        if minor > NEWEST_MINOR {
            let line = root.get("file_format").map_or(0, |n| n.line);
            warnings.push(Problem::new("file_format", line, format!(
                "{MAJOR}.{minor} is newer than the {MAJOR}.{NEWEST_MINOR} spanplug knows; what it does not know is refused or warned about below"
            )));
        }
        let (mut errors, schema_warnings) = schema::validate(&root, minor > 0);
        warnings.extend(schema_warnings);
        // Mapped even when the schema found problems, so that one run lists them all.
        let mut mapper = map::Mapper::default();
        let mut config = mapper.root(&root);
        for error in mapper.errors {
            if !errors.iter().any(|e| e.path == error.path) {
                errors.push(error);
            }
        }
        if !errors.is_empty() {
            errors.sort_by_key(|e| e.line);
            return Err(fail(errors));
        }
        warnings.extend(mapper.warnings);
        // Plugins resolve their relative path settings against the file's folder.
        config.config_dir = path
            .parent()
            .map(|dir| std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf()));
        if let (Some(metrics), Some(dir)) = (&mut config.self_metrics, &config.config_dir) {
            metrics.resolve_files(dir);
        }
        config.config_file = Some(path);
        Ok(OtelConfigFile {
            config,
            warnings: warnings.iter().map(ToString::to_string).collect(),
        })
    }
}

impl OtelConfigFile {
    /// The config, its warnings logged.
    fn logged(self) -> TracingConfig {
        for warning in &self.warnings {
            log::warn!("{warning}");
        }
        self.config
    }
}

/// `file_format`'s minor version: another major is an error.
fn file_format(root: &node::Node) -> Result<u64, Problem> {
    let Some(node) = root.get("file_format") else {
        let line = root.line;
        return Err(Problem::new(
            "file_format",
            line,
            format!(
            "missing; a configuration file starts with `file_format: \"{MAJOR}.{NEWEST_MINOR}\"`"
        ),
        ));
    };
    let text = match &node.value {
        node::Value::Str(text) => text.clone(),
        _ => String::new(),
    };
    // "1.0-rc.3": the tag does not change the version's rules.
    let version = text.split('-').next().unwrap_or_default();
    let parsed = version
        .split_once('.')
        .and_then(|(major, minor)| Some((major.parse::<u64>().ok()?, minor.parse::<u64>().ok()?)));
    match parsed {
        Some((MAJOR, minor)) => Ok(minor),
        Some((major, _)) => Err(Problem::new("file_format", node.line, format!(
            "{text:?} is file format {major}; spanplug reads {MAJOR}.x ({MAJOR}.0 to {MAJOR}.{NEWEST_MINOR})"
        ))),
        None => Err(Problem::new("file_format", node.line, format!(
            "expected a quoted version such as \"{MAJOR}.{NEWEST_MINOR}\", got {text:?}"
        ))),
    }
}

impl TracingConfig {
    /// Reads an OpenTelemetry configuration file (see [`OtelConfigFile::load`]),
    /// logging each warning once.
    pub fn from_otel_config_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        Ok(OtelConfigFile::load(path)?.logged())
    }

    /// [`from_otel_config_file`](Self::from_otel_config_file) for text read from `path`.
    pub(crate) fn from_otel_config_text(text: &str, path: PathBuf) -> Result<Self, ConfigError> {
        let env = |name: &str| std::env::var(name).ok();
        Ok(OtelConfigFile::parse(text, &env, path)?.logged())
    }
}
