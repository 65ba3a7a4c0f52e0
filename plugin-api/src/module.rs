//! What a plugin `.so` exports: one root module holding a table of named factories,
//! and the context a factory is called with. All three are prefix types: a later
//! interface adds fields at their end, and a reader built against an older one sees
//! them as `None`.

use std::fmt::Display;

use abi_stable::{
    declare_root_module_statics,
    library::RootModule,
    package_version_strings,
    sabi_types::VersionStrings,
    std_types::{RResult, RSlice, RStr, RString, RVec},
    StableAbi,
};

use crate::panic::catch;
use crate::processor::Processor;
use crate::span::{KeyValue, StrPair};

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
    /// A [`LogFn`] (written out: the derive needs the type itself).
    #[sabi(last_prefix_field)]
    pub log: extern "C" fn(LogLevel, RStr<'_>, RStr<'_>),
}

/// Settings under this prefix in [`PluginContextFields::config`] come from the host,
/// never from a config file: how a host tells plugins something new without changing
/// a layout (abi_stable refuses a host whose view of a type has more fields than the
/// plugin's). [`PluginContext::config`] does not list them.
pub const HOST_SETTING_PREFIX: &str = "spanplug.";
/// Host setting `true` when the host only checks the config; see
/// [`PluginContext::is_dry_run`].
pub const DRY_RUN_SETTING: &str = "spanplug.dry_run";

/// Everything a factory learns about the service it is installed in.
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
    /// wrote for one entry must beat other sources, such as the environment. It reads
    /// only what every 0.2 host sends, so it works with any of them. (Since 0.2.2.)
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

    /// Every setting this plugin receives, shared and its own (host settings under
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
    /// processors returned are shut down without seeing a span. False from hosts
    /// older than 0.2.1, which never ask for a dry run. (Since 0.2.1; carried as the
    /// host setting [`DRY_RUN_SETTING`].)
    pub fn is_dry_run(&self) -> bool {
        self.all_settings()
            .any(|(key, value)| key == DRY_RUN_SETTING && value == "true")
    }

    /// An owned logger for processors and their threads, tagged with the import path.
    pub fn logger(&self) -> Logger {
        Logger {
            log: self.fields.log(),
            target: self.import_path().to_string(),
        }
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

impl std::fmt::Debug for Logger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Logger")
            .field("target", &self.target)
            .finish()
    }
}

/// One named function of a plugin, as `exporter_import_path` refers to it.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = FactoryRef)))]
pub struct Factory {
    /// The function's name: what `exporter_import_path` gives after the colon.
    pub name: RStr<'static>,
    /// One line, shown by `spanplug list`.
    pub description: RStr<'static>,
    /// Never unwinds; reports failure as a message.
    pub create: extern "C" fn(PluginContextRef<'_>) -> RResult<RVec<Processor>, RString>,
    /// Whether the processors it returns transform spans (shown by `spanplug list`).
    #[sabi(last_prefix_field)]
    pub transforms: bool,
}

/// The root module of every plugin library.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PluginModRef)))]
pub struct PluginMod {
    /// The plugin crate's package name and version.
    pub package_name: RStr<'static>,
    /// The plugin crate's version (`CARGO_PKG_VERSION`).
    pub package_version: RStr<'static>,
    /// Every factory the plugin exports, in `export_plugin!` order.
    #[sabi(last_prefix_field)]
    pub factories: RSlice<'static, FactoryRef>,
}

impl RootModule for PluginModRef {
    declare_root_module_statics! {PluginModRef}
    const BASE_NAME: &'static str = "spanplug_plugin";
    const NAME: &'static str = "spanplug plugin";
    const VERSION_STRINGS: VersionStrings = package_version_strings!();
}

/// Calls an author's factory with panics caught; used by [`export_plugin!`](crate::export_plugin).
#[doc(hidden)]
pub fn run_factory<E: Display>(
    ctx: PluginContextRef<'_>,
    factory: fn(&PluginContext<'_>) -> Result<Vec<Processor>, E>,
) -> RResult<RVec<Processor>, RString> {
    let ctx = PluginContext::new(ctx);
    match catch(|| factory(&ctx).map_err(|e| e.to_string())) {
        Ok(Ok(processors)) => RResult::ROk(processors.into()),
        Ok(Err(message)) | Err(message) => RResult::RErr(message.into()),
    }
}

#[doc(hidden)]
#[macro_export]
macro_rules! __transforms {
    () => {
        false
    };
    (transformer) => {
        true
    };
}

/// Exports a plugin's factories. Each entry names a function
/// `fn(&PluginContext) -> Result<Vec<Processor>, E: Display>` and a one-line description;
/// the name is what `exporter_import_path` uses after the colon. Mark a factory whose
/// processors transform spans with `#[transformer]`.
///
/// ```
/// use spanplug_api::{PluginContext, Processor, SpanProcessor, SpanView};
///
/// struct CountSpans(std::sync::atomic::AtomicU64);
///
/// impl SpanProcessor for CountSpans {
///     fn name(&self) -> String {
///         "count_spans".into()
///     }
///     fn needs_on_start(&self) -> bool {
///         false
///     }
///     fn on_end(&self, span: &SpanView<'_>) {
///         if span.is_exportable() {
///             self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
///         }
///     }
/// }
///
/// fn counter(_ctx: &PluginContext<'_>) -> Result<Vec<Processor>, String> {
///     Ok(vec![Processor::new(CountSpans(Default::default()))])
/// }
///
/// spanplug_api::export_plugin! {
///     counter: "Counts ended spans",
/// }
/// # fn main() {}
/// ```
///
/// The generated entry points catch panics, so none reaches the host.
#[macro_export]
macro_rules! export_plugin {
    ($($(#[$role:ident])? $function:ident : $description:expr),+ $(,)?) => {
        #[doc(hidden)]
        mod __spanplug_plugin_exports {
            use $crate::abi_stable::{
                library::{CheckTypeLayout, LibHeader, RootModuleResult},
                prefix_type::{PrefixRef, PrefixTypeTrait, WithMetadata},
                std_types::{RSlice, RStr},
            };

            mod entry_points {
                $(
                    pub extern "C" fn $function(
                        ctx: $crate::PluginContextRef<'_>,
                    ) -> $crate::abi_stable::std_types::RResult<
                        $crate::abi_stable::std_types::RVec<$crate::Processor>,
                        $crate::abi_stable::std_types::RString,
                    > {
                        $crate::run_factory(ctx, super::super::$function)
                    }
                )+
            }

            #[allow(non_upper_case_globals)]
            mod entries {
                use super::*;
                $(
                    pub static $function: WithMetadata<$crate::Factory> =
                        WithMetadata::new($crate::Factory {
                            name: RStr::from_str(stringify!($function)),
                            description: RStr::from_str($description),
                            create: super::entry_points::$function,
                            transforms: $crate::__transforms!($($role)?),
                        });
                )+
            }

            static FACTORIES: &[$crate::FactoryRef] = &[$(
                // SAFETY: a static, initialised with `WithMetadata::new`.
                $crate::FactoryRef(unsafe { PrefixRef::from_raw(&entries::$function) }),
            )+];

            fn root_module() -> $crate::PluginModRef {
                $crate::PluginMod {
                    package_name: RStr::from_str(env!("CARGO_PKG_NAME")),
                    package_version: RStr::from_str(env!("CARGO_PKG_VERSION")),
                    factories: RSlice::from_slice(FACTORIES),
                }
                .leak_into_prefix()
            }

            extern "C" fn load_root_module() -> RootModuleResult {
                $crate::abi_stable::library::__call_root_module_loader(root_module)
            }

            /// The symbol abi_stable's loader looks up.
            #[unsafe(no_mangle)]
            #[allow(non_upper_case_globals)]
            // SAFETY: from_constructor asks that the erased prefix the constructor
            // returns come from a `PrefixRef<M>`, here `M = PluginModRef`:
            // `load_root_module` hands `root_module` (which returns a `PluginModRef`)
            // to `__call_root_module_loader`, which erases it, as the code abi_stable's
            // `#[export_root_module]` generates does.
            pub static _1as_0lib_1header_0root_bmodule_bloader: LibHeader = unsafe {
                LibHeader::from_constructor::<$crate::PluginModRef>(
                    load_root_module,
                    CheckTypeLayout::Yes,
                )
            };
        }
    };
}
