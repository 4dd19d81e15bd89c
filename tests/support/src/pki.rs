//! Throwaway certificates for TLS tests, made at test time.

use std::path::Path;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

/// A CA plus server and client certificates it signed, all PEM.
#[derive(Debug, Clone)]
pub struct TestPki {
    /// The CA certificate.
    pub ca_pem: String,
    /// Server certificate (SANs as requested).
    pub server_cert_pem: String,
    /// Server private key.
    pub server_key_pem: String,
    /// Client certificate (CN `test-client`).
    pub client_cert_pem: String,
    /// Client private key.
    pub client_key_pem: String,
}

fn leaf(names: &[&str], cn: &str, issuer: &Issuer<'_, KeyPair>) -> (String, String) {
    let key = KeyPair::generate().expect("key generation");
    let mut params =
        CertificateParams::new(names.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
            .expect("certificate params");
    params.distinguished_name.push(DnType::CommonName, cn);
    let cert = params.signed_by(&key, issuer).expect("signing");
    (cert.pem(), key.serialize_pem())
}

impl TestPki {
    /// A fresh CA with a server certificate for `server_names` (DNS names or IP addresses)
    /// and a client certificate.
    pub fn generate(server_names: &[&str]) -> TestPki {
        let ca_key = KeyPair::generate().expect("key generation");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "dubbo-rs test CA");
        let ca_cert = ca_params.self_signed(&ca_key).expect("self-signing");
        let issuer = Issuer::new(ca_params, ca_key);
        let (server_cert_pem, server_key_pem) = leaf(server_names, "test-server", &issuer);
        let (client_cert_pem, client_key_pem) = leaf(&["test-client"], "test-client", &issuer);
        TestPki {
            ca_pem: ca_cert.pem(),
            server_cert_pem,
            server_key_pem,
            client_cert_pem,
            client_key_pem,
        }
    }

    /// Writes `ca.pem`, `server.pem`, `server.key`, `client.pem`, `client.key` into `dir`.
    pub fn write_to(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::write(dir.join("ca.pem"), &self.ca_pem)?;
        std::fs::write(dir.join("server.pem"), &self.server_cert_pem)?;
        std::fs::write(dir.join("server.key"), &self.server_key_pem)?;
        std::fs::write(dir.join("client.pem"), &self.client_cert_pem)?;
        std::fs::write(dir.join("client.key"), &self.client_key_pem)?;
        Ok(())
    }
}
