//! A registry that is just a list of URLs, for use without ZooKeeper (and in tests).

use std::fmt;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use super::{Registry, Subscription, is_match};
use crate::error::Error;
use crate::invoker::BoxFuture;
use crate::url::Url;

/// A fixed (but mutable) list of provider URLs. URLs without an interface serve any
/// interface, so `tri://10.0.0.1:50051` works as a static provider entry.
///
/// ```
/// # async fn run() -> Result<(), dubbo_runtime::Error> {
/// use dubbo_runtime::registry::{Registry, StaticRegistry};
/// use dubbo_runtime::Url;
/// let registry = StaticRegistry::new([
///     Url::parse("tri://10.0.0.1:50051")?,
///     Url::parse("tri://10.0.0.2:50051")?,
/// ]);
/// let subscription = registry
///     .subscribe(Url::parse("consumer://10.0.0.9/org.apache.dubbo.sample.Greeter")?)
///     .await?;
/// assert_eq!(subscription.current().len(), 2);
/// # Ok(()) }
/// ```
pub struct StaticRegistry {
    url: Url,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    urls: Vec<Url>,
    subscribers: Vec<(Url, watch::Sender<Arc<Vec<Url>>>)>,
}

impl fmt::Debug for StaticRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        f.debug_struct("StaticRegistry")
            .field("urls", &inner.urls)
            .finish()
    }
}

fn normalize(mut url: Url) -> Url {
    if url.interface().is_empty() {
        url.set_param("interface", "*");
    }
    url
}

impl StaticRegistry {
    /// A registry serving `urls`.
    pub fn new(urls: impl IntoIterator<Item = Url>) -> StaticRegistry {
        StaticRegistry {
            url: Url::new("static", "", 0),
            inner: Mutex::new(Inner {
                urls: urls.into_iter().map(normalize).collect(),
                subscribers: Vec::new(),
            }),
        }
    }

    fn publish(inner: &mut Inner) {
        inner.subscribers.retain(|(_, tx)| !tx.is_closed());
        for (consumer, tx) in &inner.subscribers {
            let matching = filter(&inner.urls, consumer);
            tx.send_if_modified(|current| {
                if **current == matching {
                    false
                } else {
                    *current = Arc::new(matching);
                    true
                }
            });
        }
    }
}

fn filter(urls: &[Url], consumer: &Url) -> Vec<Url> {
    urls.iter()
        .filter(|u| is_match(consumer, u))
        .cloned()
        .collect()
}

impl Registry for StaticRegistry {
    fn url(&self) -> &Url {
        &self.url
    }

    fn register(&self, url: Url) -> BoxFuture<'_, Result<(), Error>> {
        let url = normalize(url);
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if !inner.urls.contains(&url) {
            inner.urls.push(url);
            StaticRegistry::publish(&mut inner);
        }
        Box::pin(std::future::ready(Ok(())))
    }

    fn unregister(&self, url: Url) -> BoxFuture<'_, Result<(), Error>> {
        let url = normalize(url);
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let before = inner.urls.len();
        inner.urls.retain(|u| u != &url);
        if inner.urls.len() != before {
            StaticRegistry::publish(&mut inner);
        }
        Box::pin(std::future::ready(Ok(())))
    }

    fn subscribe(&self, consumer: Url) -> BoxFuture<'_, Result<Subscription, Error>> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let (tx, rx) = watch::channel(Arc::new(filter(&inner.urls, &consumer)));
        inner.subscribers.push((consumer, tx));
        Box::pin(std::future::ready(Ok(Subscription::new(rx, None))))
    }

    fn destroy(&self) -> BoxFuture<'_, ()> {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.urls.clear();
        StaticRegistry::publish(&mut inner);
        inner.subscribers.clear();
        Box::pin(std::future::ready(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn subscribers_see_matching_changes() {
        let registry = StaticRegistry::new([Url::parse("tri://a:1/com.Foo?version=1").unwrap()]);
        let mut v1 = registry
            .subscribe(Url::parse("consumer://c/com.Foo?version=1").unwrap())
            .await
            .unwrap();
        let v2 = registry
            .subscribe(Url::parse("consumer://c/com.Foo?version=2").unwrap())
            .await
            .unwrap();
        assert_eq!(v1.current().len(), 1);
        assert!(v2.current().is_empty());
        registry
            .register(Url::parse("tri://b:1/com.Foo?version=1").unwrap())
            .await
            .unwrap();
        assert_eq!(v1.changed().await.unwrap().len(), 2);
        registry
            .unregister(Url::parse("tri://a:1/com.Foo?version=1").unwrap())
            .await
            .unwrap();
        let now = v1.changed().await.unwrap();
        assert_eq!(now.len(), 1);
        assert_eq!(now[0].host(), "b");
        assert!(v2.current().is_empty());
        let bare = StaticRegistry::new([Url::parse("tri://x:9").unwrap()]);
        let any = bare
            .subscribe(Url::parse("consumer://c/any.Service").unwrap())
            .await
            .unwrap();
        assert_eq!(any.current().len(), 1);
    }
}
