//! The fault-tolerance strategies of a [`ClusterInvoker`](super::ClusterInvoker).

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt as _;
use futures_util::stream::FuturesUnordered;

use super::directory::Directory;
use super::loadbalance::LoadBalance;
use super::provider::Provider;
use crate::error::Error;
use crate::invocation::{Body, Invocation, Reply};
use crate::message::Payload;
use crate::status::{Code, Status};
use crate::url::Url;

/// How a cluster handles a failed call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Strategy {
    /// Retry on other providers when safe (see the module docs).
    Failover,
    /// One attempt.
    Failfast,
    /// Errors become an empty reply.
    Failsafe,
    /// Errors become an empty reply and the call is retried in the background.
    Failback,
    /// Several providers in parallel; the first success wins.
    Forking,
    /// Every provider; fails if any fails.
    Broadcast,
}

impl Strategy {
    /// The strategy for a `cluster=` name.
    pub fn from_name(name: &str) -> Option<Strategy> {
        Some(match name {
            "failover" | "" => Strategy::Failover,
            "failfast" => Strategy::Failfast,
            "failsafe" => Strategy::Failsafe,
            "failback" => Strategy::Failback,
            "forking" => Strategy::Forking,
            "broadcast" => Strategy::Broadcast,
            _ => return None,
        })
    }

    /// The strategy a reference URL asks for (default failover).
    pub fn from_url(url: &Url) -> Result<Strategy, Error> {
        let name = url.param_or("cluster", "failover");
        Strategy::from_name(name).ok_or_else(|| Error::config(format!("unknown cluster {name:?}")))
    }

    pub(crate) async fn run(self, ctx: Context, invocation: Invocation) -> Result<Reply, Status> {
        match self {
            Strategy::Failover => failover(&ctx, invocation).await,
            Strategy::Failfast => failfast(&ctx, invocation).await,
            Strategy::Failsafe => failsafe(&ctx, invocation).await,
            Strategy::Failback => failback(ctx, invocation).await,
            Strategy::Forking => forking(&ctx, invocation).await,
            Strategy::Broadcast => broadcast(&ctx, invocation).await,
        }
    }
}

/// Per-call settings of a strategy run.
pub(crate) struct Context {
    pub(crate) directory: Arc<Directory>,
    pub(crate) balancer: Arc<dyn LoadBalance>,
    pub(crate) retries: u32,
    pub(crate) idempotent: bool,
    pub(crate) forks: usize,
    pub(crate) failback_retries: u32,
    pub(crate) failback_interval: Duration,
}

fn no_provider(invocation: &Invocation) -> Status {
    Status::unavailable(format!(
        "no provider available for {} (method {})",
        invocation.target().service_key(),
        invocation.method().name
    ))
    .with_request_not_sent()
}

async fn call(provider: &Provider, invocation: Invocation) -> Result<Reply, Status> {
    let guard = provider.stats().begin();
    let result = provider.invoker().invoke(invocation).await;
    guard.finish(result.is_ok());
    result
}

/// Picks a provider, preferring ones not in `exclude`.
fn pick(ctx: &Context, invocation: &Invocation, exclude: &[String]) -> Option<Provider> {
    let providers = ctx.directory.list();
    if providers.is_empty() {
        return None;
    }
    let fresh: Vec<Provider> = providers
        .iter()
        .filter(|p| !exclude.iter().any(|k| k == p.key()))
        .cloned()
        .collect();
    let candidates = if fresh.is_empty() {
        providers.to_vec()
    } else {
        fresh
    };
    let index = ctx.balancer.select(&candidates, invocation);
    candidates.get(index).or(candidates.first()).cloned()
}

fn deadline_passed(invocation: &Invocation) -> bool {
    invocation.deadline().is_some_and(|d| Instant::now() >= d)
}

async fn failover(ctx: &Context, invocation: Invocation) -> Result<Reply, Status> {
    let replayable = matches!(invocation.body(), Body::Unary(_));
    let attempts = if replayable { ctx.retries + 1 } else { 1 };
    let mut tried: Vec<String> = Vec::new();
    let mut original = Some(invocation);
    for attempt in 0..attempts {
        let Some(current) = original.as_ref() else {
            break;
        };
        let Some(provider) = pick(ctx, current, &tried) else {
            return Err(no_provider(current));
        };
        let last = attempt + 1 == attempts;
        let this_call = if last {
            original.take()
        } else {
            current.try_clone()
        };
        let Some(this_call) = this_call else { break };
        match call(&provider, this_call).await {
            Ok(reply) => return Ok(reply),
            Err(status) => {
                let safe = status.request_not_sent() || ctx.idempotent;
                let expired = original.as_ref().is_some_and(deadline_passed);
                if last || !safe || expired {
                    return Err(status);
                }
                tracing::debug!(
                    provider = %provider.url().address(),
                    %status,
                    attempt,
                    "call failed; retrying on another provider"
                );
                tried.push(provider.key().to_owned());
            }
        }
    }
    Err(Status::unavailable("no provider could take the call"))
}

async fn failfast(ctx: &Context, invocation: Invocation) -> Result<Reply, Status> {
    let provider = pick(ctx, &invocation, &[]).ok_or_else(|| no_provider(&invocation))?;
    call(&provider, invocation).await
}

/// An empty reply that decodes as the reply type's default value.
fn empty_reply(invocation_kind_streams: bool) -> Reply {
    if invocation_kind_streams {
        Reply {
            headers: crate::Metadata::new(),
            body: Body::Stream(Box::pin(futures_util::stream::empty())),
            trailers: crate::Metadata::new(),
            compress: None,
        }
    } else {
        Reply::unary(Payload::protobuf(Bytes::new()))
    }
}

async fn failsafe(ctx: &Context, invocation: Invocation) -> Result<Reply, Status> {
    let streams = invocation.method().kind.server_streaming();
    match failfast(ctx, invocation).await {
        Ok(reply) => Ok(reply),
        Err(status) => {
            tracing::warn!(%status, "failsafe: ignoring a failed call");
            Ok(empty_reply(streams))
        }
    }
}

async fn failback(ctx: Context, invocation: Invocation) -> Result<Reply, Status> {
    let streams = invocation.method().kind.server_streaming();
    let retry = invocation.try_clone();
    match failfast(&ctx, invocation).await {
        Ok(reply) => Ok(reply),
        Err(status) => {
            tracing::warn!(%status, "failback: call failed; retrying in the background");
            if let Some(retry) = retry {
                tokio::spawn(async move {
                    for round in 0..ctx.failback_retries {
                        tokio::time::sleep(ctx.failback_interval).await;
                        let Some(attempt) = retry.try_clone() else {
                            return;
                        };
                        match failfast(&ctx, attempt).await {
                            Ok(_) => return,
                            Err(status) => {
                                tracing::debug!(%status, round, "failback retry failed")
                            }
                        }
                    }
                    tracing::warn!("failback: giving up after {} retries", ctx.failback_retries);
                });
            }
            Ok(empty_reply(streams))
        }
    }
}

async fn forking(ctx: &Context, invocation: Invocation) -> Result<Reply, Status> {
    if !matches!(invocation.body(), Body::Unary(_)) {
        return failfast(ctx, invocation).await;
    }
    let mut chosen: Vec<Provider> = Vec::new();
    let mut keys: Vec<String> = Vec::new();
    let available = ctx.directory.list().len();
    while chosen.len() < ctx.forks.max(1).min(available) {
        let Some(p) = pick(ctx, &invocation, &keys) else {
            break;
        };
        if keys.iter().any(|k| k == p.key()) {
            break;
        }
        keys.push(p.key().to_owned());
        chosen.push(p);
    }
    if chosen.is_empty() {
        return Err(no_provider(&invocation));
    }
    let mut calls: FuturesUnordered<_> = chosen
        .into_iter()
        .filter_map(|p| {
            invocation
                .try_clone()
                .map(|inv| async move { call(&p, inv).await })
        })
        .collect();
    let mut last = None;
    while let Some(result) = calls.next().await {
        match result {
            Ok(reply) => return Ok(reply),
            Err(status) => last = Some(status),
        }
    }
    Err(last.unwrap_or_else(|| no_provider(&invocation)))
}

async fn broadcast(ctx: &Context, invocation: Invocation) -> Result<Reply, Status> {
    if !matches!(invocation.body(), Body::Unary(_)) {
        return Err(Status::unimplemented(
            "broadcast cannot replay a streaming request to every provider",
        ));
    }
    let providers = ctx.directory.list();
    if providers.is_empty() {
        return Err(no_provider(&invocation));
    }
    let mut last_ok = None;
    let mut first_error: Option<Status> = None;
    for provider in providers.iter() {
        let Some(copy) = invocation.try_clone() else {
            break;
        };
        match call(provider, copy).await {
            Ok(reply) => last_ok = Some(reply),
            Err(status) => {
                tracing::warn!(provider = %provider.url().address(), %status, "broadcast call failed");
                first_error.get_or_insert(status);
            }
        }
    }
    match (first_error, last_ok) {
        (Some(status), _) => Err(Status::new(
            if status.code() == Code::Ok {
                Code::Unknown
            } else {
                status.code()
            },
            format!(
                "broadcast failed on at least one provider: {}",
                status.message()
            ),
        )),
        (None, Some(reply)) => Ok(reply),
        (None, None) => Err(no_provider(&invocation)),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::cluster::ClusterInvoker;
    use crate::cluster::loadbalance::{RoundRobin, testing};
    use crate::invoker::{BoxFuture, Invoker};
    use crate::{Metadata, Url};

    type Behaviour = Box<dyn Fn(usize) -> Result<(), Status> + Send + Sync>;

    /// A provider that answers its own name, or fails as scripted (by call number).
    struct Scripted {
        url: Url,
        name: &'static str,
        calls: Arc<AtomicUsize>,
        behaviour: Behaviour,
    }

    impl std::fmt::Debug for Scripted {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.name)
        }
    }

    impl Invoker for Scripted {
        fn url(&self) -> &Url {
            &self.url
        }
        fn invoke(&self, _: Invocation) -> BoxFuture<'static, Result<Reply, Status>> {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            let outcome = (self.behaviour)(n);
            let name = self.name;
            Box::pin(async move {
                outcome
                    .map(|()| Reply::unary(Payload::protobuf(Bytes::from_static(name.as_bytes()))))
            })
        }
    }

    fn provider(name: &'static str, behaviour: Behaviour) -> (Provider, Arc<AtomicUsize>) {
        let url = Url::parse(&format!("tri://{name}:1/svc?warmup=0")).unwrap();
        let calls = Arc::new(AtomicUsize::new(0));
        let invoker = Scripted {
            url: url.clone(),
            name,
            calls: Arc::clone(&calls),
            behaviour,
        };
        (Provider::new(url, Arc::new(invoker)), calls)
    }

    fn ok() -> Behaviour {
        Box::new(|_| Ok(()))
    }

    fn fail(status: Status) -> Behaviour {
        Box::new(move |_| Err(status.clone()))
    }

    fn cluster(strategy: Strategy, providers: Vec<Provider>, params: &str) -> ClusterInvoker {
        let mut invoker = ClusterInvoker::with(
            Directory::fixed(providers),
            strategy,
            Arc::new(RoundRobin::default()),
        );
        invoker.url = Url::parse(&format!("tri://cluster/svc?{params}")).unwrap();
        invoker
    }

    fn answer(reply: Reply) -> String {
        match reply.body {
            Body::Unary(p) => String::from_utf8(p.as_protobuf().unwrap().to_vec()).unwrap(),
            Body::Stream(_) => "stream".into(),
        }
    }

    fn call_once(
        c: &ClusterInvoker,
    ) -> impl std::future::Future<Output = Result<Reply, Status>> + use<> {
        c.invoke(testing::invocation(b"x", Metadata::new()))
    }

    #[tokio::test]
    async fn failover_retries_requests_that_were_not_sent() {
        let (a, a_calls) = provider(
            "a",
            fail(Status::unavailable("refused").with_request_not_sent()),
        );
        let (b, b_calls) = provider("b", ok());
        let c = cluster(Strategy::Failover, vec![a, b], "");
        assert_eq!(answer(call_once(&c).await.unwrap()), "b");
        assert_eq!(a_calls.load(Ordering::SeqCst), 1);
        assert_eq!(b_calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn failover_does_not_retry_a_request_that_may_have_run() {
        let (a, a_calls) = provider("a", fail(Status::unavailable("reset mid-call")));
        let (b, b_calls) = provider("b", ok());
        let c = cluster(Strategy::Failover, vec![a, b], "");
        assert_eq!(call_once(&c).await.unwrap_err().code(), Code::Unavailable);
        assert_eq!(
            a_calls.load(Ordering::SeqCst) + b_calls.load(Ordering::SeqCst),
            1
        );
    }

    #[tokio::test]
    async fn failover_retries_any_error_for_idempotent_methods_up_to_retries() {
        let (a, a_calls) = provider("a", fail(Status::internal("boom")));
        let (b, b_calls) = provider("b", fail(Status::internal("boom")));
        let (c_, c_calls) = provider("c", fail(Status::internal("boom")));
        let c = cluster(
            Strategy::Failover,
            vec![a, b, c_],
            "idempotent=true&retries=1",
        );
        assert_eq!(call_once(&c).await.unwrap_err().code(), Code::Internal);
        let total = a_calls.load(Ordering::SeqCst)
            + b_calls.load(Ordering::SeqCst)
            + c_calls.load(Ordering::SeqCst);
        assert_eq!(total, 2, "1 call + 1 retry");
        // Per-method override, and success after retries.
        let (a, _) = provider("a", fail(Status::internal("boom")));
        let (b, _) = provider("b", ok());
        let c = cluster(
            Strategy::Failover,
            vec![a, b],
            "Call.idempotent=true&Call.retries=3",
        );
        assert_eq!(answer(call_once(&c).await.unwrap()), "b");
        let (a, a_calls) = provider("a", fail(Status::internal("boom")));
        let (b, _) = provider("b", ok());
        let c = cluster(
            Strategy::Failover,
            vec![a, b],
            "idempotent=true&Call.retries=0",
        );
        assert!(call_once(&c).await.is_err());
        assert_eq!(a_calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn no_providers_is_unavailable_and_not_sent() {
        let c = cluster(Strategy::Failover, vec![], "");
        let status = call_once(&c).await.unwrap_err();
        assert_eq!(status.code(), Code::Unavailable);
        assert!(status.request_not_sent());
        assert!(status.message().contains("no provider"), "{status}");
    }

    #[tokio::test]
    async fn failfast_makes_one_attempt() {
        let (a, a_calls) = provider("a", fail(Status::unavailable("x").with_request_not_sent()));
        let (b, b_calls) = provider("b", ok());
        let c = cluster(Strategy::Failfast, vec![a, b], "");
        assert!(call_once(&c).await.is_err());
        assert_eq!(
            a_calls.load(Ordering::SeqCst) + b_calls.load(Ordering::SeqCst),
            1
        );
    }

    #[tokio::test]
    async fn failsafe_turns_errors_into_empty_replies() {
        let (a, _) = provider("a", fail(Status::internal("boom")));
        let c = cluster(Strategy::Failsafe, vec![a], "");
        let reply = call_once(&c).await.unwrap();
        let Body::Unary(payload) = reply.body else {
            panic!("unary")
        };
        assert_eq!(payload.decode::<()>().ok(), Some(()));
    }

    #[tokio::test]
    async fn failback_retries_in_the_background() {
        let (a, a_calls) = provider(
            "a",
            Box::new(|n| {
                if n < 2 {
                    Err(Status::internal("not yet"))
                } else {
                    Ok(())
                }
            }),
        );
        let mut c = cluster(
            Strategy::Failback,
            vec![a],
            "failback.interval=10&failback.retries=5",
        );
        c.url = Url::parse("tri://cluster/svc?failback.interval=10&failback.retries=5").unwrap();
        assert!(
            call_once(&c).await.is_ok(),
            "the caller gets an empty reply at once"
        );
        let deadline = Instant::now() + Duration::from_secs(5);
        while a_calls.load(Ordering::SeqCst) < 3 {
            assert!(
                Instant::now() < deadline,
                "background retries did not happen"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(
            a_calls.load(Ordering::SeqCst),
            3,
            "retrying stops after a success"
        );
    }

    #[tokio::test]
    async fn forking_returns_the_first_success() {
        let (a, a_calls) = provider("a", fail(Status::internal("boom")));
        let (b, b_calls) = provider("b", ok());
        let (x, x_calls) = provider("x", ok());
        let c = cluster(Strategy::Forking, vec![a, b, x], "forks=2");
        assert_eq!(answer(call_once(&c).await.unwrap()), "b");
        assert_eq!(a_calls.load(Ordering::SeqCst), 1);
        assert_eq!(b_calls.load(Ordering::SeqCst), 1);
        assert_eq!(
            x_calls.load(Ordering::SeqCst),
            0,
            "only `forks` providers are called"
        );
        let (a, _) = provider("a", fail(Status::internal("a")));
        let (b, _) = provider("b", fail(Status::internal("b")));
        let c = cluster(Strategy::Forking, vec![a, b], "forks=2");
        assert_eq!(call_once(&c).await.unwrap_err().code(), Code::Internal);
    }

    #[tokio::test]
    async fn broadcast_calls_everyone_and_fails_if_anyone_fails() {
        let (a, a_calls) = provider("a", ok());
        let (b, b_calls) = provider("b", ok());
        let c = cluster(Strategy::Broadcast, vec![a, b], "");
        assert!(call_once(&c).await.is_ok());
        assert_eq!(a_calls.load(Ordering::SeqCst), 1);
        assert_eq!(b_calls.load(Ordering::SeqCst), 1);
        let (a, _) = provider("a", ok());
        let (b, _) = provider("b", fail(Status::permission_denied("no")));
        let (d, d_calls) = provider("d", ok());
        let c = cluster(Strategy::Broadcast, vec![a, b, d], "");
        assert_eq!(
            call_once(&c).await.unwrap_err().code(),
            Code::PermissionDenied
        );
        assert_eq!(
            d_calls.load(Ordering::SeqCst),
            1,
            "broadcast continues past a failure"
        );
    }

    #[test]
    fn strategies_by_name() {
        for (name, s) in [
            ("failover", Strategy::Failover),
            ("failfast", Strategy::Failfast),
            ("failsafe", Strategy::Failsafe),
            ("failback", Strategy::Failback),
            ("forking", Strategy::Forking),
            ("broadcast", Strategy::Broadcast),
        ] {
            assert_eq!(Strategy::from_name(name), Some(s));
        }
        assert!(Strategy::from_url(&Url::parse("tri://h/s?cluster=nope").unwrap()).is_err());
    }
}
