//! One provider as the cluster sees it: its URL, invoker, statistics and weight.

use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use super::stats::ProviderStats;
use crate::invoker::Invoker;
use crate::url::Url;

/// Default provider weight (URL parameter `weight`).
pub const DEFAULT_WEIGHT: u32 = 100;
/// Default warm-up time in ms (URL parameter `warmup`), as in Java Dubbo.
pub const DEFAULT_WARMUP_MS: u64 = 10 * 60 * 1000;

/// A provider in a directory.
#[derive(Clone)]
pub struct Provider {
    key: Arc<str>,
    url: Arc<Url>,
    invoker: Arc<dyn Invoker>,
    stats: Arc<ProviderStats>,
    weight: u32,
    started_ms: Option<u64>,
    warmup_ms: u64,
}

impl fmt::Debug for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Provider")
            .field("url", &self.url)
            .field("weight", &self.weight)
            .field("active", &self.stats.active())
            .finish()
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Provider {
    /// A provider for `url` reached through `invoker`; weight and warm-up come from the URL.
    pub fn new(url: Url, invoker: Arc<dyn Invoker>) -> Provider {
        Provider::with_stats(url, invoker, Arc::new(ProviderStats::default()))
    }

    /// Like [`Provider::new`] with shared statistics.
    pub fn with_stats(url: Url, invoker: Arc<dyn Invoker>, stats: Arc<ProviderStats>) -> Provider {
        let weight = url
            .param("weight")
            .and_then(|w| w.trim().parse::<i64>().ok())
            .map_or(DEFAULT_WEIGHT, |w| w.clamp(0, i64::from(u32::MAX)) as u32);
        let started_ms = url.param_u64("timestamp");
        let warmup_ms = url.param_u64("warmup").unwrap_or(DEFAULT_WARMUP_MS);
        Provider {
            key: Arc::from(url.address() + "/" + url.path()),
            url: Arc::new(url),
            invoker,
            stats,
            weight,
            started_ms,
            warmup_ms,
        }
    }

    /// A stable identity (address and path) for balancer state.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The provider URL.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The invoker that calls it.
    pub fn invoker(&self) -> &Arc<dyn Invoker> {
        &self.invoker
    }

    /// Its call statistics.
    pub fn stats(&self) -> &Arc<ProviderStats> {
        &self.stats
    }

    /// The configured weight.
    pub fn configured_weight(&self) -> u32 {
        self.weight
    }

    /// The weight now: during warm-up (uptime below `warmup`) it grows linearly from 1.
    pub fn weight(&self) -> u32 {
        self.weight_at(now_ms())
    }

    /// The weight at `now` (ms since the epoch).
    pub fn weight_at(&self, now: u64) -> u32 {
        let weight = self.weight;
        let (Some(started), true) = (self.started_ms, self.warmup_ms > 0) else {
            return weight;
        };
        if weight == 0 {
            return 0;
        }
        let uptime = now.saturating_sub(started);
        if uptime >= self.warmup_ms {
            return weight;
        }
        let scaled = (u128::from(uptime) * u128::from(weight) / u128::from(self.warmup_ms)) as u32;
        scaled.clamp(1, weight)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invocation::Reply;
    use crate::invoker::BoxFuture;
    use crate::{Invocation, Status};

    #[derive(Debug)]
    struct Nop(Url);
    impl Invoker for Nop {
        fn url(&self) -> &Url {
            &self.0
        }
        fn invoke(&self, _: Invocation) -> BoxFuture<'static, Result<Reply, Status>> {
            Box::pin(async { Err(Status::internal("nop")) })
        }
    }

    fn provider(query: &str) -> Provider {
        let url = Url::parse(&format!("tri://h:1/svc?{query}")).unwrap();
        Provider::new(url.clone(), Arc::new(Nop(url)))
    }

    #[test]
    fn weight_and_warmup() {
        assert_eq!(provider("").weight(), DEFAULT_WEIGHT);
        assert_eq!(provider("weight=7").weight(), 7);
        assert_eq!(provider("weight=-3").weight(), 0);
        let p = provider("weight=100&warmup=1000&timestamp=10000");
        assert_eq!(p.weight_at(10_000), 1);
        assert_eq!(p.weight_at(10_500), 50);
        assert_eq!(p.weight_at(11_000), 100);
        assert_eq!(p.weight_at(9_000), 1, "a clock behind the provider's");
        assert_eq!(
            provider("weight=100&warmup=0&timestamp=10000").weight_at(10_000),
            100
        );
    }
}
