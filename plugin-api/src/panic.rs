//! Panic containment for plugin entry points.
//!
//! A panic unwinding out of a plugin would end the host (abi_stable exits, a plain
//! `extern "C"` aborts), so every entry point runs inside [`catch`]. Each plugin
//! links its own std, so the hook installed here only sees that plugin's panics;
//! it keeps caught panics off stderr (a plugin must never print) and passes any
//! other panic to the hook that was there before.

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    static CATCH_DEPTH: Cell<u32> = const { Cell::new(0) };
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

static INSTALL_HOOK: Once = Once::new();

fn install_hook() {
    INSTALL_HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if CATCH_DEPTH.with(Cell::get) == 0 {
                return previous(info);
            }
            let message = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-string panic payload".to_string());
            let located = match info.location() {
                Some(at) => format!("{message} (at {}:{})", at.file(), at.line()),
                None => message,
            };
            LAST_PANIC.with(|last| *last.borrow_mut() = Some(located));
        }));
    });
}

/// Runs `f`, turning a panic into `Err("panicked: <message> (at file:line)")`.
pub fn catch<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    install_hook();
    // One thread-local lookup per call: in a dlopen'ed plugin each one is a call
    // into the dynamic linker.
    let result = CATCH_DEPTH.with(|depth| {
        depth.set(depth.get() + 1);
        let result = panic::catch_unwind(AssertUnwindSafe(f));
        depth.set(depth.get() - 1);
        result
    });
    result.map_err(|_| {
        let message = LAST_PANIC
            .with(|last| last.borrow_mut().take())
            .unwrap_or_else(|| "unknown panic".to_string());
        format!("panicked: {message}")
    })
}
