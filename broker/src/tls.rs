//! TLS material for the QUIC listener: the configured certificate and key, or in dev mode a
//! self-signed certificate generated once and kept in the data directory (so its fingerprint, which
//! clients pin, stays the same across restarts).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::TlsConfig;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    #[error("cannot read {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("cannot generate the dev certificate: {0}")]
    Generate(String),
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// A certificate chain and its key.
#[derive(Debug)]
pub struct TlsMaterial {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
    /// True for the generated dev certificate.
    pub dev: bool,
}

impl TlsMaterial {
    /// SHA-256 of the leaf certificate, as lowercase hex with colons (what clients pin).
    pub fn fingerprint(&self) -> String {
        self.chain.first().map(|c| fingerprint(c.as_ref())).unwrap_or_default()
    }

    /// Loads the configured certificate, or the dev certificate under `data_dir` (creating it).
    pub fn load(cfg: &TlsConfig, data_dir: &Path) -> Result<Self, TlsError> {
        if !cfg.cert.is_empty() {
            return Self::from_files(Path::new(&cfg.cert), Path::new(&cfg.key), false);
        }
        let cert = data_dir.join("dev-cert.pem");
        let key = data_dir.join("dev-key.pem");
        if !cert.exists() || !key.exists() {
            let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .map_err(|e| TlsError::Generate(e.to_string()))?;
            write_private(&key, generated.signing_key.serialize_pem().as_bytes())?;
            std::fs::write(&cert, generated.cert.pem())
                .map_err(|e| TlsError::Read { path: cert.clone(), reason: e.to_string() })?;
        }
        Self::from_files(&cert, &key, true)
    }

    fn from_files(cert: &Path, key: &Path, dev: bool) -> Result<Self, TlsError> {
        let read_err =
            |path: &Path, e: &dyn std::fmt::Display| TlsError::Read { path: path.to_owned(), reason: e.to_string() };
        let chain = CertificateDer::pem_file_iter(cert)
            .map_err(|e| read_err(cert, &e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| read_err(cert, &e))?;
        if chain.is_empty() {
            return Err(read_err(cert, &"no certificate in file"));
        }
        let key = PrivateKeyDer::from_pem_file(key).map_err(|e| read_err(key, &e))?;
        Ok(Self { chain, key, dev })
    }

    /// A rustls server config speaking `quip/1`.
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])?
            .with_no_client_auth()
            .with_single_cert(self.chain.clone(), self.key.clone_key())?;
        cfg.alpn_protocols = vec![quip_protocol::ALPN.to_vec()];
        cfg.max_early_data_size = 0;
        Ok(Arc::new(cfg))
    }
}

/// SHA-256 of a DER certificate as `aa:bb:...`.
pub fn fingerprint(der: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), TlsError> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    opts.mode(0o600);
    let mut f = opts.open(path).map_err(|e| TlsError::Read { path: path.to_owned(), reason: e.to_string() })?;
    f.write_all(bytes).map_err(|e| TlsError::Read { path: path.to_owned(), reason: e.to_string() })
}

/// The dev HS256 secret under `data_dir` (created once, 32 random bytes as hex, mode 0600).
pub fn dev_secret(data_dir: &Path) -> Result<Vec<u8>, TlsError> {
    dev_random_file(&data_dir.join("dev-secret"))
}

/// The key of the QUIC stateless resets quipd sends, under `data_dir` (created once and reused, so that
/// the resets a restarted quipd sends for its old connections are ones their clients accept).
pub fn quic_reset_key(data_dir: &Path) -> Result<Vec<u8>, TlsError> {
    dev_random_file(&data_dir.join("quic-reset-key"))
}

/// The dev admin token under `data_dir` (created once, like the dev secret).
pub fn dev_admin_token(data_dir: &Path) -> Result<String, TlsError> {
    Ok(String::from_utf8_lossy(&dev_random_file(&data_dir.join("dev-admin-token"))?).into_owned())
}

/// 32 random bytes as hex, kept in `path` (mode 0600) and reused.
fn dev_random_file(path: &Path) -> Result<Vec<u8>, TlsError> {
    let path = path.to_owned();
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let trimmed = existing.trim();
        if trimmed.len() >= 32 {
            return Ok(trimmed.as_bytes().to_vec());
        }
    }
    let mut raw = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut raw)
        .map_err(|_| TlsError::Generate("no randomness".into()))?;
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    write_private(&path, hex.as_bytes())?;
    Ok(hex.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_certificate_is_generated_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = TlsMaterial::load(&TlsConfig::default(), dir.path()).unwrap();
        let second = TlsMaterial::load(&TlsConfig::default(), dir.path()).unwrap();
        assert!(first.dev);
        assert_eq!(first.fingerprint(), second.fingerprint());
        assert_eq!(first.fingerprint().len(), 32 * 3 - 1);
        assert!(first.server_config().is_ok());
    }

    #[test]
    fn dev_secret_is_stable() {
        let dir = tempfile::tempdir().unwrap();
        let a = dev_secret(dir.path()).unwrap();
        assert_eq!(a, dev_secret(dir.path()).unwrap());
        assert_eq!(a.len(), 64);
    }
}
