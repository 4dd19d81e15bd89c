//! Load balancing: which provider gets a call. Selected with the reference URL parameter
//! `loadbalance` (or `<method>.loadbalance`): `random` (default), `roundrobin`,
//! `leastactive`, `consistenthash`, `p2c`, `shortestresponse`.

mod consistent_hash;
mod least_active;
mod p2c;
mod random;
mod round_robin;
mod shortest_response;

use std::fmt;
use std::sync::Arc;

pub use consistent_hash::ConsistentHash;
pub use least_active::LeastActive;
pub use p2c::PowerOfTwoChoices;
pub use random::WeightedRandom;
pub use round_robin::RoundRobin;
pub use shortest_response::ShortestResponse;

use super::provider::Provider;
use super::stats::Rng;
use crate::invocation::Invocation;

/// Picks a provider for a call.
pub trait LoadBalance: fmt::Debug + Send + Sync + 'static {
    /// An index into `providers` (which is never empty).
    fn select(&self, providers: &[Provider], invocation: &Invocation) -> usize;
}

/// The balancer named `name` (Dubbo's names), seeded from the clock.
pub fn by_name(name: &str) -> Option<Arc<dyn LoadBalance>> {
    Some(match name {
        "random" | "" => Arc::new(WeightedRandom::new(Rng::new())),
        "roundrobin" => Arc::new(RoundRobin::default()),
        "leastactive" => Arc::new(LeastActive::new(Rng::new())),
        "consistenthash" => Arc::new(ConsistentHash::default()),
        "p2c" => Arc::new(PowerOfTwoChoices::new(Rng::new())),
        "shortestresponse" => Arc::new(ShortestResponse::new(Rng::new())),
        _ => return None,
    })
}

/// Weighted random choice among `candidates` (indexes into `providers`) using their current
/// weights; uniform when all weights are equal or zero.
pub(crate) fn weighted_pick(providers: &[Provider], candidates: &[usize], rng: &Rng) -> usize {
    debug_assert!(!candidates.is_empty());
    let weights: Vec<u64> = candidates
        .iter()
        .map(|&i| u64::from(providers[i].weight()))
        .collect();
    let total: u64 = weights.iter().sum();
    let same = weights.windows(2).all(|w| w[0] == w[1]);
    if total == 0 || same {
        return candidates[rng.below(candidates.len() as u64) as usize];
    }
    let mut offset = rng.below(total);
    for (&i, &w) in candidates.iter().zip(&weights) {
        if offset < w {
            return i;
        }
        offset -= w;
    }
    candidates[candidates.len() - 1]
}

#[cfg(test)]
pub(crate) mod testing {
    //! Fake providers for balancer tests.

    use std::sync::Arc;

    use crate::cluster::provider::Provider;
    use crate::codegen::{CallKind, MethodDescriptor};
    use crate::invocation::{Body, Invocation, Reply, ServiceTarget};
    use crate::invoker::{BoxFuture, Invoker};
    use crate::{Metadata, Payload, Status, Url};

    #[derive(Debug)]
    pub(crate) struct Fake(pub(crate) Url);

    impl Invoker for Fake {
        fn url(&self) -> &Url {
            &self.0
        }
        fn invoke(&self, _: Invocation) -> BoxFuture<'static, Result<Reply, Status>> {
            Box::pin(async { Err(Status::internal("fake")) })
        }
    }

    /// Providers `h0..hN` with the given weights (no warm-up).
    pub(crate) fn providers(weights: &[u32]) -> Vec<Provider> {
        weights
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let url = Url::parse(&format!("tri://h{i}:1/svc?weight={w}&warmup=0")).unwrap();
                Provider::new(url.clone(), Arc::new(Fake(url)))
            })
            .collect()
    }

    pub(crate) static METHOD: MethodDescriptor = MethodDescriptor {
        name: "Call",
        path: "/svc/Call",
        kind: CallKind::Unary,
        index: 0,
        request_class: "",
        response_class: "",
        hessian_request: None,
    };

    /// An invocation whose request is `payload` (protobuf bytes) with `metadata`.
    pub(crate) fn invocation(payload: &'static [u8], metadata: Metadata) -> Invocation {
        Invocation::new(
            Arc::new(ServiceTarget::new("svc")),
            &METHOD,
            metadata,
            Body::Unary(Payload::protobuf(bytes::Bytes::from_static(payload))),
        )
    }

    /// How often each provider is picked in `n` selections.
    pub(crate) fn histogram(
        lb: &dyn super::LoadBalance,
        providers: &[Provider],
        n: usize,
    ) -> Vec<usize> {
        let inv = invocation(b"", Metadata::new());
        let mut counts = vec![0; providers.len()];
        for _ in 0..n {
            counts[lb.select(providers, &inv)] += 1;
        }
        counts
    }
}
