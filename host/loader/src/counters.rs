//! Counters bumped on application threads without a locked instruction: each thread
//! adds into its own shard (one writer, so an add is a plain load and store, not a
//! `lock xadd` that costs 7–10 ns per counter on a shared core), and readers sum the
//! shards. What self metrics count per span goes through here.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use spanplug_api::sync::lock;

/// Slots per shard: enough for every per-span figure one owner counts.
pub const SLOTS: usize = 8;

type Shard = [AtomicU64; SLOTS];

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// This thread's shard of each set of counters it has added to.
    static LOCAL: RefCell<Vec<(u64, Arc<Shard>)>> = const { RefCell::new(Vec::new()) };
}

/// [`SLOTS`] counters, summed over the threads that added to them.
#[derive(Debug)]
pub struct Counters {
    id: u64,
    /// Every thread's shard; a shard whose thread has ended is folded into `retired`.
    shards: Mutex<Vec<Arc<Shard>>>,
    retired: Shard,
}

impl Default for Counters {
    fn default() -> Self {
        Counters {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            shards: Mutex::new(Vec::new()),
            retired: Default::default(),
        }
    }
}

impl Counters {
    /// Adds one to `slot`, in this thread's shard (the first add on a thread registers
    /// its shard, once, under a lock).
    #[inline]
    pub fn add(&self, slot: usize) {
        // `try_with`: a span ended from another thread-local's destructor is not counted.
        let _ = LOCAL.try_with(|local| {
            let mut local = local.borrow_mut();
            let shard = match local.iter().find(|(id, _)| *id == self.id) {
                Some((_, shard)) => shard,
                None => self.register(&mut local),
            };
            let counter = &shard[slot];
            // This thread is the shard's only writer: no locked read-modify-write.
            counter.store(counter.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        });
    }

    #[cold]
    fn register<'l>(&self, local: &'l mut Vec<(u64, Arc<Shard>)>) -> &'l Arc<Shard> {
        // Shards of counters dropped since (only this thread holds them) go first.
        local.retain(|(_, shard)| Arc::strong_count(shard) > 1);
        let shard = Arc::new(Shard::default());
        lock(&self.shards).push(Arc::clone(&shard));
        local.push((self.id, shard));
        &local.last().expect("just pushed").1
    }

    /// The sum of `slot` over every thread's shard.
    pub fn sum(&self, slot: usize) -> u64 {
        let mut shards = lock(&self.shards);
        // A shard only this list holds belongs to a thread that has ended: fold it.
        shards.retain(|shard| {
            if Arc::strong_count(shard) > 1 {
                return true;
            }
            for (retired, counter) in self.retired.iter().zip(shard.iter()) {
                retired.fetch_add(counter.load(Ordering::Relaxed), Ordering::Relaxed);
            }
            false
        });
        let live: u64 = shards.iter().map(|s| s[slot].load(Ordering::Relaxed)).sum();
        live + self.retired[slot].load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_from_every_thread_are_summed_including_threads_that_ended() {
        let counters = Arc::new(Counters::default());
        counters.add(0);
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let counters = Arc::clone(&counters);
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        counters.add(0);
                        counters.add(3);
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(counters.sum(0), 4001);
        assert_eq!(counters.sum(3), 4000);
        // The ended threads' shards were folded; the sums stay.
        assert_eq!(lock(&counters.shards).len(), 1);
        assert_eq!((counters.sum(0), counters.sum(1)), (4001, 0));
    }
}
