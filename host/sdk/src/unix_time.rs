//! Nanoseconds since the Unix epoch of a `SystemTime`, as every span view needs twice.
//!
//! `SystemTime::duration_since` is an out-of-line call into std that returns its
//! `Result` through memory: about 9 ns here, a third of what the whole `.so` boundary
//! may cost a span. A `SystemTime`'s `Hash` is derived from its seconds and
//! nanoseconds, and inlines; feeding it to a [`Hasher`] that keeps what it is given
//! reads the two in under a nanosecond. Whether a target's `SystemTime` hashes that
//! way is an implementation detail of std, so it is checked against
//! `duration_since` on known times once per process, and `duration_since` is used
//! wherever it does not.

use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const NANOS_PER_SEC: u64 = 1_000_000_000;

const UNCHECKED: u8 = 0;
const FIELDS: u8 = 1;
const STD: u8 = 2;

/// Which way this process converts: checked on first use.
static METHOD: AtomicU8 = AtomicU8::new(UNCHECKED);

/// `time` in nanoseconds since the Unix epoch; 0 before it, `u64::MAX` past 2554.
#[inline]
pub(crate) fn unix_nanos(time: SystemTime) -> u64 {
    let method = match METHOD.load(Ordering::Relaxed) {
        UNCHECKED => check_fields(),
        known => known,
    };
    if method == FIELDS {
        if let Some((secs, nanos)) = fields(&time) {
            return from_parts(secs, nanos);
        }
    }
    by_std(time)
}

fn by_std(time: SystemTime) -> u64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(since) => from_parts(
            i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
            since.subsec_nanos(),
        ),
        Err(_) => 0,
    }
}

#[inline]
fn from_parts(secs: i64, nanos: u32) -> u64 {
    match u64::try_from(secs) {
        Ok(secs) => secs
            .saturating_mul(NANOS_PER_SEC)
            .saturating_add(u64::from(nanos)),
        Err(_) => 0,
    }
}

/// Whether hashing gives what `duration_since` gives, on times that tell the two
/// fields apart; remembered for the process.
#[cold]
fn check_fields() -> u8 {
    let agrees = [
        Duration::new(1_234_567_890, 123_456_789),
        Duration::new(1, 999_999_999),
        Duration::new(4_102_444_800, 1),
    ]
    .into_iter()
    .all(|since| {
        let time = UNIX_EPOCH + since;
        fields(&time).map(|(secs, nanos)| from_parts(secs, nanos)) == Some(by_std(time))
    });
    let method = if agrees { FIELDS } else { STD };
    METHOD.store(method, Ordering::Relaxed);
    method
}

/// The seconds and nanoseconds `time` hashes, if it hashes exactly those two.
#[inline]
fn fields(time: &SystemTime) -> Option<(i64, u32)> {
    let mut fields = Fields::default();
    time.hash(&mut fields);
    match fields {
        Fields {
            secs: Some(secs),
            nanos: Some(nanos),
            other: false,
        } => Some((secs, nanos)),
        _ => None,
    }
}

/// A `Hasher` that keeps one `i64` and one `u32`, in that order, and notes anything
/// else.
#[derive(Default)]
struct Fields {
    secs: Option<i64>,
    nanos: Option<u32>,
    other: bool,
}

impl Hasher for Fields {
    fn finish(&self) -> u64 {
        0
    }

    fn write(&mut self, _bytes: &[u8]) {
        self.other = true;
    }

    #[inline]
    fn write_i64(&mut self, value: i64) {
        self.other |= self.secs.is_some();
        self.secs = Some(value);
    }

    #[inline]
    fn write_u32(&mut self, value: u32) {
        self.other |= self.secs.is_none() || self.nanos.is_some();
        self.nanos = Some(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_as_duration_since_does() {
        for since in [
            Duration::ZERO,
            Duration::new(0, 1),
            Duration::new(1_700_000_000, 999_999_999),
            Duration::new(18_446_744_073, 709_551_615),
        ] {
            let time = UNIX_EPOCH + since;
            assert_eq!(unix_nanos(time), by_std(time), "{since:?}");
        }
        let now = SystemTime::now();
        assert_eq!(unix_nanos(now), by_std(now));
    }

    #[test]
    fn a_time_before_the_epoch_is_zero_and_one_past_u64_saturates() {
        assert_eq!(unix_nanos(UNIX_EPOCH - Duration::from_secs(5)), 0);
        assert_eq!(
            unix_nanos(UNIX_EPOCH + Duration::from_secs(20_000_000_000)),
            u64::MAX
        );
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn this_target_takes_the_fast_way() {
        // Linux's `SystemTime` is seconds and nanoseconds: if this fails, std changed
        // its layout and every span pays for `duration_since` again.
        let _ = unix_nanos(SystemTime::now());
        assert_eq!(METHOD.load(Ordering::Relaxed), FIELDS);
    }
}
