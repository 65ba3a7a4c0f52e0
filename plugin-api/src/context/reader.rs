//! The plugin's side of the context: [`PluginContext`], which reads what the host
//! passed, and the [`Logger`] it hands out.

use std::fmt;
use std::path::{Path, PathBuf};

use abi_stable::std_types::RStr;

use super::{
    ContextParts, HostServicesRef, LogFn, LogLevel, PluginContextRef, HOST_SETTING_PREFIX,
};
use crate::span::KeyValue;
use crate::tree::Setting;

/// Everything a factory learns about the service it is installed in. Its `Debug`
/// lists the config's keys only: values may be credentials.
#[derive(Clone, Copy)]
pub struct PluginContext<'a> {
    fields: PluginContextRef<'a>,
}

impl<'a> PluginContext<'a> {
    /// For hosts and tests: reads a context the host built.
    pub fn new(fields: PluginContextRef<'a>) -> Self {
        PluginContext { fields }
    }

    /// The `module:function` entry that named this factory.
    pub fn import_path(&self) -> &'a str {
        self.fields.import_path().as_str()
    }

    /// The service's `service.name`, taken from the resource.
    pub fn service_name(&self) -> &'a str {
        self.fields.service_name().as_str()
    }

    /// The resource's attributes (`service.name`, `telemetry.sdk.*`, ...).
    pub fn resource_attributes(&self) -> &'a [KeyValue<'a>] {
        self.fields.resource_attributes().as_slice()
    }

    /// One setting from [`PluginContext::config`]; `None` when it is not set.
    pub fn config_value(&self, key: &str) -> Option<&'a str> {
        self.config()
            .find(|(k, _)| *k == key)
            .map(|(_, value)| value)
    }

    /// One setting of the entry's own `config` only; `None` when the entry does not set
    /// it (even if the shared `exporter_config` does). For settings where what a user
    /// wrote for one entry must beat other sources, such as the environment.
    pub fn entry_config_value(&self, key: &str) -> Option<&'a str> {
        self.entry_config_keys()
            .any(|k| k == key)
            .then(|| self.config_value(key))
            .flatten()
    }

    fn entry_config_keys(&self) -> impl Iterator<Item = &'a str> {
        self.fields
            .entry_config_keys()
            .as_slice()
            .iter()
            .map(RStr::as_str)
    }

    /// Every setting this plugin receives, shared and its own (names under
    /// [`HOST_SETTING_PREFIX`] excluded).
    pub fn config(&self) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.all_settings()
            .filter(|(key, _)| !key.starts_with(HOST_SETTING_PREFIX))
    }

    fn all_settings(&self) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.fields
            .config()
            .as_slice()
            .iter()
            .map(|e| (e.key.as_str(), e.value.as_str()))
    }

    /// Refuses keys of the entry's own `config` that are not in `valid`, naming them.
    pub fn check_keys(&self, valid: &[&str]) -> Result<(), String> {
        let unknown: Vec<&str> = self
            .entry_config_keys()
            .filter(|key| !valid.contains(key))
            .collect();
        match unknown.as_slice() {
            [] => Ok(()),
            keys => Err(format!(
                "unknown config key{} {} for {}; valid keys: {}",
                if keys.len() == 1 { "" } else { "s" },
                keys.iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                self.import_path(),
                valid.join(", ")
            )),
        }
    }

    /// True when the host only checks the config (`spanplug check`): validate every
    /// setting as usual, but create no files or folders and contact no one; the
    /// processors returned are shut down without seeing a span.
    pub fn is_dry_run(&self) -> bool {
        self.fields.dry_run().unwrap_or(false)
    }

    /// (since 0.3.1) The folder of the config file that named this entry: relative
    /// path settings are meant against it. `None` from a host older than 0.3.1 or when
    /// the config came from no file (relative paths then mean the working folder).
    pub fn config_dir(&self) -> Option<&'a Path> {
        self.fields
            .config_dir()
            .map(|dir| dir.as_str())
            .filter(|dir| !dir.is_empty())
            .map(Path::new)
    }

    /// A path setting's value as the user meant it: relative to
    /// [`config_dir`](Self::config_dir) when there is one, else as written.
    pub fn resolve_path(&self, value: &str) -> PathBuf {
        match self.config_dir() {
            Some(dir) if Path::new(value).is_relative() => dir.join(value),
            _ => PathBuf::from(value),
        }
    }

    /// The entry's own settings as the config file wrote them: a map of maps, lists,
    /// numbers, booleans and strings (since 0.3.1). `None` from a host older than
    /// 0.3.1 and for an entry without structured settings; top-level scalars are in
    /// [`PluginContext::config_value`] too, as text.
    pub fn settings(&self) -> Option<Setting<'a>> {
        Setting::new(self.fields.settings()?.as_slice())
    }

    /// The spanplug-api version of the host (`None` only from a host that predates
    /// the field, which no 0.3 host does).
    pub fn host_api_version(&self) -> Option<&'a str> {
        self.fields.host_api_version().map(|v| v.as_str())
    }

    /// The host's services.
    pub fn host_services(&self) -> HostServicesRef {
        self.fields.host()
    }

    /// The probe's context field: `None` from a host built without the probe.
    #[cfg(feature = "next-minor-probe")]
    #[doc(hidden)]
    pub fn next_minor_probe(&self) -> Option<u32> {
        self.fields.next_minor_probe()
    }

    fn parts(&self) -> ContextParts<'a> {
        ContextParts {
            import_path: self.import_path(),
            service_name: self.service_name(),
            resource_attributes: self.resource_attributes(),
            config: self.fields.config().as_slice(),
            entry_config_keys: self.fields.entry_config_keys().as_slice(),
            dry_run: self.is_dry_run(),
        }
    }

    /// An owned logger for processors and their threads, tagged with the import path.
    pub fn logger(&self) -> Logger {
        Logger {
            log: self.fields.host().log(),
            target: self.import_path().to_string(),
        }
    }
}

impl fmt::Debug for PluginContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PluginContext")
            .field("parts", &self.parts())
            .field("host_api_version", &self.host_api_version())
            .field("config_dir", &self.config_dir())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for PluginContextRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&PluginContext::new(*self), f)
    }
}

/// Sends messages to the host's log. Plugins never print: their stderr may be closed.
#[derive(Clone)]
pub struct Logger {
    log: LogFn,
    target: String,
}

impl Logger {
    /// Sends `message` at `level`, tagged with the plugin's import path.
    pub fn log(&self, level: LogLevel, message: &str) {
        (self.log)(level, self.target.as_str().into(), message.into());
    }

    /// Logs `message` at [`LogLevel::ERROR`].
    pub fn error(&self, message: &str) {
        self.log(LogLevel::ERROR, message);
    }

    /// Logs `message` at [`LogLevel::WARN`].
    pub fn warn(&self, message: &str) {
        self.log(LogLevel::WARN, message);
    }

    /// Logs `message` at [`LogLevel::INFO`].
    pub fn info(&self, message: &str) {
        self.log(LogLevel::INFO, message);
    }

    /// Logs `message` at [`LogLevel::DEBUG`].
    pub fn debug(&self, message: &str) {
        self.log(LogLevel::DEBUG, message);
    }
}

impl fmt::Debug for Logger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Logger")
            .field("target", &self.target)
            .finish()
    }
}
