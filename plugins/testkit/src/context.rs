//! A factory's context built in a test, and the two ways to run the factory with it:
//! natively ([`TestContext::run`]) or from the built library ([`TestContext::load_built`]).

use std::collections::BTreeMap;
use std::fmt::Display;
use std::path::PathBuf;
use std::sync::Arc;

use spanplug_api::abi_stable::std_types::RStr;
use spanplug_api::{
    run_factory, with_context, ContextParts, PluginContext, PluginContextFields, Processor, StrPair,
};
use spanplug_loader::span::{Attribute, ResourceRecord};
use spanplug_loader::{
    ConfigMap, FactoryInput, ImportPath, LoadPlan, ModuleRef, Pins, PluginSearchPath,
    ProcessorEntry, Stages,
};

use crate::host_log;
use crate::pipeline::Pipeline;

/// What a factory is told: its import path, the service, the entry's own `config`
/// and the shared `exporter_config`, and whether the host only checks.
#[derive(Clone, Debug)]
pub struct TestContext {
    import_path: String,
    service_name: String,
    resource: Vec<(String, String)>,
    entry: Vec<(String, String)>,
    shared: Vec<(String, String)>,
    dry_run: bool,
}

impl TestContext {
    /// The context of the entry `module:function` in service `test-service`, with no
    /// settings.
    pub fn new(import_path: &str) -> Self {
        TestContext {
            import_path: import_path.to_string(),
            service_name: "test-service".into(),
            resource: Vec::new(),
            entry: Vec::new(),
            shared: Vec::new(),
            dry_run: false,
        }
    }

    /// The service's `service.name`.
    pub fn service_name(mut self, name: &str) -> Self {
        self.service_name = name.to_string();
        self
    }

    /// A resource attribute besides `service.name` (`deployment.environment`, ...).
    pub fn resource(mut self, key: &str, value: &str) -> Self {
        self.resource.push((key.into(), value.into()));
        self
    }

    /// A setting of the entry's own `config` (what `check_keys` checks).
    pub fn config(mut self, key: &str, value: impl Display) -> Self {
        self.entry.push((key.into(), value.to_string()));
        self
    }

    /// A setting of the shared `exporter_config` (under the entry's own).
    pub fn shared(mut self, key: &str, value: impl Display) -> Self {
        self.shared.push((key.into(), value.to_string()));
        self
    }

    /// As `spanplug check` calls factories: validate, create nothing.
    pub fn dry_run(mut self) -> Self {
        self.dry_run = true;
        self
    }

    /// Calls `factory` natively (panics caught, as the exported entry point does) and
    /// returns its processors in a [`Pipeline`], or the factory's own error message
    /// (a service shows it after `factory module:function failed: `).
    pub fn run<E: Display>(
        &self,
        factory: fn(&PluginContext<'_>) -> Result<Vec<Processor>, E>,
    ) -> Result<Pipeline, String> {
        host_log::capture_loader_log();
        let mark = host_log::mark();
        let resource = self.resource_record();
        let config = self.merged_config();
        let config: Vec<StrPair<'_>> = config
            .iter()
            .map(|(key, value)| StrPair {
                key: key.as_str().into(),
                value: value.as_str().into(),
            })
            .collect();
        let entry_keys: Vec<RStr<'_>> = self.entry.iter().map(|(k, _)| k.as_str().into()).collect();
        let parts = ContextParts {
            import_path: &self.import_path,
            service_name: &self.service_name,
            resource_attributes: resource.view().attributes.as_slice(),
            config: &config,
            entry_config_keys: &entry_keys,
            dry_run: self.dry_run,
        };
        let fields = PluginContextFields::new(parts, host_log::host_services());
        let processors = with_context(fields, |ctx| run_factory(ctx, factory)).into_result()?;
        let mut stages = Stages::default();
        stages.append(&self.import_path, processors.into());
        Ok(Pipeline::new(stages, &self.import_path, resource, mark))
    }

    /// Loads the library this crate built (`lib<module>.so`, see [`built_library`])
    /// through the loader a service uses (search path, trust, ELF and version checks,
    /// the factory on its own thread with a timeout) and calls the factory. The error
    /// is the host's, as a service would report it.
    pub fn load_built(&self) -> Result<Pipeline, String> {
        host_log::capture_loader_log();
        let mark = host_log::mark();
        let parsed = ImportPath::parse(&self.import_path).map_err(|e| e.to_string())?;
        let ModuleRef::Name(module) = &parsed.module else {
            return Err(format!(
                "{}: load_built takes `module:function`, not a path",
                self.import_path
            ));
        };
        let library = built_library(module)?;
        let folder = library.parent().map(PathBuf::from).unwrap_or_default();
        let resource = self.resource_record();
        let mut entry = ProcessorEntry::new(self.import_path.clone());
        for (key, value) in &self.entry {
            entry = entry.with_config(key.clone(), value.clone());
        }
        let shared: ConfigMap = self.shared.iter().cloned().collect();
        let mut input = FactoryInput::new(Arc::clone(&resource), &self.service_name, &shared);
        if self.dry_run {
            input = input.dry_run();
        }
        let entries = [entry];
        let search = PluginSearchPath::new(&[folder]);
        let no_pins = BTreeMap::new();
        let pins = Pins {
            sha256: &no_pins,
            required: false,
        };
        let stages = Stages::load(&LoadPlan::new(&entries, &search, pins, &input))
            .map_err(|e| e.to_string())?;
        Ok(Pipeline::new(stages, &self.import_path, resource, mark))
    }

    fn resource_record(&self) -> Arc<ResourceRecord> {
        let attributes =
            std::iter::once(Attribute::new("service.name", self.service_name.as_str()))
                .chain(
                    self.resource
                        .iter()
                        .map(|(key, value)| Attribute::new(key, value.as_str())),
                )
                .collect();
        Arc::new(ResourceRecord::new(attributes, ""))
    }

    /// The entry's settings over the shared ones, as the host lays them.
    fn merged_config(&self) -> ConfigMap {
        let entry: ConfigMap = self.entry.iter().cloned().collect();
        entry.over(&self.shared.iter().cloned().collect())
    }
}

/// The library cargo built for `module` in this test's target folder:
/// `target/<profile>/deps/lib<module>.so` (beside an integration test), or the copy
/// in `target/<profile>/`. The error names both places and the likely cause.
pub fn built_library(module: &str) -> Result<PathBuf, String> {
    let file = format!(
        "{}{module}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    let exe = std::env::current_exe().map_err(|e| format!("this test's path: {e}"))?;
    let deps = exe.parent().map(PathBuf::from).unwrap_or_default();
    let candidates = [deps.join(&file), deps.join("..").join(&file)];
    candidates
        .iter()
        .find(|path| path.is_file())
        .cloned()
        .ok_or_else(|| {
            format!(
                "{file} not found (searched {} and {}): build the plugin as `crate-type = [\"cdylib\", \"rlib\"]` and run this from an integration test under tests/",
                candidates[0].display(),
                candidates[1].display()
            )
        })
}
