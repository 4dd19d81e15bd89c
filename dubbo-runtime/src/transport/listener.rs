use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use crate::invoker::BoxFuture;

/// Serves one accepted connection until it closes. It must start a graceful close (for
/// HTTP/2: GOAWAY, then finish in-flight streams) when `shutdown` fires.
pub(crate) trait ConnectionHandler: Send + Sync + 'static {
    fn handle(
        &self,
        stream: TcpStream,
        remote: SocketAddr,
        shutdown: ShutdownSignal,
    ) -> BoxFuture<'static, ()>;
}

/// Fires when the listener starts shutting down.
#[derive(Clone, Debug)]
pub(crate) struct ShutdownSignal(watch::Receiver<bool>);

impl ShutdownSignal {
    /// A signal that fires when `rx` sees `true` (for tests that drive a connection handler
    /// without a listener).
    #[cfg(test)]
    pub(crate) fn from_receiver(rx: watch::Receiver<bool>) -> ShutdownSignal {
        ShutdownSignal(rx)
    }

    /// Resolves once shutdown has begun.
    /// A dropped sender also counts as shutdown.
    pub(crate) async fn fired(mut self) {
        let _ = self.0.wait_for(|v| *v).await.map(drop);
    }

    /// [`fired`](Self::fired) for a connection loop that checks it on every wake-up: once
    /// the first poll has registered the task, later polls only compare the channel's
    /// version (one atomic load) until the listener sends something.
    pub(crate) fn watch(self) -> ShutdownWatch<impl Future<Output = ()> + Send> {
        let probe = self.0.clone();
        ShutdownWatch {
            fired: self.fired(),
            probe,
            armed: false,
        }
    }
}

pin_project_lite::pin_project! {
    /// See [`ShutdownSignal::watch`].
    pub(crate) struct ShutdownWatch<F> {
        #[pin]
        fired: F,
        probe: watch::Receiver<bool>,
        armed: bool,
    }
}

impl<F: Future<Output = ()>> Future for ShutdownWatch<F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        // A closed channel (`Err`) counts as a change: `fired` resolves on it.
        if *this.armed && !this.probe.has_changed().unwrap_or(true) {
            return Poll::Pending;
        }
        *this.armed = true;
        this.fired.poll(cx)
    }
}

/// A bound TCP listener with its accept loop running in a task.
#[derive(Debug)]
pub(crate) struct Listener {
    local_addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    grace: watch::Sender<Duration>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Listener {
    pub(crate) async fn bind(
        addr: &str,
        handler: Arc<dyn ConnectionHandler>,
        nodelay: bool,
    ) -> io::Result<Listener> {
        let listener = TcpListener::bind(addr).await?;
        let local_addr = listener.local_addr()?;
        let (shutdown, shutdown_rx) = watch::channel(false);
        let (grace, grace_rx) = watch::channel(Duration::from_secs(10));
        let task = tokio::spawn(accept_loop(
            listener,
            handler,
            nodelay,
            shutdown_rx,
            grace_rx,
        ));
        Ok(Listener {
            local_addr,
            shutdown,
            grace,
            task: Mutex::new(Some(task)),
        })
    }

    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting, asks every connection to close gracefully, waits up to `grace` for
    /// them, then closes the rest. Returns when everything is closed.
    pub(crate) async fn shutdown(&self, grace: Duration) {
        let _ = self.grace.send(grace);
        let _ = self.shutdown.send(true);
        let task = self.task.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    handler: Arc<dyn ConnectionHandler>,
    nodelay: bool,
    shutdown: watch::Receiver<bool>,
    grace: watch::Receiver<Duration>,
) {
    let mut connections = JoinSet::new();
    let stop = ShutdownSignal(shutdown.clone()).fired();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            biased;
            () = &mut stop => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, remote)) => {
                    if nodelay {
                        let _ = stream.set_nodelay(true);
                    }
                    let signal = ShutdownSignal(shutdown.clone());
                    connections.spawn(handler.handle(stream, remote, signal));
                }
                Err(err) => {
                    // Out of file descriptors and similar: back off instead of spinning.
                    tracing::warn!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    drop(listener);
    let grace: Duration = *grace.borrow();
    let drain = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(grace, drain).await.is_err() {
        tracing::info!(
            remaining = connections.len(),
            "grace period over; closing remaining connections"
        );
        connections.shutdown().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::pin::pin;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Wake, Waker};

    #[derive(Default)]
    struct CountingWaker(AtomicUsize);

    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn watch_wakes_and_fires_when_shutdown_is_sent() {
        let (tx, rx) = watch::channel(false);
        let counter = Arc::new(CountingWaker::default());
        let waker = Waker::from(Arc::clone(&counter));
        let mut cx = Context::from_waker(&waker);
        let mut shutdown = pin!(ShutdownSignal(rx).watch());
        for _ in 0..3 {
            assert!(shutdown.as_mut().poll(&mut cx).is_pending());
        }
        tx.send(true).unwrap();
        assert_eq!(counter.0.load(Ordering::SeqCst), 1, "the task is woken");
        assert!(shutdown.as_mut().poll(&mut cx).is_ready());
    }

    #[test]
    fn watch_fires_when_the_listener_is_gone_or_already_shut_down() {
        let (tx, rx) = watch::channel(false);
        let mut cx = Context::from_waker(Waker::noop());
        let mut shutdown = pin!(ShutdownSignal(rx).watch());
        assert!(shutdown.as_mut().poll(&mut cx).is_pending());
        drop(tx);
        assert!(shutdown.as_mut().poll(&mut cx).is_ready());

        let (tx, rx) = watch::channel(false);
        tx.send(true).unwrap();
        let mut late = pin!(ShutdownSignal(rx).watch());
        assert!(late.as_mut().poll(&mut cx).is_ready());
    }

    #[test]
    fn watch_ignores_sends_that_are_not_shutdown() {
        let (tx, rx) = watch::channel(false);
        let mut cx = Context::from_waker(Waker::noop());
        let mut shutdown = pin!(ShutdownSignal(rx).watch());
        assert!(shutdown.as_mut().poll(&mut cx).is_pending());
        tx.send(false).unwrap();
        assert!(shutdown.as_mut().poll(&mut cx).is_pending());
        tx.send(true).unwrap();
        assert!(shutdown.as_mut().poll(&mut cx).is_ready());
    }
}
