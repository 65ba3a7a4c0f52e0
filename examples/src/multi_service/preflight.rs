//! What the demo does around the five processes: every factory called in dry-run
//! before any process starts, and afterwards the span files looked for wherever the
//! entries sent them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use spanplug_config::TracingConfig;
use spanplug_loader::{load_import_path, OnError, PluginSearchPath};
use spanplug_sdk::span_view::ordered_resource;

use super::Role;

/// Calls every entry's factory in dry-run (validating, creating nothing) as each
/// role's process will, so that a factory error stops the demo before it starts any
/// process; under `on_error: warn` a failure is a warning, as the processes skip it.
/// `config` has the environment the processes get already applied.
pub fn check_factories(config: &TracingConfig) -> anyhow::Result<()> {
    if !config.enabled {
        return Ok(());
    }
    let search = PluginSearchPath::new(&config.plugin_path);
    let mut warned = BTreeSet::new();
    for role in Role::ALL {
        let config = config.clone().with_service_name(role.deployment());
        let resource = Arc::new(ordered_resource(&spanplug_sdk::resource(&config)));
        let input = config.factory_input(&resource).dry_run();
        for entry in config.entries() {
            match load_import_path(&entry, &search, config.pins(), &input) {
                Ok(loaded) => {
                    for processor in loaded.processors {
                        let _ = processor.shutdown(config.shutdown_timeout);
                    }
                }
                Err(error) if config.on_error == OnError::Warn => {
                    if warned.insert(entry.import_path.clone()) {
                        eprintln!("demo: warning: the services will skip it: {error}");
                    }
                }
                Err(error) => {
                    return Err(error).context(format!(
                        "{} could not start its tracing, so the demo started nothing",
                        role.deployment()
                    ))
                }
            }
        }
    }
    Ok(())
}

/// The folders span files may go to: `default_dir` (the shared `log_dir`) and each
/// entry's own `log_dir`, relative ones taken against the config file's folder as
/// console_file takes them.
pub fn log_dirs(config: &TracingConfig, default_dir: &Path) -> Vec<PathBuf> {
    let mut dirs = vec![default_dir.to_path_buf()];
    for entry in &config.exporter_import_path {
        let Some(dir) = entry.config.get("log_dir").filter(|d| !d.is_empty()) else {
            continue;
        };
        let dir = match &config.config_dir {
            Some(base) if Path::new(dir).is_relative() => base.join(dir),
            _ => PathBuf::from(dir),
        };
        if !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    dirs
}

/// The span files under `<dir>/spans` of `dirs` changed since `since` (a second
/// earlier, for file systems' coarse clocks): this run's, not an earlier run's.
pub fn span_files_since(dirs: &[PathBuf], since: SystemTime) -> Vec<PathBuf> {
    let since = since - Duration::from_secs(1);
    let mut files = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir.join("spans")) else {
            continue;
        };
        let mut found: Vec<PathBuf> = entries
            .flatten()
            .filter(|entry| {
                let modified = entry.metadata().and_then(|m| m.modified());
                modified.is_ok_and(|time| time >= since)
            })
            .map(|entry| entry.path())
            .collect();
        found.sort();
        files.append(&mut found);
    }
    files
}
