use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
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
    /// Resolves once shutdown has begun.
    /// A dropped sender also counts as shutdown.
    pub(crate) async fn fired(mut self) {
        let _ = self.0.wait_for(|v| *v).await.map(drop);
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
