//! The section's values read as what each key expects, with errors that name the
//! key and say what is expected in words.

use serde_yaml_ng::Value;
use spanplug_loader::{ConfigMap, ProcessorEntry};

use crate::substitute::substitute_env;

pub(crate) fn yaml_bool(key: &str, value: &Value) -> Result<bool, String> {
    value
        .as_bool()
        .ok_or_else(|| format!("{key}: expected true or false, got {}", yaml_kind(value)))
}

pub(crate) fn yaml_string(key: &str, value: &Value) -> Result<String, String> {
    value
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("{key}: expected a string, got {}", yaml_kind(value)))
}

/// One string or a list of strings.
pub(crate) fn yaml_strings(key: &str, value: &Value) -> Result<Vec<String>, String> {
    match value {
        Value::Sequence(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| yaml_string(&format!("{key}[{i}]"), item))
            .collect(),
        Value::Null => Ok(Vec::new()),
        one => Ok(vec![yaml_string(key, one)?]),
    }
}

/// The keys an `exporter_import_path` entry map may have.
const ENTRY_KEYS: &str = "import_path, config";

/// A config map's value as text: strings, numbers and booleans are accepted.
fn scalar_text(key: &str, value: &Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Null => Ok(String::new()),
        other => Err(format!(
            "{key}: expected a string, number or boolean, got {}",
            yaml_kind(other)
        )),
    }
}

pub(crate) fn yaml_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a map",
        Value::Tagged(_) => "a tagged value",
    }
}

/// A `key: value` map of settings, with `${...}` references resolved.
pub(crate) fn config_map(key: &str, value: &Value) -> Result<ConfigMap, String> {
    let Value::Mapping(map) = value else {
        return Err(format!(
            "{key}: expected a map of settings, got {}",
            yaml_kind(value)
        ));
    };
    let mut config = ConfigMap::default();
    for (name, value) in map {
        let Some(name) = name.as_str() else {
            return Err(format!("{key}: setting names must be strings"));
        };
        let setting = format!("{key}.{name}");
        if name.starts_with(spanplug_api::HOST_SETTING_PREFIX) {
            return Err(format!(
                "{setting}: names starting with `{}` are reserved for the host",
                spanplug_api::HOST_SETTING_PREFIX
            ));
        }
        let text = scalar_text(&setting, value)?;
        config.insert(name.to_string(), substitute_env(&setting, &text)?);
    }
    Ok(config)
}

/// One `exporter_import_path` entry: `"module:function"` or
/// `{import_path: "module:function", config: {...}}`.
fn exporter_entry(position: usize, value: &Value) -> Result<ProcessorEntry, String> {
    let here = format!("tracing_config.exporter_import_path[{position}]");
    match value {
        Value::String(path) => Ok(ProcessorEntry::new(path.clone())),
        Value::Mapping(map) => {
            let mut import_path = None;
            let mut config = ConfigMap::default();
            for (key, value) in map {
                match key.as_str() {
                    Some("import_path") => match value {
                        Value::String(path) => import_path = Some(path.clone()),
                        other => {
                            return Err(format!(
                                "{here}.import_path: expected a \"module:function\" string, got {}",
                                yaml_kind(other)
                            ))
                        }
                    },
                    Some("config") if value.is_null() => {}
                    Some("config") => config = config_map(&format!("{here}.config"), value)?,
                    _ => {
                        return Err(format!(
                            "{here}: unknown key {}; valid keys: {ENTRY_KEYS}",
                            key.as_str().map_or_else(|| format!("{key:?}"), |k| format!("`{k}`"))
                        ))
                    }
                }
            }
            let import_path = import_path.ok_or_else(|| {
                format!("{here}: an entry map needs `import_path` (\"module:function\"); valid keys: {ENTRY_KEYS}")
            })?;
            let mut entry = ProcessorEntry::new(import_path);
            entry.config = config;
            Ok(entry)
        }
        other => Err(format!(
            "{here}: expected a \"module:function\" string or a map with `import_path` and `config`, got {}",
            yaml_kind(other)
        )),
    }
}

pub(super) fn exporter_entries(value: &Value) -> Result<Vec<ProcessorEntry>, String> {
    match value {
        Value::Sequence(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| exporter_entry(i, item))
            .collect(),
        Value::Null => Ok(Vec::new()),
        one => exporter_entry(0, one).map(|entry| vec![entry]),
    }
}
