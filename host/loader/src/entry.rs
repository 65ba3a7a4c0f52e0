//! What one `exporter_import_path` entry asks for: a `module:function`, its own
//! settings, and what to do when it cannot be loaded.

use std::collections::BTreeMap;
use std::fmt;

/// Plugin settings: keys to values. `Debug` shows the keys only, since values may be
/// secrets (headers, API keys).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ConfigMap(BTreeMap<String, String>);

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
    /// The value of the setting `key`, if set.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// Sets `key`, returning the value it replaces.
    pub fn insert(&mut self, key: String, value: String) -> Option<String> {
        self.0.insert(key, value)
    }

    /// Sets `key` unless it is set already: a default the config may override.
    pub fn insert_if_absent(&mut self, key: String, value: String) {
        self.0.entry(key).or_insert(value);
    }

    /// The settings' names, in order.
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.keys()
    }

    /// The settings, ordered by name.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &String)> {
        self.0.iter()
    }

    /// The settings as a plain map.
    pub fn into_inner(self) -> BTreeMap<String, String> {
        self.0
    }

    /// `self` laid over `shared`: what one entry's plugin receives.
    pub fn over(&self, shared: &ConfigMap) -> ConfigMap {
        let mut merged = shared.0.clone();
        merged.extend(self.0.iter().map(|(k, v)| (k.clone(), v.clone())));
        ConfigMap(merged)
    }
}

/// One `exporter_import_path` entry: a `module:function` and its own settings.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProcessorEntry {
    /// `module:function`, or `/abs/path/libfoo.so:function`.
    pub import_path: String,
    /// Laid over the shared `exporter_config` for this entry's plugin only.
    pub config: ConfigMap,
    /// The entry's own settings, structured, for plugins that read
    /// `PluginContext::settings` (an OpenTelemetry config file's component properties).
    pub settings: Option<spanplug_api::SettingTree>,
}

impl ProcessorEntry {
    /// An entry with no settings of its own.
    pub fn new(import_path: impl Into<String>) -> Self {
        ProcessorEntry {
            import_path: import_path.into(),
            config: ConfigMap::default(),
            settings: None,
        }
    }

    /// Passes `settings` structured too (their top-level scalars belong in `config`).
    pub fn with_settings(mut self, settings: spanplug_api::SettingTree) -> Self {
        self.settings = Some(settings);
        self
    }

    /// Adds a setting for this entry's plugin only.
    pub fn with_config(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.insert(key.into(), value.into());
        self
    }
}

/// What [`Stages::load`](crate::Stages::load) does with an `exporter_import_path` entry that cannot be loaded
/// (module not found, incompatible ABI, failed checksum, factory error or timeout).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum OnError {
    /// The load fails with the entry's error (the default).
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
