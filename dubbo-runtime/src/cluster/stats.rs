//! Per-provider call statistics (what least-active, p2c and shortest-response balance on),
//! and a small seedable random number generator.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

/// Live statistics of one provider, shared by every reference that uses it.
#[derive(Debug, Default)]
pub struct ProviderStats {
    active: AtomicU32,
    succeeded: AtomicU64,
    failed: AtomicU64,
    succeeded_micros: AtomicU64,
    /// Exponentially weighted moving average of response times, in microseconds (f64 bits).
    ewma_micros: AtomicU64,
}

/// Weight of the newest sample in the moving average.
const EWMA_ALPHA: f64 = 0.3;

impl ProviderStats {
    /// Calls in flight.
    pub fn active(&self) -> u32 {
        self.active.load(Ordering::Relaxed)
    }

    /// Successful calls so far.
    pub fn succeeded(&self) -> u64 {
        self.succeeded.load(Ordering::Relaxed)
    }

    /// Failed calls so far.
    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }

    /// Mean time of successful calls (zero before the first).
    pub fn mean_success(&self) -> Duration {
        let n = self.succeeded();
        if n == 0 {
            return Duration::ZERO;
        }
        Duration::from_micros(self.succeeded_micros.load(Ordering::Relaxed) / n)
    }

    /// Moving average of response times (zero before the first call).
    pub fn ewma(&self) -> Duration {
        Duration::from_secs_f64(f64::from_bits(self.ewma_micros.load(Ordering::Relaxed)) / 1e6)
    }

    /// Marks a call as started; the guard records how it ended.
    pub fn begin(&self) -> CallGuard<'_> {
        self.active.fetch_add(1, Ordering::Relaxed);
        CallGuard {
            stats: self,
            started: std::time::Instant::now(),
            done: false,
        }
    }

    fn record(&self, elapsed: Duration, ok: bool) {
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        if ok {
            self.succeeded.fetch_add(1, Ordering::Relaxed);
            self.succeeded_micros.fetch_add(micros, Ordering::Relaxed);
        } else {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
        let sample = micros as f64;
        let _ = self
            .ewma_micros
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                let old = f64::from_bits(bits);
                let new = if old == 0.0 {
                    sample
                } else {
                    EWMA_ALPHA * sample + (1.0 - EWMA_ALPHA) * old
                };
                Some(new.to_bits())
            });
    }

    /// Records a finished call directly (tests, custom invokers).
    pub fn record_call(&self, elapsed: Duration, ok: bool) {
        self.record(elapsed, ok);
    }
}

/// An in-flight call; dropping it without [`CallGuard::finish`] counts as a failure
/// (cancelled).
#[derive(Debug)]
pub struct CallGuard<'a> {
    stats: &'a ProviderStats,
    started: std::time::Instant,
    done: bool,
}

impl CallGuard<'_> {
    /// Records the outcome.
    pub fn finish(mut self, ok: bool) {
        self.done = true;
        self.stats.record(self.started.elapsed(), ok);
        self.stats.active.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Drop for CallGuard<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.stats.record(self.started.elapsed(), false);
            self.stats.active.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// SplitMix64: small, fast, seedable; good enough for picking providers.
#[derive(Debug)]
pub struct Rng {
    state: AtomicU64,
}

impl Rng {
    /// A generator with a fixed seed (deterministic sequences for tests).
    pub fn with_seed(seed: u64) -> Rng {
        Rng {
            state: AtomicU64::new(seed),
        }
    }

    /// A generator seeded from the clock and an address.
    pub fn new() -> Rng {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let local = 0u8;
        Rng::with_seed(nanos ^ (&local as *const u8 as u64).rotate_left(32))
    }

    /// The next 64 random bits.
    pub fn next_u64(&self) -> u64 {
        let mut z = self
            .state
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&self, n: u64) -> u64 {
        // Multiply-shift: unbiased enough for load balancing.
        ((u128::from(self.next_u64()) * u128::from(n.max(1))) >> 64) as u64
    }
}

impl Default for Rng {
    fn default() -> Rng {
        Rng::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guards_track_active_and_outcomes() {
        let stats = ProviderStats::default();
        let a = stats.begin();
        let b = stats.begin();
        assert_eq!(stats.active(), 2);
        a.finish(true);
        drop(b);
        assert_eq!(stats.active(), 0);
        assert_eq!(stats.succeeded(), 1);
        assert_eq!(stats.failed(), 1);
        stats.record_call(Duration::from_millis(10), true);
        assert!(stats.ewma() > Duration::ZERO);
        assert!(stats.mean_success() > Duration::ZERO);
    }

    #[test]
    fn rng_is_deterministic_and_in_range() {
        let a = Rng::with_seed(7);
        let b = Rng::with_seed(7);
        let xs: Vec<u64> = (0..5).map(|_| a.below(10)).collect();
        let ys: Vec<u64> = (0..5).map(|_| b.below(10)).collect();
        assert_eq!(xs, ys);
        assert!(xs.iter().all(|&x| x < 10));
        let mut counts = [0u32; 4];
        let r = Rng::with_seed(1);
        for _ in 0..40_000 {
            counts[r.below(4) as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| (9_000..11_000).contains(&c)),
            "{counts:?}"
        );
    }
}
