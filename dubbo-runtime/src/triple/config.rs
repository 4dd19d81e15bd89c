//! Triple settings: limits, HTTP/2 parameters, timeouts. Every limit has a default and a knob.

use std::time::Duration;

/// Settings for a [`TripleProtocol`](super::TripleProtocol) (both its servers and its client
/// connections).
///
/// ```
/// use dubbo_runtime::triple::TripleConfig;
/// use std::time::Duration;
/// let config = TripleConfig::default()
///     .max_receive_message_size(16 * 1024 * 1024)
///     .grace_period(Duration::from_secs(5))
///     .compress_responses(true);
/// assert_eq!(config.max_receive_message_size, 16 * 1024 * 1024);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TripleConfig {
    /// Largest message accepted, after decompression (default 4 MiB, like gRPC). Larger ones
    /// fail the call with `RESOURCE_EXHAUSTED`.
    pub max_receive_message_size: usize,
    /// Largest message sent (default 4 GiB - 1, the framing limit).
    pub max_send_message_size: usize,
    /// Server: gzip replies when the client accepts gzip (default off; a handler can decide
    /// per reply with `Response::set_compression`).
    pub compress_responses: bool,
    /// How long `destroy()` lets in-flight calls run before closing connections
    /// (default 10 s).
    pub grace_period: Duration,
    /// Server: concurrent streams allowed per connection (default 2048).
    pub max_concurrent_streams: u32,
    /// HTTP/2 initial stream window (default 2 MiB).
    pub initial_stream_window_size: u32,
    /// HTTP/2 initial connection window (default 4 MiB).
    pub initial_connection_window_size: u32,
    /// HTTP/2 max frame size we accept (default 16 KiB, the HTTP/2 minimum).
    pub max_frame_size: u32,
    /// HTTP/2 max header list size we accept (default 32 KiB, as Java Dubbo).
    pub max_header_list_size: u32,
    /// Server: streams reset by the peer that may be awaiting cleanup at once (default 32);
    /// bounds rapid-reset abuse.
    pub max_concurrent_reset_streams: usize,
    /// Server: reset-but-unaccepted streams tolerated before the connection is closed
    /// (default 32).
    pub max_pending_accept_reset_streams: usize,
    /// Per-stream send buffer (default 1 MiB).
    pub max_send_buffer_size: usize,
    /// Client: how long connecting (TCP + HTTP/2 handshake) may take (default 3 s).
    pub connect_timeout: Duration,
    /// Server: how long a new connection may take to send its HTTP/2 preface (default 10 s).
    pub handshake_timeout: Duration,
    /// Set `TCP_NODELAY` on every connection (default true).
    pub tcp_nodelay: bool,
    /// Client: the `user-agent` header.
    pub user_agent: String,
    /// Server: give every call its own task from the start (default false). By default a
    /// call is first polled on its connection's task and moves to its own task only if it
    /// has to wait, which saves a task switch per call and lets the responses of many calls
    /// go out in one write. Set this when handlers do long CPU-bound work before their first
    /// `.await`, so one busy call cannot hold up the rest of its connection.
    pub spawn_handlers: bool,
    /// Server: serve TLS (with mTLS when the config has a client CA).
    #[cfg(feature = "tls")]
    pub server_tls: Option<crate::tls::ServerTlsConfig>,
    /// Client: TLS settings for references that ask for TLS (`tris://` or `tls=true`).
    #[cfg(feature = "tls")]
    pub client_tls: Option<crate::tls::ClientTlsConfig>,
}

impl Default for TripleConfig {
    fn default() -> TripleConfig {
        TripleConfig {
            max_receive_message_size: 4 * 1024 * 1024,
            max_send_message_size: u32::MAX as usize,
            compress_responses: false,
            grace_period: Duration::from_secs(10),
            max_concurrent_streams: 2048,
            initial_stream_window_size: 2 * 1024 * 1024,
            initial_connection_window_size: 4 * 1024 * 1024,
            max_frame_size: 16 * 1024,
            max_header_list_size: 32 * 1024,
            max_concurrent_reset_streams: 32,
            max_pending_accept_reset_streams: 32,
            max_send_buffer_size: 1024 * 1024,
            connect_timeout: Duration::from_secs(3),
            handshake_timeout: Duration::from_secs(10),
            tcp_nodelay: true,
            user_agent: concat!("dubbo-rust/", env!("CARGO_PKG_VERSION")).to_owned(),
            spawn_handlers: false,
            #[cfg(feature = "tls")]
            server_tls: None,
            #[cfg(feature = "tls")]
            client_tls: None,
        }
    }
}

#[cfg(feature = "tls")]
impl TripleConfig {
    /// Serves TLS with these settings.
    #[must_use]
    pub fn server_tls(mut self, tls: crate::tls::ServerTlsConfig) -> TripleConfig {
        self.server_tls = Some(tls);
        self
    }

    /// Uses these settings for client connections that ask for TLS.
    #[must_use]
    pub fn client_tls(mut self, tls: crate::tls::ClientTlsConfig) -> TripleConfig {
        self.client_tls = Some(tls);
        self
    }
}

macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident: $ty:ty,)*) => {
        impl TripleConfig {
            $(
                $(#[$doc])*
                #[must_use]
                pub fn $name(mut self, value: $ty) -> TripleConfig {
                    self.$name = value;
                    self
                }
            )*
        }
    };
}

setters! {
    /// Sets [`TripleConfig::max_receive_message_size`].
    max_receive_message_size: usize,
    /// Sets [`TripleConfig::max_send_message_size`].
    max_send_message_size: usize,
    /// Sets [`TripleConfig::compress_responses`].
    compress_responses: bool,
    /// Sets [`TripleConfig::grace_period`].
    grace_period: Duration,
    /// Sets [`TripleConfig::max_concurrent_streams`].
    max_concurrent_streams: u32,
    /// Sets [`TripleConfig::initial_stream_window_size`].
    initial_stream_window_size: u32,
    /// Sets [`TripleConfig::initial_connection_window_size`].
    initial_connection_window_size: u32,
    /// Sets [`TripleConfig::max_frame_size`].
    max_frame_size: u32,
    /// Sets [`TripleConfig::max_header_list_size`].
    max_header_list_size: u32,
    /// Sets [`TripleConfig::max_concurrent_reset_streams`].
    max_concurrent_reset_streams: usize,
    /// Sets [`TripleConfig::max_pending_accept_reset_streams`].
    max_pending_accept_reset_streams: usize,
    /// Sets [`TripleConfig::max_send_buffer_size`].
    max_send_buffer_size: usize,
    /// Sets [`TripleConfig::connect_timeout`].
    connect_timeout: Duration,
    /// Sets [`TripleConfig::handshake_timeout`].
    handshake_timeout: Duration,
    /// Sets [`TripleConfig::tcp_nodelay`].
    tcp_nodelay: bool,
    /// Sets [`TripleConfig::user_agent`].
    user_agent: String,
    /// Sets [`TripleConfig::spawn_handlers`].
    spawn_handlers: bool,
}
