//! From an `exporter_import_path` entry to running processors.

use std::collections::BTreeMap;
use std::path::PathBuf;

use opentelemetry_sdk::Resource;
use spanplug_api::{PluginContext, Processor, StrPair};

use crate::error::LoadError;
use crate::import_path::{ImportPath, ModuleRef};
use crate::loader::{Plugin, PluginSearchPath};
use crate::plugin_log::host_log;
use crate::trust;
use crate::view::{key_values, ordered_resource, string_arrays};

/// What every factory is told about the service.
pub struct FactoryInput<'a> {
    pub resource: &'a Resource,
    pub exporter_config: &'a BTreeMap<String, String>,
}

impl FactoryInput<'_> {
    /// `service.name` from the resource; the SDK always sets one.
    pub fn service_name(&self) -> String {
        self.resource
            .get(&opentelemetry::Key::from_static_str("service.name"))
            .map(|v| v.as_str().into_owned())
            .unwrap_or_else(|| "unknown_service".into())
    }
}

/// The processors one import path produced.
pub struct LoadedProcessors {
    pub import_path: String,
    pub library: PathBuf,
    pub api_version: String,
    pub processors: Vec<Processor>,
}

/// Resolves, loads, checks and calls one `module:function`, logging the result once.
/// `pins` maps module names or library paths to the SHA-256 the file must have.
pub fn load_import_path(
    import_path: &str,
    search: &PluginSearchPath,
    pins: &BTreeMap<String, String>,
    input: &FactoryInput<'_>,
) -> Result<LoadedProcessors, LoadError> {
    let parsed = ImportPath::parse(import_path)?;
    let library = search.resolve(&parsed.module)?;
    let pin = match &parsed.module {
        ModuleRef::Name(name) => pins.get(name),
        ModuleRef::File(path) => pins.get(&path.to_string_lossy().into_owned()),
    };
    if let Some(expected) = pin {
        trust::check_sha256(&library, expected)?;
    }
    let plugin = Plugin::load(&library)?;

    let service_name = input.service_name();
    let resource = ordered_resource(input.resource);
    let arrays = string_arrays(resource.attributes().iter().map(|kv| &kv.value));
    let resource_attributes = key_values(
        resource
            .attributes()
            .iter()
            .map(|kv| (kv.key.as_str(), &kv.value)),
        &arrays,
    );
    let config: Vec<StrPair<'_>> = input
        .exporter_config
        .iter()
        .map(|(key, value)| StrPair {
            key: key.as_str().into(),
            value: value.as_str().into(),
        })
        .collect();
    let canonical = parsed.to_string();
    let ctx = PluginContext {
        import_path: canonical.as_str().into(),
        service_name: service_name.as_str().into(),
        resource_attributes: resource_attributes.as_slice().into(),
        config: config.as_slice().into(),
        log: host_log,
    };
    let processors = plugin.create(&parsed.function, &ctx)?;
    let names: Vec<String> = processors.iter().map(Processor::name).collect();
    log::info!(
        "loaded span processor plugin {canonical} from {} (spanplug-api {}): {} processor(s): {}",
        library.display(),
        plugin.api_version(),
        processors.len(),
        names.join(", ")
    );
    Ok(LoadedProcessors {
        import_path: canonical,
        library,
        api_version: plugin.api_version().to_string(),
        processors,
    })
}
