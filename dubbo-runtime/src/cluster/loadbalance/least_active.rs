//! Least active: the provider with the fewest calls in flight (ties broken by weighted
//! random), so slow providers get less work.

use super::{LoadBalance, weighted_pick};
use crate::cluster::provider::Provider;
use crate::cluster::stats::Rng;
use crate::invocation::Invocation;

/// Picks among the providers with the fewest active calls.
#[derive(Debug, Default)]
pub struct LeastActive {
    rng: Rng,
}

impl LeastActive {
    /// With this random source for ties.
    pub fn new(rng: Rng) -> LeastActive {
        LeastActive { rng }
    }
}

impl LoadBalance for LeastActive {
    fn select(&self, providers: &[Provider], _invocation: &Invocation) -> usize {
        let least = providers
            .iter()
            .map(|p| p.stats().active())
            .min()
            .unwrap_or(0);
        let candidates: Vec<usize> = providers
            .iter()
            .enumerate()
            .filter(|(_, p)| p.stats().active() == least)
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

    #[test]
    fn prefers_the_least_busy() {
        let lb = LeastActive::new(Rng::with_seed(3));
        let ps = providers(&[100, 100, 100]);
        let _busy0 = ps[0].stats().begin();
        let _busy0b = ps[0].stats().begin();
        let _busy2 = ps[2].stats().begin();
        let inv = invocation(b"", Metadata::new());
        for _ in 0..50 {
            assert_eq!(lb.select(&ps, &inv), 1);
        }
        let _busy1 = ps[1].stats().begin();
        let picks: Vec<usize> = (0..50).map(|_| lb.select(&ps, &inv)).collect();
        assert!(picks.iter().all(|&i| i == 1 || i == 2), "{picks:?}");
        assert!(picks.contains(&1) && picks.contains(&2), "ties are shared");
    }
}
