//! What one `exporter_import_path` entry asks for: a `module:function`, its own
//! settings, and what to do when it cannot be loaded.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::{Deref, DerefMut};

/// Plugin settings: keys to values. `Debug` shows the keys only, since values may be
/// secrets (headers, API keys).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ConfigMap(BTreeMap<String, String>);

impl Deref for ConfigMap {
    type Target = BTreeMap<String, String>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for ConfigMap {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl fmt::Debug for ConfigMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.keys().map(|key| (key, "<hidden>")))
            .finish()
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for ConfigMap {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        ConfigMap(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

impl ConfigMap {
    /// The settings as a plain map.
    pub fn into_inner(self) -> BTreeMap<String, String> {
        self.0
    }

    /// `self` laid over `shared`: what one entry's plugin receives.
    pub fn over(&self, shared: &ConfigMap) -> ConfigMap {
        let mut merged = shared.clone();
        merged.extend(self.0.iter().map(|(k, v)| (k.clone(), v.clone())));
        merged
    }
}

/// One `exporter_import_path` entry: a `module:function` and its own settings.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExporterEntry {
    /// `module:function`, or `/abs/path/libfoo.so:function`.
    pub import_path: String,
    /// Laid over the shared `exporter_config` for this entry's plugin only.
    pub config: ConfigMap,
}

impl ExporterEntry {
    /// An entry with no settings of its own.
    pub fn new(import_path: impl Into<String>) -> Self {
        ExporterEntry {
            import_path: import_path.into(),
            config: ConfigMap::default(),
        }
    }

    /// Adds a setting for this entry's plugin only.
    pub fn with_config(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.insert(key.into(), value.into());
        self
    }
}

/// What `init` does with an `exporter_import_path` entry that cannot be loaded
/// (module not found, incompatible ABI, failed checksum, factory error or timeout).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum OnError {
    /// `init` fails with the entry's error (the default).
    #[default]
    Fail,
    /// The error is logged once; the other entries run, and with none left the
    /// service runs with no exporter.
    Warn,
}

impl OnError {
    /// `fail` or `warn` (any case); the error says what was expected.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "fail" => Ok(OnError::Fail),
            "warn" => Ok(OnError::Warn),
            _ => Err(format!("expected fail or warn, got {text:?}")),
        }
    }
}
