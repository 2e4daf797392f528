//! Test certificates (`testdata/tls/`): a CA, a server certificate for `127.0.0.1` and
//! `localhost`, and a client certificate, all signed by the CA and valid until 2126;
//! plus a rustls server config built from them.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::PathBuf;
use std::sync::Arc;

/// The path of a file under `testdata/tls/`: `ca.pem`, `server.pem`,
/// `server-key.pem`, `client.pem`, `client-key.pem`.
pub fn path(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/tls")).join(name)
}

fn certs(name: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    CertificateDer::pem_file_iter(path(name))
        .map_err(|e| format!("{name}: {e}"))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{name}: {e}"))
}

/// A rustls server config with the server certificate; with `client_auth`, clients
/// must present a certificate signed by the test CA.
///
/// # Errors
/// When the test files cannot be read (a broken checkout).
pub fn server_config(client_auth: bool) -> Result<Arc<rustls::ServerConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key = PrivateKeyDer::from_pem_file(path("server-key.pem"))
        .map_err(|e| format!("server-key.pem: {e}"))?;
    let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let builder = if client_auth {
        let mut roots = rustls::RootCertStore::empty();
        for cert in certs("ca.pem")? {
            roots.add(cert).map_err(|e| e.to_string())?;
        }
        let verifier =
            rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| e.to_string())?;
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    builder
        .with_single_cert(certs("server.pem")?, key)
        .map(Arc::new)
        .map_err(|e| e.to_string())
}
