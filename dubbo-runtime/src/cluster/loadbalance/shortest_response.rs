//! Shortest response: the provider whose expected wait (mean successful response time ×
//! (calls in flight + 1)) is smallest; ties by weighted random.

use super::{LoadBalance, weighted_pick};
use crate::cluster::provider::Provider;
use crate::cluster::stats::Rng;
use crate::invocation::Invocation;

/// Picks the provider expected to answer soonest.
#[derive(Debug, Default)]
pub struct ShortestResponse {
    rng: Rng,
}

impl ShortestResponse {
    /// With this random source for ties.
    pub fn new(rng: Rng) -> ShortestResponse {
        ShortestResponse { rng }
    }
}

fn estimate(p: &Provider) -> u128 {
    p.stats().mean_success().as_micros() * (u128::from(p.stats().active()) + 1)
}

impl LoadBalance for ShortestResponse {
    fn select(&self, providers: &[Provider], _invocation: &Invocation) -> usize {
        let best = providers.iter().map(estimate).min().unwrap_or(0);
        let candidates: Vec<usize> = providers
            .iter()
            .enumerate()
            .filter(|(_, p)| estimate(p) == best)
            .map(|(i, _)| i)
            .collect();
        weighted_pick(providers, &candidates, &self.rng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Metadata;
    use crate::cluster::loadbalance::testing::{invocation, providers};
    use std::time::Duration;

    #[test]
    fn prefers_the_fastest_accounting_for_load() {
        let lb = ShortestResponse::new(Rng::with_seed(5));
        let ps = providers(&[1, 1]);
        ps[0].stats().record_call(Duration::from_millis(10), true);
        ps[1].stats().record_call(Duration::from_millis(30), true);
        let inv = invocation(b"", Metadata::new());
        assert_eq!(lb.select(&ps, &inv), 0);
        // Three calls in flight make the fast one's expected wait 40 ms > 30 ms.
        let _g: Vec<_> = (0..3).map(|_| ps[0].stats().begin()).collect();
        assert_eq!(lb.select(&ps, &inv), 1);
    }
}
