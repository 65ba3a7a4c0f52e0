//! Where a setting's value comes from, most specific first; see the order in
//! [`crate::settings`].

use spanplug_api::PluginContext;

/// Reads an environment variable: `Ok(None)` when it is unset or blank, an error
/// naming it when it is set but unreadable. The process's is
/// [`spanplug_api::settings::env_var`] (a value that is not UTF-8 is an error naming
/// the variable, never "unset": a header or endpoint that silently went missing
/// would send spans elsewhere, unauthenticated).
pub(super) type ReadEnv<'e> = &'e dyn Fn(&str) -> Result<Option<String>, String>;

/// A value and the setting it came from, as errors name it (`config.endpoint`,
/// `OTEL_EXPORTER_OTLP_ENDPOINT`, `exporter_config.endpoint`).
pub(super) type Found = (String, String);

/// Whether `source`, the name a [`Found`] carries, is the configuration (the entry's
/// own `config` or `exporter_config`) rather than a variable of the environment.
pub(super) fn from_config(source: &str) -> bool {
    source.starts_with("config.") || source.starts_with("exporter_config.")
}

/// Looks settings up in the entry's own `config`, the environment and the shared
/// `exporter_config`, in that order.
pub(super) struct Lookup<'c, 'p> {
    /// The factory's context: the entry's own and the shared settings.
    pub ctx: &'c PluginContext<'p>,
    /// The environment.
    pub env: ReadEnv<'c>,
}

impl Lookup<'_, '_> {
    /// `key` from the entry's own `config`; else the first of `vars` that is set;
    /// else `key` from `exporter_config`. A variable that is read and unreadable is
    /// an error; variables after the first one set are not read.
    pub(super) fn get(&self, key: &str, vars: &[&str]) -> Result<Option<Found>, String> {
        if let Some(value) = self.ctx.entry_config_value(key) {
            return Ok(Some((format!("config.{key}"), value.to_string())));
        }
        if let Some(found) = self.first_var(vars)? {
            return Ok(Some(found));
        }
        Ok(self.shared(key))
    }

    /// `key` from the shared `exporter_config`, for an entry that does not set it.
    pub(super) fn shared(&self, key: &str) -> Option<Found> {
        let value = self.ctx.config_value(key)?;
        Some((format!("exporter_config.{key}"), value.to_string()))
    }

    /// A setting with the spec's two variables: `OTEL_EXPORTER_OTLP_TRACES_{suffix}`
    /// before `OTEL_EXPORTER_OTLP_{suffix}`.
    pub(super) fn otlp(&self, key: &str, suffix: &str) -> Result<Option<Found>, String> {
        let traces = format!("OTEL_EXPORTER_OTLP_TRACES_{suffix}");
        let generic = format!("OTEL_EXPORTER_OTLP_{suffix}");
        self.get(key, &[&traces, &generic])
    }

    /// A file setting, as [`otlp`](Self::otlp) finds it; a relative path from the
    /// configuration is taken against the config file's folder (a variable's stays
    /// relative to the working folder).
    pub(super) fn otlp_path(&self, key: &str, suffix: &str) -> Result<Option<Found>, String> {
        Ok(self.otlp(key, suffix)?.map(|(source, value)| {
            if from_config(&source) {
                let path = self.ctx.resolve_path(&value);
                (source, path.to_string_lossy().into_owned())
            } else {
                (source, value)
            }
        }))
    }

    /// The first of `vars` that is set, with its name.
    pub(super) fn first_var(&self, vars: &[&str]) -> Result<Option<Found>, String> {
        for name in vars {
            if let Some(value) = (self.env)(name)? {
                return Ok(Some((name.to_string(), value)));
            }
        }
        Ok(None)
    }
}
