//! From an `exporter_import_path` entry to running processors.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use abi_stable::std_types::RStr;
use spanplug_api::{
    with_context, ContextParts, PluginContextFields, Processor, SettingTree, StrPair,
};

use crate::entry::{ConfigMap, ProcessorEntry};
use crate::error::{LoadError, Repr};
use crate::import_path::{ImportPath, ModuleRef};
use crate::library::{Plugin, PluginSearchPath};
use crate::plugin_log::host_services;
use crate::span::ResourceRecord;

/// What every factory is told about the service.
#[derive(Debug)]
#[non_exhaustive]
pub struct FactoryInput<'a> {
    /// The service's resource, as every span will carry it.
    pub resource: Arc<ResourceRecord>,
    /// `service.name` of that resource.
    pub service_name: &'a str,
    /// Shared by every entry, under each entry's own `config`.
    pub exporter_config: &'a ConfigMap,
    /// How long a factory may take before its call is abandoned.
    pub timeout: Duration,
    /// Only checking (`spanplug check`): factories validate but create nothing.
    pub dry_run: bool,
    /// The config file's folder, told to factories (`PluginContext::config_dir`); only
    /// a UTF-8 folder is told.
    pub config_dir: Option<&'a Path>,
}

impl<'a> FactoryInput<'a> {
    /// For a service with this resource and shared settings; factories get 10 s.
    pub fn new(
        resource: Arc<ResourceRecord>,
        service_name: &'a str,
        exporter_config: &'a ConfigMap,
    ) -> Self {
        FactoryInput {
            resource,
            service_name,
            exporter_config,
            timeout: Duration::from_secs(10),
            dry_run: false,
            config_dir: None,
        }
    }

    /// The folder of the config file the entries came from.
    pub fn with_config_dir(mut self, dir: &'a Path) -> Self {
        self.config_dir = Some(dir);
        self
    }

    /// How long a factory may take before its call is abandoned.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Only checking: factories are asked to validate and create nothing.
    pub fn dry_run(mut self) -> Self {
        self.dry_run = true;
        self
    }
}

/// The processors one import path produced.
#[derive(Debug)]
#[non_exhaustive]
pub struct LoadedProcessors {
    /// The entry's `module:function`, as resolved.
    pub import_path: String,
    /// The library file it came from.
    pub library: PathBuf,
    /// The spanplug-api version the plugin was built against.
    pub api_version: String,
    /// What the factory returned, in order.
    pub processors: Vec<Processor>,
}

/// A SHA-256 pin must be 64 hex digits: a typo should fail when the config is read,
/// not later as a mismatch. [`load_import_path`] checks every pin it uses; a front
/// end that reads pins (spanplug-config) checks them as it reads, naming `key`.
pub fn check_pin(key: &str, pin: &str) -> Result<(), String> {
    let pin = pin.trim();
    if pin.len() == 64 && pin.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(format!(
            "{key}: expected a SHA-256 of 64 hex digits (as `sha256sum` prints), got {} characters",
            pin.chars().count()
        ))
    }
}

/// The SHA-256 pins plugins are checked against before loading.
#[derive(Clone, Copy, Debug)]
pub struct Pins<'a> {
    /// Module names or library paths to the SHA-256 (hex) the file must have.
    pub sha256: &'a BTreeMap<String, String>,
    /// Refuse a plugin that has no pin.
    pub required: bool,
}

/// Resolves, loads, checks and calls one entry's `module:function`, logging the result
/// once.
pub fn load_import_path(
    entry: &ProcessorEntry,
    search: &PluginSearchPath,
    pins: Pins<'_>,
    input: &FactoryInput<'_>,
) -> Result<LoadedProcessors, LoadError> {
    let parsed = ImportPath::parse(&entry.import_path)?;
    let (plugin, library) = load_pinned_module(&parsed.module, search, pins)?;
    let canonical = parsed.to_string();
    let call = FactoryCall {
        import_path: canonical.clone(),
        function: parsed.function.clone(),
        service_name: input.service_name.to_string(),
        resource: Arc::clone(&input.resource),
        config: entry.config.over(input.exporter_config),
        entry_keys: entry.config.keys().cloned().collect(),
        settings: entry.settings.clone().unwrap_or_default(),
        dry_run: input.dry_run,
        config_dir: input.config_dir.and_then(Path::to_str).map(str::to_owned),
    };
    let api_version = plugin.api_version().to_string();
    let processors = call_with_timeout(plugin, call, input.timeout)?;
    let names: Vec<String> = processors.iter().map(Processor::name).collect();
    log::info!(
        "loaded span processor plugin {canonical} from {} (spanplug-api {}): {} processor(s): {}",
        library.display(),
        api_version,
        processors.len(),
        names.join(", ")
    );
    Ok(LoadedProcessors {
        import_path: canonical,
        library,
        api_version,
        processors,
    })
}

/// Finds the module's library, checks it against its pin (or refuses it unpinned when
/// pins are required) and loads it.
fn load_pinned_module(
    module: &ModuleRef,
    search: &PluginSearchPath,
    pins: Pins<'_>,
) -> Result<(Plugin, PathBuf), LoadError> {
    let library = search.resolve(module)?;
    let (key, pin) = match module {
        ModuleRef::Name(name) => (name.clone(), pins.sha256.get(name)),
        ModuleRef::File(path) => {
            let key = path.to_string_lossy().into_owned();
            let pin = pins.sha256.get(&key);
            (key, pin)
        }
    };
    if let Some(pin) = pin {
        check_pin(&format!("exporter_sha256.{key}"), pin).map_err(|reason| {
            LoadError::from(Repr::BadPin {
                module: key.clone(),
                reason,
            })
        })?;
    } else if pins.required {
        return Err(LoadError::from(Repr::Unpinned {
            module: key,
            path: library,
        }));
    }
    let plugin = Plugin::load_pinned(&library, pin.map(String::as_str))?;
    Ok((plugin, library))
}

/// Runs the factory call on its own thread so that one that blocks cannot hang the
/// service's start-up: after `timeout` the call is abandoned and reported.
fn call_with_timeout(
    plugin: Plugin,
    call: FactoryCall,
    timeout: Duration,
) -> Result<Vec<Processor>, LoadError> {
    let import_path = call.import_path.clone();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("spanplug-factory".into())
        .spawn(move || {
            // Too late: the load gave up on this factory, so stop what it started.
            if let Err(std::sync::mpsc::SendError(Ok(processors))) = sender.send(call.run(&plugin))
            {
                for processor in processors {
                    let _ = processor.shutdown(Duration::from_secs(1));
                }
            }
        })
        .map_err(|e| {
            LoadError::from(Repr::FactoryFailed {
                import_path: import_path.clone(),
                message: format!("cannot start a thread for it: {e}"),
            })
        })?;
    match receiver.recv_timeout(timeout) {
        Ok(result) => result,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            Err(LoadError::from(Repr::FactoryTimeout {
                import_path,
                timeout,
            }))
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            Err(LoadError::from(Repr::FactoryFailed {
                import_path,
                message: "the call ended without an answer".into(),
            }))
        }
    }
}

/// What a factory is called with, owned, so the call can run on its own thread.
struct FactoryCall {
    import_path: String,
    function: String,
    service_name: String,
    resource: Arc<ResourceRecord>,
    config: ConfigMap,
    entry_keys: Vec<String>,
    settings: SettingTree,
    dry_run: bool,
    config_dir: Option<String>,
}

impl FactoryCall {
    fn run(&self, plugin: &Plugin) -> Result<Vec<Processor>, LoadError> {
        let config: Vec<StrPair<'_>> = self
            .config
            .iter()
            .map(|(key, value)| StrPair {
                key: key.as_str().into(),
                value: value.as_str().into(),
            })
            .collect();
        let entry_keys: Vec<RStr<'_>> = self.entry_keys.iter().map(|k| k.as_str().into()).collect();
        let parts = ContextParts {
            import_path: &self.import_path,
            service_name: &self.service_name,
            // The same view every span carries, built once with the resource.
            resource_attributes: self.resource.view().attributes.as_slice(),
            config: &config,
            entry_config_keys: &entry_keys,
            dry_run: self.dry_run,
        };
        let settings = self.settings.nodes();
        let mut fields = PluginContextFields::new(parts, host_services()).with_settings(&settings);
        if let Some(dir) = &self.config_dir {
            fields = fields.with_config_dir(dir);
        }
        let processors = with_context(fields, |ctx| plugin.create(&self.function, ctx));
        #[cfg(feature = "next-minor-probe")]
        if let Ok(processors) = &processors {
            crate::probe::report(plugin, &self.function, processors);
        }
        processors
    }
}
