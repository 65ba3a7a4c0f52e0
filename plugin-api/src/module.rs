//! What a plugin `.so` exports: one root module holding a table of named factories.

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

#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
}

/// The host's log entry point (the type of [`PluginContext::log`]): `(level, target, message)`. The host catches its own
/// panics in it and never blocks in it, so plugins may call it from any thread.
pub type LogFn = extern "C" fn(LogLevel, RStr<'_>, RStr<'_>);

/// Everything a factory learns about the service it is installed in.
#[repr(C)]
#[derive(StableAbi)]
pub struct PluginContext<'a> {
    /// The `module:function` entry that named this factory.
    pub import_path: RStr<'a>,
    pub service_name: RStr<'a>,
    pub resource_attributes: RSlice<'a, KeyValue<'a>>,
    /// `exporter_config` from the tracing config, with environment overrides applied.
    pub config: RSlice<'a, StrPair<'a>>,
    pub log: extern "C" fn(LogLevel, RStr<'_>, RStr<'_>),
}

impl<'a> PluginContext<'a> {
    pub fn config_value(&self, key: &str) -> Option<&'a str> {
        self.config
            .as_slice()
            .iter()
            .find(|e| e.key.as_str() == key)
            .map(|e| e.value.as_str())
    }

    pub fn config_entries(&self) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.config
            .as_slice()
            .iter()
            .map(|e| (e.key.as_str(), e.value.as_str()))
    }

    /// An owned logger for processors and their threads, tagged with the import path.
    pub fn logger(&self) -> Logger {
        Logger {
            log: self.log,
            target: self.import_path.to_string(),
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
    pub fn log(&self, level: LogLevel, message: &str) {
        (self.log)(level, self.target.as_str().into(), message.into());
    }

    pub fn error(&self, message: &str) {
        self.log(LogLevel::Error, message);
    }

    pub fn warn(&self, message: &str) {
        self.log(LogLevel::Warn, message);
    }

    pub fn info(&self, message: &str) {
        self.log(LogLevel::Info, message);
    }

    pub fn debug(&self, message: &str) {
        self.log(LogLevel::Debug, message);
    }
}

impl std::fmt::Debug for Logger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Logger")
            .field("target", &self.target)
            .finish()
    }
}

/// The ABI form of a factory (the type of [`Factory::create`]): never unwinds, reports failure as a message.
pub type FactoryFn = extern "C" fn(&PluginContext<'_>) -> RResult<RVec<Processor>, RString>;

/// One named function of a plugin, as `exporter_import_path` refers to it.
#[repr(C)]
#[derive(StableAbi)]
pub struct Factory {
    pub name: RStr<'static>,
    /// One line, shown by `spanplug list`.
    pub description: RStr<'static>,
    pub create: extern "C" fn(&PluginContext<'_>) -> RResult<RVec<Processor>, RString>,
}

/// The root module of every plugin library.
///
/// Fields are only ever added after `factories`, so a plugin built against an older
/// 0.1.z interface keeps loading in a newer host.
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PluginModRef)))]
#[sabi(missing_field(panic))]
pub struct PluginMod {
    /// The plugin crate's package name and version.
    pub package_name: RStr<'static>,
    pub package_version: RStr<'static>,
    #[sabi(last_prefix_field)]
    pub factories: RSlice<'static, Factory>,
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
    ctx: &PluginContext<'_>,
    factory: fn(&PluginContext<'_>) -> Result<Vec<Processor>, E>,
) -> RResult<RVec<Processor>, RString> {
    match catch(|| factory(ctx).map_err(|e| e.to_string())) {
        Ok(Ok(processors)) => RResult::ROk(processors.into()),
        Ok(Err(message)) | Err(message) => RResult::RErr(message.into()),
    }
}

/// Exports a plugin's factories. Each entry names a function
/// `fn(&PluginContext) -> Result<Vec<Processor>, E: Display>` and a one-line description;
/// the name is what `exporter_import_path` uses after the colon.
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
///     fn on_end(&self, _span: &SpanView<'_>) {
///         self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
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
    ($($function:ident : $description:expr),+ $(,)?) => {
        #[doc(hidden)]
        mod __spanplug_plugin_exports {
            use $crate::abi_stable::{
                library::{CheckTypeLayout, LibHeader, RootModuleResult},
                prefix_type::PrefixTypeTrait,
                std_types::{RSlice, RStr},
            };

            mod entry_points {
                $(
                    pub extern "C" fn $function(
                        ctx: &$crate::PluginContext<'_>,
                    ) -> $crate::abi_stable::std_types::RResult<
                        $crate::abi_stable::std_types::RVec<$crate::Processor>,
                        $crate::abi_stable::std_types::RString,
                    > {
                        $crate::run_factory(ctx, super::super::$function)
                    }
                )+
            }

            static FACTORIES: &[$crate::Factory] = &[$(
                $crate::Factory {
                    name: RStr::from_str(stringify!($function)),
                    description: RStr::from_str($description),
                    create: entry_points::$function,
                },
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
            pub static _1as_0lib_1header_0root_bmodule_bloader: LibHeader = unsafe {
                LibHeader::from_constructor::<$crate::PluginModRef>(
                    load_root_module,
                    CheckTypeLayout::Yes,
                )
            };
        }
    };
}
