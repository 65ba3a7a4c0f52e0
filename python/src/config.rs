//! The tracing config a Python front end asked for.

use std::path::PathBuf;

use pyo3::PyErr;
use spanplug_config::TracingConfig;

use crate::error;

/// The variable naming a service YAML whose `tracing_config` section to read.
const CONFIG_FILE_VAR: &str = "SPANPLUG_CONFIG";

/// The config read as every spanplug host reads it: the YAML (given as text or a
/// file, else the file `SPANPLUG_CONFIG` names), then the environment overrides,
/// then the import paths given in code.
pub(crate) fn read_config(
    import_paths: Option<Vec<String>>,
    config_yaml: Option<&str>,
    config_file: Option<PathBuf>,
) -> Result<TracingConfig, PyErr> {
    let config_file = config_file.or_else(|| std::env::var_os(CONFIG_FILE_VAR).map(PathBuf::from));
    let config = match (config_yaml, config_file) {
        (Some(text), _) => TracingConfig::from_yaml_str(text),
        (None, Some(path)) => TracingConfig::from_yaml_file(path),
        (None, None) => Ok(TracingConfig::default()),
    };
    let mut config = config
        .and_then(TracingConfig::with_env_overrides)
        .map_err(error)?;
    if let Some(paths) = import_paths {
        config.exporter_import_path.clear();
        for path in paths {
            config = config.with_exporter_import_path(path);
        }
    }
    Ok(config)
}
