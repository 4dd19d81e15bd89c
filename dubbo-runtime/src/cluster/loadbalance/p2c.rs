//! Power of two choices with EWMA latency: pick two providers at random and take the one
//! with the lower (average latency × (calls in flight + 1)).

use super::LoadBalance;
use crate::cluster::provider::Provider;
use crate::cluster::stats::Rng;
use crate::invocation::Invocation;

/// P2C over EWMA response times.
#[derive(Debug, Default)]
pub struct PowerOfTwoChoices {
    rng: Rng,
}

impl PowerOfTwoChoices {
    /// With this random source.
    pub fn new(rng: Rng) -> PowerOfTwoChoices {
        PowerOfTwoChoices { rng }
    }
}

fn cost(p: &Provider) -> f64 {
    p.stats().ewma().as_secs_f64() * (f64::from(p.stats().active()) + 1.0)
}

impl LoadBalance for PowerOfTwoChoices {
    fn select(&self, providers: &[Provider], _invocation: &Invocation) -> usize {
        let n = providers.len() as u64;
        if n == 1 {
            return 0;
        }
        let a = self.rng.below(n) as usize;
        let mut b = self.rng.below(n - 1) as usize;
        if b >= a {
            b += 1;
        }
        if cost(&providers[b]) < cost(&providers[a]) {
            b
        } else {
            a
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::loadbalance::testing::{histogram, providers};
    use std::time::Duration;

    #[test]
    fn slow_providers_get_less_traffic() {
        let lb = PowerOfTwoChoices::new(Rng::with_seed(9));
        let ps = providers(&[1, 1, 1]);
        ps[0].stats().record_call(Duration::from_millis(100), true);
        ps[1].stats().record_call(Duration::from_millis(1), true);
        ps[2].stats().record_call(Duration::from_millis(10), true);
        let counts = histogram(&lb, &ps, 3000);
        // The slowest only wins when paired with itself, which never happens.
        assert_eq!(counts[0], 0, "{counts:?}");
        assert!(counts[1] > counts[2], "{counts:?}");
    }
}
