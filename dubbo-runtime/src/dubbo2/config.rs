//! Dubbo2 settings: payload limit, heartbeats, idle and connect timeouts, grace period.

use std::time::Duration;

use super::codec::Serialization;

/// Settings for a [`Dubbo2Protocol`](super::Dubbo2Protocol) (both its servers and its client
/// connections). Every limit has a default and a knob.
///
/// A reference URL may override the client side per provider address: `payload` (bytes),
/// `heartbeat` and `heartbeat.timeout` (ms), `connect.timeout` (ms) and `serialization`
/// (`hessian2` or `fastjson`), the Java parameter names.
///
/// ```
/// use dubbo_runtime::dubbo2::{Dubbo2Config, Serialization};
/// use std::time::Duration;
/// let config = Dubbo2Config::default()
///     .max_payload(16 * 1024 * 1024)
///     .heartbeat_interval(Duration::from_secs(30))
///     .idle_timeout(Duration::from_secs(90))
///     .serialization(Serialization::Hessian2);
/// assert_eq!(config.max_payload, 16 * 1024 * 1024);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Dubbo2Config {
    /// Largest frame body read or written (default 8 MiB, Java's `payload`). Checked from the
    /// header before anything is allocated. An oversize request fails locally with
    /// `RESOURCE_EXHAUSTED`; an oversize reply is replaced by a status-25 error; an oversize
    /// frame received fails its call and closes the connection.
    pub max_payload: usize,
    /// Client: send a heartbeat after this long without reading anything (default 60 s).
    pub heartbeat_interval: Duration,
    /// Close a connection that has read nothing for this long (default 180 s, three
    /// heartbeats); the client reconnects on the next call.
    pub idle_timeout: Duration,
    /// Client: how long connecting may take, the heartbeat probe included (default 3 s).
    pub connect_timeout: Duration,
    /// Client: after connecting, send one heartbeat and wait for its answer (within the
    /// connect timeout), so a silent peer fails fast with `UNAVAILABLE` (default true).
    pub probe_on_connect: bool,
    /// Client: how request bodies are encoded (default Hessian 2). Servers answer in the
    /// serialization of each request.
    pub serialization: Serialization,
    /// How long `destroy()` lets in-flight calls run before closing connections (default
    /// 10 s). Consumers are told first with the read-only event.
    pub grace_period: Duration,
    /// Frames that may wait for one connection's writer before senders wait (default 1024).
    pub write_queue: usize,
    /// Server: requests of one connection handled at once (default 4096). At the limit the
    /// connection is not read until some finish, so a client that sends without reading
    /// replies is slowed down by TCP instead of growing the server's memory.
    pub max_concurrent_requests: usize,
    /// Set `TCP_NODELAY` on every connection (default true).
    pub tcp_nodelay: bool,
    /// Server: reply bytes of one connection the peer has not taken yet at which the
    /// connection stops reading requests until it does (default 1 MiB).
    pub max_unsent_bytes: usize,
}

impl Default for Dubbo2Config {
    fn default() -> Dubbo2Config {
        Dubbo2Config {
            max_payload: 8 * 1024 * 1024,
            heartbeat_interval: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(180),
            connect_timeout: Duration::from_secs(3),
            probe_on_connect: true,
            serialization: Serialization::Hessian2,
            grace_period: Duration::from_secs(10),
            write_queue: 1024,
            max_concurrent_requests: 4096,
            tcp_nodelay: true,
            max_unsent_bytes: 1024 * 1024,
        }
    }
}

macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident: $ty:ty,)*) => {
        impl Dubbo2Config {
            $(
                $(#[$doc])*
                #[must_use]
                pub fn $name(mut self, value: $ty) -> Dubbo2Config {
                    self.$name = value;
                    self
                }
            )*
        }
    };
}

setters! {
    /// Sets [`Dubbo2Config::max_payload`].
    max_payload: usize,
    /// Sets [`Dubbo2Config::heartbeat_interval`].
    heartbeat_interval: Duration,
    /// Sets [`Dubbo2Config::idle_timeout`].
    idle_timeout: Duration,
    /// Sets [`Dubbo2Config::connect_timeout`].
    connect_timeout: Duration,
    /// Sets [`Dubbo2Config::probe_on_connect`].
    probe_on_connect: bool,
    /// Sets [`Dubbo2Config::serialization`].
    serialization: Serialization,
    /// Sets [`Dubbo2Config::grace_period`].
    grace_period: Duration,
    /// Sets [`Dubbo2Config::write_queue`].
    write_queue: usize,
    /// Sets [`Dubbo2Config::max_concurrent_requests`].
    max_concurrent_requests: usize,
    /// Sets [`Dubbo2Config::tcp_nodelay`].
    tcp_nodelay: bool,
    /// Sets [`Dubbo2Config::max_unsent_bytes`].
    max_unsent_bytes: usize,
}
