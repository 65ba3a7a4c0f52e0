//! Locks that ignore poisoning.
//!
//! The host catches a plugin's panics ([`crate::panic`]), so a processor outlives a
//! panic that happened while one of its mutexes was held, and `Mutex::lock` would
//! fail for good after it. These take the data as the panic left it: a plugin's
//! state (queues, counters, open files) stays usable, as each holder keeps it
//! consistent between statements.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// Locks `mutex`, whether or not a panic poisoned it.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Waits on `condvar` with `guard` for at most `timeout` (or until notified, or a
/// spurious wake-up), whether or not a panic poisoned the mutex; returns the guard
/// again. Callers check their condition and the time themselves.
pub fn wait_timeout<'a, T>(
    condvar: &Condvar,
    guard: MutexGuard<'a, T>,
    timeout: Duration,
) -> MutexGuard<'a, T> {
    condvar
        .wait_timeout(guard, timeout)
        .unwrap_or_else(PoisonError::into_inner)
        .0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mutex_poisoned_by_a_panic_still_locks_with_its_data() {
        let mutex = Mutex::new(vec![1]);
        let _ = std::panic::catch_unwind(|| {
            let mut guard = mutex.lock().unwrap();
            guard.push(2);
            panic!("poison it");
        });
        assert!(mutex.is_poisoned());
        lock(&mutex).push(3);
        assert_eq!(*lock(&mutex), [1, 2, 3]);
    }

    #[test]
    fn waiting_on_a_poisoned_mutex_times_out_and_returns_the_guard() {
        let mutex = Mutex::new(7);
        let _ = std::panic::catch_unwind(|| {
            let _guard = mutex.lock().unwrap();
            panic!("poison it");
        });
        let guard = wait_timeout(&Condvar::new(), lock(&mutex), Duration::from_millis(1));
        assert_eq!(*guard, 7);
    }
}
