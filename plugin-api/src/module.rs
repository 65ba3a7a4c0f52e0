//! What a plugin `.so` exports: one root module holding a table of named factories.
//! Both are prefix types: a later minor appends fields after `last_prefix_field`, and
//! a reader built against an older minor never sees them, while one built against a
//! newer minor reads them as `None`.

use std::fmt::{self, Display};

use abi_stable::{
    declare_root_module_statics,
    library::RootModule,
    sabi_types::VersionStrings,
    std_types::{RResult, RSlice, RStr, RString, RVec},
    StableAbi,
};

use crate::context::{PluginContext, PluginContextRef};
use crate::panic::catch;
use crate::processor::Processor;

/// One named function of a plugin, as `exporter_import_path` refers to it.
#[repr(C)]
#[derive(StableAbi, Debug)]
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
    /// The next-minor probe: one appended field (hidden, for compatibility tests).
    #[cfg(feature = "next-minor-probe")]
    #[doc(hidden)]
    pub next_minor_probe: u32,
}

/// The root module of every plugin library.
#[repr(C)]
#[derive(StableAbi, Debug)]
#[sabi(kind(Prefix(prefix_ref = PluginModRef)))]
pub struct PluginMod {
    /// The plugin crate's package name and version.
    pub package_name: RStr<'static>,
    /// The plugin crate's version (`CARGO_PKG_VERSION`).
    pub package_version: RStr<'static>,
    /// Every factory the plugin exports, in `export_plugin!` order.
    pub factories: RSlice<'static, FactoryRef>,
    /// The oldest host (spanplug-api version) the plugin works in: a host of the same
    /// major but an older minor refuses it, naming both versions and this one.
    /// [`MIN_HOST_OF_MAJOR`] unless `export_plugin!` says `requires_host = "..."`.
    #[sabi(last_prefix_field)]
    pub requires_host_api: RStr<'static>,
    /// The next-minor probe: one appended field (hidden, for compatibility tests).
    #[cfg(feature = "next-minor-probe")]
    #[doc(hidden)]
    pub next_minor_probe: u32,
}

/// The type of a factory's entry point.
pub type CreateFn = extern "C" fn(PluginContextRef<'_>) -> RResult<RVec<Processor>, RString>;

impl Factory {
    /// A factory entry as [`export_plugin!`](crate::export_plugin) builds it.
    pub const fn new(
        name: &'static str,
        description: &'static str,
        create: CreateFn,
        transforms: bool,
    ) -> Self {
        Factory {
            name: RStr::from_str(name),
            description: RStr::from_str(description),
            create,
            transforms,
            #[cfg(feature = "next-minor-probe")]
            next_minor_probe: crate::PROBE_PRESENT,
        }
    }
}

impl PluginMod {
    /// The root module as [`export_plugin!`](crate::export_plugin) builds it.
    pub const fn new(
        package_name: &'static str,
        package_version: &'static str,
        factories: &'static [FactoryRef],
        requires_host_api: &'static str,
    ) -> Self {
        PluginMod {
            package_name: RStr::from_str(package_name),
            package_version: RStr::from_str(package_version),
            factories: RSlice::from_slice(factories),
            requires_host_api: RStr::from_str(requires_host_api),
            #[cfg(feature = "next-minor-probe")]
            next_minor_probe: crate::PROBE_PRESENT,
        }
    }
}

impl fmt::Debug for FactoryRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FactoryRef")
            .field("name", &self.name())
            .field("description", &self.description())
            .field("transforms", &self.transforms())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for PluginModRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PluginModRef")
            .field("package_name", &self.package_name())
            .field("package_version", &self.package_version())
            .field("factories", &self.factories())
            .field("requires_host_api", &self.requires_host_api())
            .finish_non_exhaustive()
    }
}

/// The oldest host of this major: what a plugin requires unless it says otherwise.
pub const MIN_HOST_OF_MAJOR: &str = concat!(
    env!("CARGO_PKG_VERSION_MAJOR"),
    ".",
    env!("CARGO_PKG_VERSION_MINOR"),
    ".0"
);

impl RootModule for PluginModRef {
    declare_root_module_statics! {PluginModRef}
    const BASE_NAME: &'static str = "spanplug_plugin";
    const NAME: &'static str = "spanplug plugin";
    const VERSION_STRINGS: VersionStrings = VersionStrings::new(crate::API_VERSION);
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
///
/// A plugin that needs a capability only newer hosts have can say so first:
/// `requires_host = "0.3.1";` before the entries makes older 0.3 hosts refuse it by
/// name. Without it, it loads into every 0.3 host and must check for what it uses.
#[macro_export]
macro_rules! export_plugin {
    (requires_host = $requires:literal; $($entries:tt)+) => {
        $crate::__export_plugin! { $requires; $($entries)+ }
    };
    ($($entries:tt)+) => {
        $crate::__export_plugin! { $crate::MIN_HOST_OF_MAJOR; $($entries)+ }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __export_plugin {
    ($requires:expr; $($(#[$role:ident])? $function:ident : $description:expr),+ $(,)?) => {
        #[doc(hidden)]
        mod __spanplug_plugin_exports {
            use $crate::abi_stable::{
                library::{CheckTypeLayout, LibHeader, RootModuleResult},
                prefix_type::{PrefixRef, PrefixTypeTrait, WithMetadata},
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
                        WithMetadata::new($crate::Factory::new(
                            stringify!($function),
                            $description,
                            super::entry_points::$function,
                            $crate::__transforms!($($role)?),
                        ));
                )+
            }

            static FACTORIES: &[$crate::FactoryRef] = &[$(
                // SAFETY: a static, initialised with `WithMetadata::new`.
                $crate::FactoryRef(unsafe { PrefixRef::from_raw(&entries::$function) }),
            )+];

            fn root_module() -> $crate::PluginModRef {
                $crate::PluginMod::new(
                    env!("CARGO_PKG_NAME"),
                    env!("CARGO_PKG_VERSION"),
                    FACTORIES,
                    $requires,
                )
                .leak_into_prefix()
            }

            extern "C" fn load_root_module() -> RootModuleResult {
                $crate::abi_stable::library::__call_root_module_loader(root_module)
            }

            /// The symbol abi_stable's loader looks up.
            #[unsafe(no_mangle)]
            #[allow(non_upper_case_globals)]
            // As the code abi_stable's `#[export_root_module]` generates does:
            // SAFETY: from_constructor asks that the erased prefix the constructor
            // returns come from a `PrefixRef<PluginModRef>`: `load_root_module` hands
            // `root_module` (which returns one) to `__call_root_module_loader`.
            pub static _1as_0lib_1header_0root_bmodule_bloader: LibHeader = unsafe {
                LibHeader::from_constructor::<$crate::PluginModRef>(
                    load_root_module,
                    CheckTypeLayout::Yes,
                )
            };
        }
    };
}
