//! The log callback plugins call: their messages go to the host's `log` facade
//! under the target `spanplug::plugin`.

use abi_stable::std_types::RStr;
use spanplug_api::LogLevel;

pub(crate) const PLUGIN_LOG_TARGET: &str = "spanplug::plugin";

pub(crate) extern "C" fn host_log(level: LogLevel, origin: RStr<'_>, message: RStr<'_>) {
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
