//! What a config asks of the loader: the factory input and the loaded stages, the
//! same for every front end (the SDK adapter, the CLI's check, the Python package).

use std::sync::Arc;

use spanplug_loader::span::{reserve_view_buffers, ResourceRecord};
use spanplug_loader::{FactoryInput, LoadError, LoadPlan, PluginSearchPath, Stages};

use crate::TracingConfig;

/// The `service.name` factories are told when the resource has none (the SDKs'
/// default).
const UNKNOWN_SERVICE: &str = "unknown_service";

impl TracingConfig {
    /// What every factory of this config is told: `resource` (in the order it has),
    /// its `service.name`, `exporter_config`, `factory_timeout` and `config_dir`.
    pub fn factory_input<'a>(&'a self, resource: &'a Arc<ResourceRecord>) -> FactoryInput<'a> {
        let service_name = resource.get_str("service.name").unwrap_or(UNKNOWN_SERVICE);
        let input = FactoryInput::new(Arc::clone(resource), service_name, &self.exporter_config)
            .with_timeout(self.factory_timeout);
        match &self.config_dir {
            Some(dir) => input.with_config_dir(dir),
            None => input,
        }
    }

    /// Loads every import path of this config (as it is: environment overrides are
    /// the caller's to apply) and calls its factory with
    /// [`factory_input`](Self::factory_input), as `on_error` says.
    pub fn load_stages(&self, resource: &Arc<ResourceRecord>) -> Result<Stages, LoadError> {
        let search = PluginSearchPath::new(&self.plugin_path);
        let input = self.factory_input(resource);
        let entries = self.entries();
        let plan = LoadPlan::new(&entries, &search, self.pins(), &input)
            .with_on_error(self.on_error)
            .with_shutdown_timeout(self.shutdown_timeout);
        reserve_view_buffers();
        Stages::load(&plan)
    }
}
