//! Reading a `tls.ca_file` at start, checked so that a wrong file fails start-up
//! instead of every later handshake.

use harrier_core::error::ComponentError;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::path::Path;

/// Reads a PEM bundle and checks that it holds at least one certificate and nothing
/// malformed; returns the file's bytes.
///
/// # Errors
/// A [`ComponentError`] naming the file when it cannot be read or holds no valid
/// certificate.
pub(crate) async fn read_ca_bundle(path: &Path) -> Result<Vec<u8>, ComponentError> {
    let pem = tokio::fs::read(path).await.map_err(|e| {
        ComponentError::new(format!("cannot read tls.ca_file {}: {e}", path.display()))
    })?;
    let mut certificates = 0;
    for item in CertificateDer::pem_slice_iter(&pem) {
        item.map_err(|e| {
            ComponentError::new(format!(
                "tls.ca_file {} is not a valid PEM bundle: {e}",
                path.display()
            ))
        })?;
        certificates += 1;
    }
    if certificates == 0 {
        return Err(ComponentError::new(format!(
            "tls.ca_file {} holds no PEM certificate",
            path.display()
        )));
    }
    Ok(pem)
}
