//! What a factory is called with: the context, and through it the host's services.
//! Both are prefix types: a later minor appends fields after `last_prefix_field`, and
//! a plugin reads those as `Option` (`None` from an older host).

use std::fmt;

use abi_stable::{
    prefix_type::{PrefixRef, WithMetadata},
    std_types::{RSlice, RStr},
    StableAbi,
};

use crate::span::{KeyValue, StrPair};
use crate::tree::SettingNode;

mod reader;

pub use reader::{Logger, PluginContext};

open_enum! {
    /// How important a plugin's log message is.
    LogLevel {
        /// Something failed: spans were lost or a setting was refused.
        ERROR = 0 => "ERROR",
        /// Something the operator should look at; the plugin carries on.
        WARN = 1 => "WARN",
        /// Normal operation worth a line: what was started, shutdown summaries.
        INFO = 2 => "INFO",
        /// Detail for troubleshooting.
        DEBUG = 3 => "DEBUG",
    } unknown => "INFO"
}

/// The host's log entry point: `(level, target, message)`. The host catches its own
/// panics in it and never blocks in it, so plugins may call it from any thread.
pub type LogFn = extern "C" fn(LogLevel, RStr<'_>, RStr<'_>);

/// The host's services: a table of `extern "C"` functions the context points to.
/// Later minors append services (metrics, ...) at the end; a plugin reads them as
/// `Option`, `None` from a host older than the service.
#[repr(C)]
#[derive(StableAbi, Debug)]
#[sabi(kind(Prefix(prefix_ref = HostServicesRef, prefix_fields = HostServices_Prefix)))]
pub struct HostServices {
    /// A [`LogFn`] (written out: the derive needs the type itself).
    #[sabi(last_prefix_field)]
    pub log: extern "C" fn(LogLevel, RStr<'_>, RStr<'_>),
    /// The next-minor probe: one appended service (hidden, for compatibility tests).
    #[cfg(feature = "next-minor-probe")]
    #[doc(hidden)]
    pub next_minor_probe: extern "C" fn() -> u32,
}

impl HostServices {
    /// The services as a host of this version offers them, around its log function.
    pub const fn new(log: LogFn) -> Self {
        HostServices {
            log,
            #[cfg(feature = "next-minor-probe")]
            next_minor_probe: probe_service,
        }
    }
}

#[cfg(feature = "next-minor-probe")]
extern "C" fn probe_service() -> u32 {
    crate::PROBE_PRESENT
}

impl HostServicesRef {
    /// The probe service's answer: `None` from a host built without it.
    #[cfg(feature = "next-minor-probe")]
    #[doc(hidden)]
    pub fn call_next_minor_probe(&self) -> Option<u32> {
        self.next_minor_probe().map(|probe| probe())
    }

    /// For hosts: a reference to services the host keeps in a `static`.
    pub const fn from_static(services: &'static WithMetadata<HostServices>) -> Self {
        HostServicesRef(services.static_as_prefix())
    }
}

impl fmt::Debug for HostServicesRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostServicesRef")
            .field("log", &self.log())
            .finish_non_exhaustive()
    }
}

/// The ABI form of what a factory is told about the service it is installed in.
/// Plugins read it through [`PluginContext`].
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PluginContextRef)))]
pub struct PluginContextFields<'a> {
    /// The `module:function` entry that named this factory.
    pub import_path: RStr<'a>,
    /// The service's `service.name`, taken from the resource.
    pub service_name: RStr<'a>,
    /// The attributes of the resource the service's spans belong to.
    pub resource_attributes: RSlice<'a, KeyValue<'a>>,
    /// The entry's own `config` laid over the shared `exporter_config`.
    pub config: RSlice<'a, StrPair<'a>>,
    /// The keys of the entry's own `config` (a subset of `config`'s keys), so that a
    /// plugin can reject misspelt settings without refusing shared ones.
    pub entry_config_keys: RSlice<'a, RStr<'a>>,
    /// The host's services (its log first).
    #[sabi(last_prefix_field)]
    pub host: HostServicesRef,
    /// The spanplug-api version the host was built against (read as `Option`, like
    /// every field after `host`).
    pub host_api_version: RStr<'a>,
    /// True when the host only checks the config; see [`PluginContext::is_dry_run`].
    pub dry_run: bool,
    /// (since 0.3.1) The folder of the config file that named this entry, absolute;
    /// empty when the config came from no file. See [`PluginContext::config_dir`].
    pub config_dir: RStr<'a>,
    /// The entry's own settings, structured (maps, lists, numbers, booleans), as a
    /// preorder of nodes; empty when the entry has none. (Since 0.3.1; read through
    /// [`PluginContext::settings`].)
    pub settings: RSlice<'a, SettingNode<'a>>,
    /// The next-minor probe: one appended field (hidden, for compatibility tests).
    #[cfg(feature = "next-minor-probe")]
    #[doc(hidden)]
    pub next_minor_probe: u32,
}

/// What a host tells a factory, borrowed for the call; see [`PluginContextFields::new`].
/// Its `Debug` lists the config's keys only: values may be credentials.
#[derive(Clone, Copy)]
pub struct ContextParts<'a> {
    /// The `module:function` entry that named this factory.
    pub import_path: &'a str,
    /// The service's `service.name`.
    pub service_name: &'a str,
    /// The resource's attributes.
    pub resource_attributes: &'a [KeyValue<'a>],
    /// The entry's config over the shared `exporter_config`.
    pub config: &'a [StrPair<'a>],
    /// The keys of the entry's own `config`.
    pub entry_config_keys: &'a [RStr<'a>],
    /// Whether the host only checks the config.
    pub dry_run: bool,
}

impl<'a> PluginContextFields<'a> {
    /// The context as a host of this version fills it (`host_api_version` is this
    /// crate's version).
    pub fn new(parts: ContextParts<'a>, host: HostServicesRef) -> Self {
        PluginContextFields {
            import_path: parts.import_path.into(),
            service_name: parts.service_name.into(),
            resource_attributes: parts.resource_attributes.into(),
            config: parts.config.into(),
            entry_config_keys: parts.entry_config_keys.into(),
            host,
            host_api_version: crate::API_VERSION.into(),
            dry_run: parts.dry_run,
            config_dir: "".into(),
            settings: RSlice::from_slice(&[]),
            #[cfg(feature = "next-minor-probe")]
            next_minor_probe: crate::PROBE_PRESENT,
        }
    }

    /// (since 0.3.1) Names the folder of the config file the entry came from.
    pub fn with_config_dir(mut self, dir: &'a str) -> Self {
        self.config_dir = dir.into();
        self
    }

    /// The entry's structured settings, from [`SettingTree::nodes`](crate::SettingTree::nodes)
    /// (since 0.3.1).
    pub fn with_settings(mut self, nodes: &'a [SettingNode<'a>]) -> Self {
        self.settings = nodes.into();
        self
    }

    fn parts(&self) -> ContextParts<'a> {
        ContextParts {
            import_path: self.import_path.as_str(),
            service_name: self.service_name.as_str(),
            resource_attributes: self.resource_attributes.as_slice(),
            config: self.config.as_slice(),
            entry_config_keys: self.entry_config_keys.as_slice(),
            dry_run: self.dry_run,
        }
    }
}

impl fmt::Debug for ContextParts<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let config_keys: Vec<&str> = self.config.iter().map(|pair| pair.key.as_str()).collect();
        f.debug_struct("ContextParts")
            .field("import_path", &self.import_path)
            .field("service_name", &self.service_name)
            .field("resource_attributes", &self.resource_attributes)
            .field("config_keys", &config_keys)
            .field("entry_config_keys", &self.entry_config_keys)
            .field("dry_run", &self.dry_run)
            .finish()
    }
}

/// Config values may be credentials: shown through [`ContextParts`], keys only.
impl fmt::Debug for PluginContextFields<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PluginContextFields")
            .field("parts", &self.parts())
            .field("host", &self.host)
            .field("host_api_version", &self.host_api_version)
            .finish_non_exhaustive()
    }
}

/// Lends `fields` to `f` as the reference a factory receives; for hosts and tests.
///
/// The reference does not outlive the call:
///
/// ```compile_fail
/// use spanplug_api::{with_context, PluginContextFields, PluginContextRef};
///
/// fn keep(fields: PluginContextFields<'static>) -> PluginContextRef<'static> {
///     with_context(fields, |ctx| ctx) // error: the reference escapes the closure
/// }
/// ```
pub fn with_context<R>(
    fields: PluginContextFields<'_>,
    f: impl for<'c> FnOnce(PluginContextRef<'c>) -> R,
) -> R {
    let fields = WithMetadata::new(fields);
    // abi_stable documents `from_raw` for pointers that live for the rest of the
    // program because `PrefixRef` has no lifetime; here the reference's type carries one.
    // SAFETY: `fields` was made by `WithMetadata::new` and outlives the call; `f` must
    // accept the reference for any `'c` (and `R` cannot name `'c`), so neither `f` nor
    // a plugin it calls can keep it past this call.
    f(PluginContextRef(unsafe { PrefixRef::from_raw(&fields) }))
}

/// Names under this prefix are reserved for the host: a config file cannot set them
/// and [`PluginContext::config`] does not list them. (0.2 carried host settings
/// here; 0.3 passes them as context fields.)
pub const HOST_SETTING_PREFIX: &str = "spanplug.";
