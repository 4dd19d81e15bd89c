//! Graceful offline on SIGINT/SIGTERM.

use crate::protocol::Protocols;

/// Waits for SIGINT (Ctrl-C) or, on Unix, SIGTERM. Returns the signal's name.
pub async fn signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = tokio::signal::ctrl_c() => "SIGINT",
                _ = term.recv() => "SIGTERM",
            },
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for SIGTERM; waiting for SIGINT only");
                let _ = tokio::signal::ctrl_c().await;
                "SIGINT"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "SIGINT"
    }
}

/// Waits for SIGINT/SIGTERM, then destroys every protocol in `protocols` gracefully (stop
/// accepting, drain in-flight calls within the grace period, close).
///
/// ```no_run
/// # async fn run(protocols: dubbo_runtime::protocol::Protocols) {
/// tokio::spawn(async move { dubbo_runtime::shutdown::destroy_on_signal(&protocols).await });
/// # }
/// ```
pub async fn destroy_on_signal(protocols: &Protocols) {
    let name = signal().await;
    tracing::info!(signal = name, "destroying protocols");
    protocols.destroy_all().await;
}
