//! The hand-off between the application threads, which copy formatted records in,
//! and the writer thread, which takes whole buffers out. It is bounded in bytes: the
//! buffers not yet written (filling, waiting, or in the writer's hands) hold at most
//! [`MAX_HELD_BYTES`]; a record that does not fit is refused, and the caller counts it.

use std::collections::VecDeque;

/// A buffer is handed to the writer thread once the next record would not fit in it.
pub(crate) const BUFFER_BYTES: usize = 64 * 1024;
/// The most buffer memory the hand-off holds (8 MiB, some 8,000 typical spans).
pub(crate) const MAX_HELD_BYTES: usize = 8 * 1024 * 1024;

/// Spans copied in, not yet written.
#[derive(Default)]
pub(crate) struct Buffer {
    pub(crate) bytes: Vec<u8>,
    pub(crate) spans: u64,
    /// The bytes counted in [`Queue`]'s `held_bytes` for it (what was asked of the
    /// allocator), given back exactly when it is settled or dropped, whatever
    /// `bytes.capacity()` turned out to be. Records are copied in only up to it.
    counted: usize,
}

/// Why a record was not taken.
pub(crate) enum Refused {
    /// The buffers not yet written hold too much: writing fell behind.
    Full,
    /// The record alone is bigger than [`MAX_HELD_BYTES`].
    TooLarge,
}

/// Buffers handed to the writer: written (or lost) together, then [`Queue::settle`]d.
pub(crate) struct Batch {
    pub(crate) buffers: Vec<Buffer>,
    /// Their spans and the memory they hold, to give back once written.
    spans: u64,
    bytes: usize,
}

#[derive(Default)]
pub(crate) struct Queue {
    current: Buffer,
    full: VecDeque<Buffer>,
    /// The counted size of every buffer not yet settled: filling, waiting, being
    /// written.
    held_bytes: usize,
    /// Spans accepted so far (handed to a buffer), and written or lost so far: a
    /// flush waits until `settled` reaches the `accepted` it saw.
    pub(crate) accepted: u64,
    pub(crate) settled: u64,
    /// A flush or shutdown asked for the partial buffer now.
    pub(crate) flush_requested: bool,
    pub(crate) stopping: bool,
    /// The writer thread ended (stopping, or it panicked).
    pub(crate) writer_done: bool,
}

impl Queue {
    /// Copies `record` into the current buffer, or into a new one when it does not fit
    /// (the old one then waits for the writer). `Ok(true)` when a buffer became ready.
    pub(crate) fn push(&mut self, record: &[u8]) -> Result<bool, Refused> {
        let mut completed = false;
        if self.current.bytes.len() + record.len() > self.current.counted {
            if record.len() > MAX_HELD_BYTES {
                return Err(Refused::TooLarge);
            }
            // Sized up front, and filled only up to that size: it never grows.
            let capacity = BUFFER_BYTES.max(record.len());
            if self.held_bytes + capacity > MAX_HELD_BYTES {
                return Err(Refused::Full);
            }
            self.held_bytes += capacity;
            let fresh = Buffer {
                bytes: Vec::with_capacity(capacity),
                spans: 0,
                counted: capacity,
            };
            let old = std::mem::replace(&mut self.current, fresh);
            if old.spans > 0 {
                self.full.push_back(old);
                completed = true;
            } else {
                self.held_bytes -= old.counted;
            }
        }
        self.current.bytes.extend_from_slice(record);
        self.current.spans += 1;
        self.accepted += 1;
        Ok(completed)
    }

    /// Whether a buffer is ready for the writer.
    pub(crate) fn has_full(&self) -> bool {
        !self.full.is_empty()
    }

    /// Whether nothing is left to write.
    pub(crate) fn is_empty(&self) -> bool {
        self.full.is_empty() && self.current.spans == 0
    }

    /// The ready buffers, and the partly filled one too when `with_current`.
    pub(crate) fn take(&mut self, with_current: bool) -> Batch {
        let mut buffers: Vec<Buffer> = self.full.drain(..).collect();
        if with_current && self.current.spans > 0 {
            buffers.push(std::mem::take(&mut self.current));
        }
        Batch {
            spans: buffers.iter().map(|b| b.spans).sum(),
            bytes: buffers.iter().map(|b| b.counted).sum(),
            buffers,
        }
    }

    /// A batch taken earlier was written or lost: its spans are settled, its memory free.
    pub(crate) fn settle(&mut self, spans: u64, bytes: usize) {
        self.settled += spans;
        self.held_bytes -= bytes;
    }

    /// The writer is gone: everything still queued is dropped. Returns how many spans
    /// will never be written.
    pub(crate) fn abandon(&mut self) -> u64 {
        self.writer_done = true;
        let unwritten = self.accepted - self.settled;
        self.settled = self.accepted;
        self.full.clear();
        self.current = Buffer::default();
        self.held_bytes = 0;
        unwritten
    }
}

impl Batch {
    /// Its spans and the bytes it holds, for [`Queue::settle`].
    pub(crate) fn size(&self) -> (u64, usize) {
        (self.spans, self.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffer_memory_is_bounded_in_bytes_whatever_the_record_sizes() {
        let mut queue = Queue::default();
        let big = vec![b'x'; 3 << 20];
        assert!(matches!(queue.push(&big), Ok(false)));
        assert!(matches!(queue.push(&big), Ok(true)));
        // A third 3 MiB record would hold 9 MiB.
        assert!(matches!(queue.push(&big), Err(Refused::Full)));
        // Small records still fit in what is left.
        assert!(matches!(queue.push(b"{}\n"), Ok(true)));
        assert!(matches!(
            queue.push(&vec![b'x'; MAX_HELD_BYTES + 1]),
            Err(Refused::TooLarge)
        ));
        let batch = queue.take(true);
        assert_eq!(batch.size().0, 3);
        assert!(queue.is_empty());
        // Still held until written.
        assert!(matches!(queue.push(&big), Err(Refused::Full)));
        let (spans, bytes) = batch.size();
        queue.settle(spans, bytes);
        assert_eq!(queue.held_bytes, 0);
        assert!(matches!(queue.push(&big), Ok(false)));
    }

    /// The allocator may give a buffer more than was asked: what is given back is what
    /// was counted, never its capacity (which underflowed the count).
    #[test]
    fn a_buffer_given_more_capacity_than_asked_gives_back_what_was_counted() {
        let mut queue = Queue::default();
        assert!(matches!(queue.push(b"{}\n"), Ok(false)));
        queue.current.bytes.reserve(1 << 20);
        assert!(queue.current.bytes.capacity() > BUFFER_BYTES);
        assert_eq!(queue.held_bytes, BUFFER_BYTES);
        // Past the counted size a record starts a new buffer, though the old one has room.
        assert!(matches!(queue.push(&vec![b'x'; BUFFER_BYTES]), Ok(true)));
        assert_eq!(queue.held_bytes, 2 * BUFFER_BYTES);
        let batch = queue.take(true);
        assert_eq!(batch.size(), (2, 2 * BUFFER_BYTES));
        let (spans, bytes) = batch.size();
        queue.settle(spans, bytes);
        assert_eq!(queue.held_bytes, 0);
    }
}
