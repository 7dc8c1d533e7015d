//! TLS for the QUIC connection: rustls with the ring provider (chosen explicitly, never the process
//! default), TLS 1.3 only, ALPN `quip/1`, and either a pinned certificate fingerprint or a CA store.

use std::fmt;
use std::sync::Arc;

use rustls::DigitallySignedStruct;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};

use crate::Error;

/// How the client decides the server's certificate is the right one.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Trust {
    /// Pin the SHA-256 of the server's leaf certificate, as quipd prints it (`aa:bb:...`, lowercase hex
    /// with colons; upper case and no colons are accepted too). Name and expiry are not checked: the pin
    /// is the trust. The TLS 1.3 handshake signature is still verified against the pinned certificate.
    Fingerprint(String),
    /// Trust certificates chaining to these CA certificates (PEM); the name is checked against
    /// `ClientConfig::server_name`.
    CaPem(Vec<u8>),
}

impl fmt::Debug for Trust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Trust::Fingerprint(fp) => f.debug_tuple("Fingerprint").field(fp).finish(),
            Trust::CaPem(pem) => write!(f, "CaPem(<{} bytes>)", pem.len()),
        }
    }
}

/// SHA-256 of a DER certificate as lowercase hex with colons (`aa:bb:...`), the format quipd prints.
pub fn fingerprint(der: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
}

/// Parses a SHA-256 fingerprint: 64 hex digits, colons and surrounding whitespace ignored, any case.
pub(crate) fn parse_fingerprint(text: &str) -> Result<[u8; 32], Error> {
    let hex: Vec<u8> = text.trim().bytes().filter(|b| *b != b':').collect();
    let bad = || Error::Config(format!("fingerprint {text:?} is not 32 bytes of hex"));
    if hex.len() != 64 {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        let s = std::str::from_utf8(pair).map_err(|_| bad())?;
        *byte = u8::from_str_radix(s, 16).map_err(|_| bad())?;
    }
    Ok(out)
}

fn roots(pem: &[u8]) -> Result<rustls::RootCertStore, Error> {
    let mut store = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert = cert.map_err(|e| Error::Config(format!("CA PEM: {e}")))?;
        store.add(cert).map_err(|e| Error::Config(format!("CA certificate: {e}")))?;
    }
    if store.is_empty() {
        return Err(Error::Config("CA PEM holds no certificate".into()));
    }
    Ok(store)
}

/// Checks that the trust material parses (for `ClientConfig::validate`).
pub(crate) fn check_trust(trust: &Trust) -> Result<(), Error> {
    match trust {
        Trust::Fingerprint(fp) => parse_fingerprint(fp).map(|_| ()),
        Trust::CaPem(pem) => roots(pem).map(|_| ()),
    }
}

/// The rustls client configuration for `trust`.
pub(crate) fn client_config(trust: &Trust) -> Result<Arc<rustls::ClientConfig>, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| Error::Config(format!("TLS: {e}")))?;
    let mut config = match trust {
        Trust::Fingerprint(fp) => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinnedCertVerifier::new(parse_fingerprint(fp)?, &provider)))
            .with_no_client_auth(),
        Trust::CaPem(pem) => builder.with_root_certificates(roots(pem)?).with_no_client_auth(),
    };
    config.alpn_protocols = vec![quip_protocol::ALPN.to_vec()];
    Ok(Arc::new(config))
}

/// Accepts exactly the server certificate whose SHA-256 is pinned, and verifies the handshake signature
/// with that certificate's key (so a peer holding only the certificate, not its key, is refused).
#[derive(Debug)]
pub(crate) struct PinnedCertVerifier {
    pin: [u8; 32],
    algorithms: WebPkiSupportedAlgorithms,
}

impl PinnedCertVerifier {
    pub(crate) fn new(pin: [u8; 32], provider: &CryptoProvider) -> Self {
        Self { pin, algorithms: provider.signature_verification_algorithms }
    }
}

impl ServerCertVerifier for PinnedCertVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let digest = ring::digest::digest(&ring::digest::SHA256, end_entity.as_ref());
        // The fingerprint is public, so a plain comparison leaks nothing worth protecting.
        if digest.as_ref() == self.pin.as_slice() {
            Ok(ServerCertVerified::assertion())
        } else {
            tracing::warn!(presented = %fingerprint(end_entity.as_ref()), "server certificate does not match the pinned fingerprint");
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::ApplicationVerificationFailure))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verifier_for(der: &[u8]) -> PinnedCertVerifier {
        let pin = parse_fingerprint(&fingerprint(der)).unwrap();
        PinnedCertVerifier::new(pin, &rustls::crypto::ring::default_provider())
    }

    fn check(v: &PinnedCertVerifier, der: &[u8]) -> Result<ServerCertVerified, rustls::Error> {
        let name = ServerName::try_from("localhost").unwrap();
        v.verify_server_cert(&CertificateDer::from(der.to_vec()), &[], &name, &[], UnixTime::now())
    }

    #[test]
    fn fingerprint_matches_the_broker_format() {
        let fp = fingerprint(b"abc");
        // SHA-256("abc"), the FIPS 180-2 test vector.
        assert!(fp.starts_with("ba:78:16:bf:8f:01:cf:ea"), "{fp}");
        assert_eq!(fp.len(), 32 * 3 - 1);
        assert_eq!(fp, fp.to_lowercase());
    }

    #[test]
    fn fingerprints_parse_in_every_usual_spelling() {
        let fp = fingerprint(b"cert");
        let want = parse_fingerprint(&fp).unwrap();
        assert_eq!(parse_fingerprint(&fp.to_uppercase()).unwrap(), want);
        assert_eq!(parse_fingerprint(&fp.replace(':', "")).unwrap(), want);
        assert_eq!(parse_fingerprint(&format!("  {fp}\n")).unwrap(), want);
        assert!(parse_fingerprint(&fp[..fp.len() - 3]).is_err());
        assert!(parse_fingerprint(&format!("{fp}:00")).is_err());
        assert!(parse_fingerprint(&"g".repeat(64)).is_err());
        assert!(parse_fingerprint("é".repeat(32).as_str()).is_err());
    }

    #[test]
    fn only_the_pinned_certificate_is_accepted() {
        let v = verifier_for(b"the right certificate");
        assert!(check(&v, b"the right certificate").is_ok());
        let err = check(&v, b"another certificate").unwrap_err();
        assert!(matches!(err, rustls::Error::InvalidCertificate(_)), "{err:?}");
        assert!(!v.supported_verify_schemes().is_empty());
    }

    #[test]
    fn configs_build_for_both_kinds_of_trust() {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".into()]).unwrap().self_signed(&key).unwrap();
        let pinned = client_config(&Trust::Fingerprint(fingerprint(cert.der()))).unwrap();
        assert_eq!(pinned.alpn_protocols, vec![b"quip/1".to_vec()]);
        let ca = client_config(&Trust::CaPem(cert.pem().into_bytes())).unwrap();
        assert_eq!(ca.alpn_protocols, vec![b"quip/1".to_vec()]);
        assert!(check_trust(&Trust::CaPem(b"-----BEGIN CERTIFICATE-----\nnope\n".to_vec())).is_err());
    }
}
