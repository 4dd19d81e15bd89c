//! The interop client: connection settings (plaintext or TLS), the clients every case uses,
//! and running cases one after another, each bounded in time.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dubbo_runtime::protocol::Protocols;
use dubbo_runtime::tls::ClientTlsConfig;
use dubbo_runtime::triple::{TripleConfig, TripleProtocol};

use super::cases;
use super::proto::{TestServiceClient, UnimplementedServiceClient};

/// Where and how to connect (the standard interop client flags).
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// `--server_host`.
    pub host: String,
    /// `--server_port`.
    pub port: u16,
    /// `--use_tls`.
    pub use_tls: bool,
    /// `--ca_file`: PEM CA bundle trusted for TLS.
    pub ca_file: Option<PathBuf>,
    /// `--server_host_override`: the name the server certificate is checked against.
    pub server_host_override: Option<String>,
    /// How long one case may take before it fails.
    pub case_timeout: Duration,
}

impl ClientSettings {
    /// Plaintext settings for `host:port` with a 20 s bound per case.
    pub fn new(host: impl Into<String>, port: u16) -> ClientSettings {
        ClientSettings {
            host: host.into(),
            port,
            use_tls: false,
            ca_file: None,
            server_host_override: None,
            case_timeout: Duration::from_secs(20),
        }
    }

    fn url(&self) -> String {
        let scheme = if self.use_tls { "tris" } else { "tri" };
        if self.host.contains(':') && !self.host.starts_with('[') {
            format!("{scheme}://[{}]:{}", self.host, self.port)
        } else {
            format!("{scheme}://{}:{}", self.host, self.port)
        }
    }

    fn protocols(&self) -> Result<Option<Protocols>, String> {
        if !self.use_tls {
            return Ok(None);
        }
        let ca_file = self
            .ca_file
            .as_ref()
            .ok_or("--use_tls true needs --ca_file (the CA that signed the server certificate)")?;
        let pem = std::fs::read(ca_file)
            .map_err(|e| format!("cannot read {}: {e}", ca_file.display()))?;
        let mut tls = ClientTlsConfig::new()
            .ca_pem(&pem)
            .map_err(|e| format!("{}: {e}", ca_file.display()))?;
        if let Some(name) = &self.server_host_override {
            tls = tls.server_name(name.clone());
        }
        // One protocol instance, so every client below shares one TLS connection.
        let protocols = Protocols::new();
        protocols.register(Arc::new(TripleProtocol::new(
            TripleConfig::default().client_tls(tls),
        )));
        Ok(Some(protocols))
    }
}

/// The clients the cases use, all on one connection.
#[derive(Debug, Clone)]
pub struct InteropClient {
    /// `grpc.testing.TestService`, requests uncompressed unless a call asks otherwise.
    pub test: TestServiceClient,
    /// The same service with gzip-compressed requests (for per-message compression cases).
    pub gzip: TestServiceClient,
    /// `grpc.testing.UnimplementedService`, which servers do not implement.
    pub unimplemented: UnimplementedServiceClient,
    settings: ClientSettings,
}

/// How one case ended.
#[derive(Debug)]
pub struct CaseOutcome {
    /// The case name.
    pub name: &'static str,
    /// `Err` with the reason when the case failed.
    pub result: Result<(), String>,
    /// How long it took.
    pub elapsed: Duration,
}

impl CaseOutcome {
    /// The report line: `ok   NAME (…)` or `FAIL NAME: reason`.
    pub fn line(&self) -> String {
        match &self.result {
            Ok(()) => format!("ok   {} ({:?})", self.name, self.elapsed),
            Err(reason) => format!("FAIL {}: {reason}", self.name),
        }
    }
}

impl InteropClient {
    /// Connects to the server.
    pub async fn connect(settings: ClientSettings) -> Result<InteropClient, String> {
        let url = settings.url();
        let protocols = settings.protocols()?;
        let connect_timeout = Duration::from_secs(5);
        let mut test = TestServiceClient::builder(url.as_str()).connect_timeout(connect_timeout);
        let mut gzip = TestServiceClient::builder(url.as_str())
            .connect_timeout(connect_timeout)
            .send_gzip()
            .lazy();
        let mut unimplemented = UnimplementedServiceClient::builder(url.as_str())
            .connect_timeout(connect_timeout)
            .lazy();
        if let Some(protocols) = protocols {
            test = test.protocols(protocols.clone());
            gzip = gzip.protocols(protocols.clone());
            unimplemented = unimplemented.protocols(protocols);
        }
        let connect = |e: dubbo_runtime::Error| format!("cannot connect to {url}: {e}");
        Ok(InteropClient {
            test: test.connect().await.map_err(connect)?,
            gzip: gzip.connect().await.map_err(connect)?,
            unimplemented: unimplemented.connect().await.map_err(connect)?,
            settings,
        })
    }

    /// Runs one case within the per-case time bound.
    pub async fn run(&self, name: &'static str) -> CaseOutcome {
        let started = Instant::now();
        let result =
            match tokio::time::timeout(self.settings.case_timeout, cases::run(self, name)).await {
                Ok(result) => result,
                Err(_) => Err(format!(
                    "did not finish within {:?}",
                    self.settings.case_timeout
                )),
            };
        CaseOutcome {
            name,
            result,
            elapsed: started.elapsed(),
        }
    }
}
