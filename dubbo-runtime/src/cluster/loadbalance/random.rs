//! Weighted random (Dubbo's default `random`).

use super::{LoadBalance, weighted_pick};
use crate::cluster::provider::Provider;
use crate::cluster::stats::Rng;
use crate::invocation::Invocation;

/// Picks providers at random in proportion to their weights.
#[derive(Debug, Default)]
pub struct WeightedRandom {
    rng: Rng,
}

impl WeightedRandom {
    /// With this random source.
    pub fn new(rng: Rng) -> WeightedRandom {
        WeightedRandom { rng }
    }
}

impl LoadBalance for WeightedRandom {
    fn select(&self, providers: &[Provider], _invocation: &Invocation) -> usize {
        let all: Vec<usize> = (0..providers.len()).collect();
        weighted_pick(providers, &all, &self.rng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::loadbalance::testing::{histogram, providers};

    #[test]
    fn follows_weights() {
        let lb = WeightedRandom::new(Rng::with_seed(42));
        let counts = histogram(&lb, &providers(&[100, 300, 0]), 8000);
        assert_eq!(counts[2], 0, "weight 0 is never picked");
        assert!((1700..2300).contains(&counts[0]), "{counts:?}");
        assert!((5700..6300).contains(&counts[1]), "{counts:?}");
        let even = histogram(&lb, &providers(&[5, 5]), 2000);
        assert!(even.iter().all(|&c| (850..1150).contains(&c)), "{even:?}");
    }
}
