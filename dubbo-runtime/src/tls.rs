//! TLS and mutual TLS for Triple, on rustls (ring provider). ALPN is `h2`, as gRPC requires.
//!
//! A server presents a certificate chain and key; with [`ServerTlsConfig::client_ca_pem`] it
//! also requires clients to present a certificate signed by that CA (mTLS). A client trusts
//! the CA roots it is given, can present its own identity, and can override the name it
//! checks the server certificate against. A reference uses TLS when its URL is `tris://` (or
//! `https://`, `grpcs://`) or has `tls=true`.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

use crate::error::{Error, ErrorKind};

const ALPN_H2: &[u8] = b"h2";

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn tls_error(context: &str, err: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::new(ErrorKind::Config, context.to_owned()).with_source(err)
}

fn certs_from_pem(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| tls_error(&format!("invalid PEM in {what}"), e))?;
    if certs.is_empty() {
        return Err(Error::config(format!("no certificate found in {what}")));
    }
    Ok(certs)
}

fn key_from_pem(pem: &[u8]) -> Result<PrivateKeyDer<'static>, Error> {
    PrivateKeyDer::from_pem_slice(pem)
        .map_err(|e| tls_error("invalid or missing private key PEM", e))
}

fn read(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|e| Error::io(format!("cannot read {}", path.display()), e))
}

fn root_store(certs: &[CertificateDer<'static>]) -> Result<rustls::RootCertStore, Error> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in certs {
        roots
            .add(cert.clone())
            .map_err(|e| tls_error("invalid CA certificate", e))?;
    }
    Ok(roots)
}

/// Server-side TLS settings.
///
/// ```no_run
/// # fn main() -> Result<(), dubbo_runtime::Error> {
/// use dubbo_runtime::tls::ServerTlsConfig;
/// let tls = ServerTlsConfig::from_pem_files("server.pem", "server.key")?
///     .client_ca_pem(&std::fs::read("ca.pem").unwrap())?; // require client certificates
/// # Ok(()) }
/// ```
pub struct ServerTlsConfig {
    cert_chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    client_ca: Option<Vec<CertificateDer<'static>>>,
}

impl fmt::Debug for ServerTlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerTlsConfig")
            .field("cert_chain", &self.cert_chain.len())
            .field("mtls", &self.client_ca.is_some())
            .finish_non_exhaustive()
    }
}

impl Clone for ServerTlsConfig {
    fn clone(&self) -> ServerTlsConfig {
        ServerTlsConfig {
            cert_chain: self.cert_chain.clone(),
            key: self.key.clone_key(),
            client_ca: self.client_ca.clone(),
        }
    }
}

impl ServerTlsConfig {
    /// A certificate chain (leaf first) and its private key.
    pub fn new(
        cert_chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> ServerTlsConfig {
        ServerTlsConfig {
            cert_chain,
            key,
            client_ca: None,
        }
    }

    /// Parses a PEM certificate chain and a PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub fn from_pem(cert_chain_pem: &[u8], key_pem: &[u8]) -> Result<ServerTlsConfig, Error> {
        Ok(ServerTlsConfig::new(
            certs_from_pem(cert_chain_pem, "the server certificate chain")?,
            key_from_pem(key_pem)?,
        ))
    }

    /// Reads [`from_pem`](Self::from_pem)'s inputs from files.
    pub fn from_pem_files(
        cert_chain: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Result<ServerTlsConfig, Error> {
        ServerTlsConfig::from_pem(&read(cert_chain.as_ref())?, &read(key.as_ref())?)
    }

    /// Requires clients to present a certificate signed by one of these CAs (mTLS).
    pub fn client_ca(mut self, certs: Vec<CertificateDer<'static>>) -> ServerTlsConfig {
        self.client_ca = Some(certs);
        self
    }

    /// [`client_ca`](Self::client_ca) from PEM.
    pub fn client_ca_pem(self, pem: &[u8]) -> Result<ServerTlsConfig, Error> {
        let certs = certs_from_pem(pem, "the client CA")?;
        Ok(self.client_ca(certs))
    }

    /// Builds the rustls configuration (ALPN `h2`).
    pub fn build(&self) -> Result<Arc<rustls::ServerConfig>, Error> {
        let builder = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| tls_error("TLS protocol versions", e))?;
        let builder = match &self.client_ca {
            None => builder.with_no_client_auth(),
            Some(ca) => {
                let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                    Arc::new(root_store(ca)?),
                    provider(),
                )
                .build()
                .map_err(|e| tls_error("invalid client CA", e))?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let mut config = builder
            .with_single_cert(self.cert_chain.clone(), self.key.clone_key())
            .map_err(|e| tls_error("server certificate and key do not match", e))?;
        config.alpn_protocols = vec![ALPN_H2.to_vec()];
        Ok(Arc::new(config))
    }
}

/// Client-side TLS settings.
///
/// ```no_run
/// # fn main() -> Result<(), dubbo_runtime::Error> {
/// use dubbo_runtime::tls::ClientTlsConfig;
/// let tls = ClientTlsConfig::new()
///     .ca_pem(&std::fs::read("ca.pem").unwrap())?
///     .identity_pem(&std::fs::read("client.pem").unwrap(), &std::fs::read("client.key").unwrap())?
///     .server_name("greeter.internal");
/// # Ok(()) }
/// ```
#[derive(Default)]
pub struct ClientTlsConfig {
    roots: Vec<CertificateDer<'static>>,
    identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
    server_name: Option<String>,
}

impl fmt::Debug for ClientTlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientTlsConfig")
            .field("roots", &self.roots.len())
            .field("identity", &self.identity.is_some())
            .field("server_name", &self.server_name)
            .finish()
    }
}

impl Clone for ClientTlsConfig {
    fn clone(&self) -> ClientTlsConfig {
        ClientTlsConfig {
            roots: self.roots.clone(),
            identity: self
                .identity
                .as_ref()
                .map(|(chain, key)| (chain.clone(), key.clone_key())),
            server_name: self.server_name.clone(),
        }
    }
}

impl ClientTlsConfig {
    /// No roots, no identity.
    pub fn new() -> ClientTlsConfig {
        ClientTlsConfig::default()
    }

    /// Trusts these CA certificates.
    pub fn ca_certificates(mut self, certs: Vec<CertificateDer<'static>>) -> ClientTlsConfig {
        self.roots.extend(certs);
        self
    }

    /// Trusts the CA certificates in this PEM.
    pub fn ca_pem(self, pem: &[u8]) -> Result<ClientTlsConfig, Error> {
        let certs = certs_from_pem(pem, "the CA bundle")?;
        Ok(self.ca_certificates(certs))
    }

    /// Presents this certificate chain and key to servers that ask (mTLS).
    pub fn identity(
        mut self,
        cert_chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> ClientTlsConfig {
        self.identity = Some((cert_chain, key));
        self
    }

    /// [`identity`](Self::identity) from PEM.
    pub fn identity_pem(
        self,
        cert_chain_pem: &[u8],
        key_pem: &[u8],
    ) -> Result<ClientTlsConfig, Error> {
        let chain = certs_from_pem(cert_chain_pem, "the client certificate chain")?;
        let key = key_from_pem(key_pem)?;
        Ok(self.identity(chain, key))
    }

    /// Checks the server certificate against this name instead of the URL's host (gRPC's
    /// `server_host_override`).
    pub fn server_name(mut self, name: impl Into<String>) -> ClientTlsConfig {
        self.server_name = Some(name.into());
        self
    }

    pub(crate) fn build(&self) -> Result<ClientTls, Error> {
        if self.roots.is_empty() {
            return Err(Error::config(
                "ClientTlsConfig has no CA certificates to trust",
            ));
        }
        let builder = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| tls_error("TLS protocol versions", e))?
            .with_root_certificates(root_store(&self.roots)?);
        let mut config = match &self.identity {
            None => builder.with_no_client_auth(),
            Some((chain, key)) => builder
                .with_client_auth_cert(chain.clone(), key.clone_key())
                .map_err(|e| tls_error("client certificate and key do not match", e))?,
        };
        config.alpn_protocols = vec![ALPN_H2.to_vec()];
        Ok(ClientTls {
            connector: tokio_rustls::TlsConnector::from(Arc::new(config)),
            server_name: self.server_name.clone(),
        })
    }
}

/// A built client TLS setup.
#[derive(Clone)]
pub(crate) struct ClientTls {
    pub(crate) connector: tokio_rustls::TlsConnector,
    server_name: Option<String>,
}

impl fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientTls")
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

impl ClientTls {
    /// The name to verify: the override, else `host`.
    pub(crate) fn server_name(&self, host: &str) -> Result<ServerName<'static>, Error> {
        let name = self.server_name.as_deref().unwrap_or(host);
        ServerName::try_from(name.to_owned())
            .map_err(|e| tls_error(&format!("invalid TLS server name {name:?}"), e))
    }
}

/// Whether a reference URL asks for TLS.
pub(crate) fn url_wants_tls(url: &crate::Url) -> bool {
    matches!(url.protocol(), "tris" | "https" | "grpcs") || url.param_bool("tls") == Some(true)
}
