//! TLS and mTLS for Triple, with certificates generated at test time.

use dubbo_runtime::tls::{ClientTlsConfig, ServerTlsConfig};
use dubbo_runtime::{Code, Server, ServerHandle, Status};
use examples::greeter::{GreeterClient, GreeterServer, HelloRequest};
use examples::greeter_service::GreeterService;
use test_support::pki::TestPki;

async fn tls_server(tls: ServerTlsConfig) -> ServerHandle {
    Server::builder()
        .tls(tls)
        .add_service(GreeterServer::new(GreeterService))
        .start("tri://127.0.0.1:0")
        .await
        .expect("TLS server starts")
}

fn server_tls(pki: &TestPki) -> ServerTlsConfig {
    ServerTlsConfig::from_pem(
        pki.server_cert_pem.as_bytes(),
        pki.server_key_pem.as_bytes(),
    )
    .unwrap()
}

fn trusting(pki: &TestPki) -> ClientTlsConfig {
    ClientTlsConfig::new()
        .ca_pem(pki.ca_pem.as_bytes())
        .unwrap()
}

async fn call(url: &str, tls: ClientTlsConfig) -> Result<String, Status> {
    let client = GreeterClient::builder(url)
        .tls(tls)
        .lazy()
        .connect()
        .await
        .map_err(Status::from)?;
    let reply = client
        .say_hello(HelloRequest {
            name: "tls".into(),
            ..Default::default()
        })
        .await?;
    Ok(reply.into_inner().message)
}

#[tokio::test]
async fn tls_call_works_and_plaintext_does_not() {
    let pki = TestPki::generate(&["localhost", "127.0.0.1"]);
    let server = tls_server(server_tls(&pki)).await;
    let addr = server.local_addr();
    assert_eq!(
        call(&format!("tris://{addr}"), trusting(&pki))
            .await
            .unwrap(),
        "Hello tls"
    );
    // `tls=true` selects TLS as well.
    assert_eq!(
        call(&format!("tri://{addr}?tls=true"), trusting(&pki))
            .await
            .unwrap(),
        "Hello tls"
    );
    // A plaintext client cannot talk to the TLS port.
    let plain = GreeterClient::builder(format!("tri://{addr}"))
        .lazy()
        .connect()
        .await
        .unwrap();
    let status = plain.say_hello(HelloRequest::default()).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status}");
    server.shutdown().await;
}

#[tokio::test]
async fn wrong_ca_and_wrong_name_are_rejected() {
    let pki = TestPki::generate(&["greeter.test"]);
    let server = tls_server(server_tls(&pki)).await;
    let url = format!("tris://{}", server.local_addr());
    let other = TestPki::generate(&["greeter.test"]);
    let status = call(&url, trusting(&other).server_name("greeter.test"))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status}");
    assert!(status.message().contains("TLS"), "{status}");
    // The certificate does not name 127.0.0.1 …
    let status = call(&url, trusting(&pki)).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status}");
    // … but the server-name override makes it match.
    assert_eq!(
        call(&url, trusting(&pki).server_name("greeter.test"))
            .await
            .unwrap(),
        "Hello tls"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn mtls_requires_a_client_certificate_from_the_ca() {
    let pki = TestPki::generate(&["127.0.0.1"]);
    let server = tls_server(
        server_tls(&pki)
            .client_ca_pem(pki.ca_pem.as_bytes())
            .unwrap(),
    )
    .await;
    let url = format!("tris://{}", server.local_addr());
    let with_identity = trusting(&pki)
        .identity_pem(
            pki.client_cert_pem.as_bytes(),
            pki.client_key_pem.as_bytes(),
        )
        .unwrap();
    assert_eq!(call(&url, with_identity).await.unwrap(), "Hello tls");
    // No client certificate: refused during the handshake.
    let status = call(&url, trusting(&pki)).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status}");
    // A client certificate from another CA: refused too.
    let stranger = TestPki::generate(&["127.0.0.1"]);
    let wrong_identity = trusting(&pki)
        .identity_pem(
            stranger.client_cert_pem.as_bytes(),
            stranger.client_key_pem.as_bytes(),
        )
        .unwrap();
    let status = call(&url, wrong_identity).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status}");
    server.shutdown().await;
}

#[tokio::test]
async fn tls_misconfiguration_is_a_clear_error() {
    assert!(ServerTlsConfig::from_pem(b"not pem", b"not pem").is_err());
    let pki = TestPki::generate(&["127.0.0.1"]);
    let other = TestPki::generate(&["127.0.0.1"]);
    // Certificate and key that do not belong together fail when the server starts.
    let mismatched = ServerTlsConfig::from_pem(
        pki.server_cert_pem.as_bytes(),
        other.server_key_pem.as_bytes(),
    )
    .unwrap();
    let err = Server::builder()
        .tls(mismatched)
        .add_service(GreeterServer::new(GreeterService))
        .start("tri://127.0.0.1:0")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("do not match"), "{err}");
    // Asking for TLS without any TLS settings.
    let err = GreeterClient::builder("tris://127.0.0.1:1")
        .lazy()
        .connect()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no ClientTlsConfig"), "{err}");
    assert!(ClientTlsConfig::new().ca_pem(b"").is_err());
}
