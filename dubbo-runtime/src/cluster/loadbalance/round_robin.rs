//! Smooth weighted round robin (nginx's algorithm, as Dubbo's `roundrobin`): over a cycle
//! each provider gets its weight's share, spread out rather than in bursts.

use std::collections::HashMap;
use std::sync::Mutex;

use super::LoadBalance;
use crate::cluster::provider::Provider;
use crate::invocation::Invocation;

/// Smooth weighted round robin, with separate state per method.
#[derive(Debug, Default)]
pub struct RoundRobin {
    /// method → provider key → current weight.
    state: Mutex<HashMap<&'static str, HashMap<String, i64>>>,
}

impl LoadBalance for RoundRobin {
    fn select(&self, providers: &[Provider], invocation: &Invocation) -> usize {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let current = state.entry(invocation.method().name).or_default();
        // Forget providers that left.
        current.retain(|key, _| providers.iter().any(|p| p.key() == key));
        let mut total = 0i64;
        let mut best: Option<(usize, i64)> = None;
        for (i, p) in providers.iter().enumerate() {
            let weight = i64::from(p.weight());
            total += weight;
            let cur = current.entry(p.key().to_owned()).or_insert(0);
            *cur += weight;
            if best.is_none_or(|(_, b)| *cur > b) {
                best = Some((i, *cur));
            }
        }
        let (chosen, _) = best.unwrap_or((0, 0));
        if let Some(cur) = current.get_mut(providers[chosen].key()) {
            *cur -= total;
        }
        chosen
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Metadata;
    use crate::cluster::loadbalance::testing::{histogram, invocation, providers};

    #[test]
    fn sequence_is_smooth_and_proportional() {
        let lb = RoundRobin::default();
        let ps = providers(&[5, 1, 1]);
        let inv = invocation(b"", Metadata::new());
        let order: Vec<usize> = (0..7).map(|_| lb.select(&ps, &inv)).collect();
        // nginx's example: a a b a c a a for weights 5,1,1.
        assert_eq!(order, vec![0, 0, 1, 0, 2, 0, 0]);
        let counts = histogram(&lb, &providers(&[2, 1]), 300);
        assert_eq!(counts, vec![200, 100]);
    }

    #[test]
    fn equal_weights_alternate_and_departed_providers_are_forgotten() {
        let lb = RoundRobin::default();
        let inv = invocation(b"", Metadata::new());
        let ps = providers(&[1, 1, 1]);
        let order: Vec<usize> = (0..6).map(|_| lb.select(&ps, &inv)).collect();
        assert_eq!(order, vec![0, 1, 2, 0, 1, 2]);
        let fewer = &ps[1..];
        let order: Vec<usize> = (0..4).map(|_| lb.select(fewer, &inv)).collect();
        assert_eq!(order.iter().filter(|&&i| i == 0).count(), 2);
    }
}
