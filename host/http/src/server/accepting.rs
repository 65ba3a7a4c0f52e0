//! What [`super::serve`] does when accepting a connection fails: at once again when
//! one client's connection failed, after a growing wait, logged once, when the
//! process or the system ran short (out of descriptors, say) or the error is unknown.

use std::io;
use std::time::{Duration, Instant};

/// After a failed accept (no descriptors left, say), the first wait and the longest.
const ACCEPT_BACKOFF: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(1));
/// Accepts working this long end an episode of failures.
const ACCEPT_QUIET: Duration = Duration::from_secs(5);

/// Whether a failed accept was one client's connection failing before it was
/// accepted (reset or aborted by its peer, refused by a firewall rule, a network error
/// already pending on it, or a signal), which leaves the next accept unaffected: accept
/// again at once, as `axum::serve` does, and say nothing. Anything else, the process
/// or system out of descriptors (`EMFILE`, `ENFILE`) or memory (`ENOBUFS`, `ENOMEM`)
/// or an error not known to be one connection's, calls for [`AcceptFailures`]'s wait.
pub(super) fn is_connection_error(error: &io::Error) -> bool {
    use io::ErrorKind as Kind;
    matches!(
        error.kind(),
        Kind::ConnectionRefused
            | Kind::ConnectionAborted
            | Kind::ConnectionReset
            | Kind::Interrupted
            | Kind::PermissionDenied
            | Kind::HostUnreachable
            | Kind::NetworkUnreachable
            | Kind::NetworkDown
    ) || matches!(
        // The rest of the pending network errors accept(2) says to retry at once.
        error.raw_os_error(),
        Some(libc::EPROTO | libc::ENOPROTOOPT | libc::EHOSTDOWN | libc::EOPNOTSUPP)
    )
}

/// An episode of failed accepts (out of descriptors, say): its first failure is
/// logged, the others counted, and each retry waits longer than the last while no
/// accept works in between, so running out of descriptors costs one log line, not one
/// every few milliseconds. The episode ends, with a summary, at the first accept
/// [`ACCEPT_QUIET`] after its last failure, or at shutdown.
#[derive(Default)]
pub(super) struct AcceptFailures {
    count: u64,
    /// When the episode's first and last failures happened.
    span: Option<(Instant, Instant)>,
    wait: Duration,
}

impl AcceptFailures {
    /// Records a failure; how long to wait before accepting again.
    pub(super) fn failed(&mut self, error: &io::Error, open: usize) -> Duration {
        let now = Instant::now();
        match &mut self.span {
            Some((_, last)) => *last = now,
            None => {
                log::warn!(
                    "accepting a connection failed: {error} ({open} connections open); retrying every {:?} to {:?}, and counting further failures",
                    ACCEPT_BACKOFF.0,
                    ACCEPT_BACKOFF.1
                );
                self.span = Some((now, now));
            }
        }
        self.count += 1;
        self.wait = (self.wait * 2).clamp(ACCEPT_BACKOFF.0, ACCEPT_BACKOFF.1);
        self.wait
    }

    /// An accept worked: the next failure waits the shortest time again, and an
    /// episode quiet for long enough ends.
    pub(super) fn accepted(&mut self) {
        self.wait = Duration::ZERO;
        if self
            .span
            .is_some_and(|(_, last)| last.elapsed() >= ACCEPT_QUIET)
        {
            self.end();
        }
    }

    /// Says how the episode went, if there is one.
    pub(super) fn end(&mut self) {
        if let Some((first, last)) = self.span.take() {
            log::warn!(
                "accepting connections works again: {} attempts failed over {:.1?}",
                self.count,
                last - first
            );
        }
        self.count = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_connections_failure_is_retried_at_once_and_running_short_waits() {
        let per_connection = [
            libc::ECONNABORTED,
            libc::ECONNRESET,
            libc::ECONNREFUSED,
            libc::EPERM,
            libc::EINTR,
            libc::EPROTO,
            libc::ENETDOWN,
            libc::ENETUNREACH,
            libc::EHOSTDOWN,
            libc::EHOSTUNREACH,
            libc::ENOPROTOOPT,
            libc::EOPNOTSUPP,
        ];
        for code in per_connection {
            let error = io::Error::from_raw_os_error(code);
            assert!(is_connection_error(&error), "{error}");
        }
        for kind in [io::ErrorKind::ConnectionReset, io::ErrorKind::Interrupted] {
            assert!(is_connection_error(&io::Error::from(kind)), "{kind}");
        }
        let running_short = [libc::EMFILE, libc::ENFILE, libc::ENOBUFS, libc::ENOMEM];
        let unknown = [libc::EINVAL, libc::EBADF];
        for code in running_short.into_iter().chain(unknown) {
            let error = io::Error::from_raw_os_error(code);
            assert!(!is_connection_error(&error), "{error}");
        }
        assert!(!is_connection_error(&io::Error::other("closed")));
    }

    #[test]
    fn failures_wait_longer_each_time_until_an_accept_works() {
        let mut failures = AcceptFailures::default();
        let error = io::Error::from_raw_os_error(libc::EMFILE);
        let waits: Vec<Duration> = (0..6).map(|_| failures.failed(&error, 3)).collect();
        let ms = |n| Duration::from_millis(n);
        assert_eq!(
            waits,
            [ms(100), ms(200), ms(400), ms(800), ms(1000), ms(1000)]
        );
        failures.accepted();
        assert_eq!(failures.failed(&error, 3), ms(100));
        assert_eq!(failures.count, 7);
    }
}
