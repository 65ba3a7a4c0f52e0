//! The host services plugins call: their log messages go to the host's `log` facade
//! under the target `spanplug::plugin`.

use abi_stable::prefix_type::WithMetadata;
use abi_stable::std_types::RStr;
use spanplug_api::{HostServices, HostServicesRef, LogLevel};

pub(crate) const PLUGIN_LOG_TARGET: &str = "spanplug::plugin";

/// The services every plugin's context points to.
static HOST_SERVICES: WithMetadata<HostServices> = WithMetadata::new(HostServices::new(host_log));

/// The host services table handed to factories.
pub(crate) fn host_services() -> HostServicesRef {
    HostServicesRef::from_static(&HOST_SERVICES)
}

extern "C" fn host_log(level: LogLevel, origin: RStr<'_>, message: RStr<'_>) {
    let level = match level {
        LogLevel::ERROR => log::Level::Error,
        LogLevel::WARN => log::Level::Warn,
        LogLevel::DEBUG => log::Level::Debug,
        // Levels a newer interface may add are logged as info.
        _ => log::Level::Info,
    };
    // A panicking logger must not unwind into the plugin that called us.
    let _ = std::panic::catch_unwind(|| {
        log::log!(target: PLUGIN_LOG_TARGET, level, "[{origin}] {message}");
    });
}
