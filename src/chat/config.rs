//! TLS settings for both ends of the chat (rustls with the `ring` crypto provider).
//!
//! ring is chosen over aws-lc-rs because it builds faster and does not offer the post-quantum key
//! share, so a ClientHello stays around 220 bytes: small enough for a first lesson.

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme, SupportedProtocolVersion};

use super::certs::CertPaths;
use super::ChatError;

/// What carries the chat's bytes: TLS (1.3 or 1.2) over TCP, or TCP alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Transport {
    /// Plain TCP: the text is visible to anyone who captures the packets.
    Plain,
    /// TLS 1.2 (RFC 5246): the handshake takes two round trips and the certificate travels in clear.
    Tls12,
    /// TLS 1.3 (RFC 8446): one round trip, and everything after the ServerHello is encrypted.
    #[default]
    Tls13,
}

impl Transport {
    /// Picks the transport from the command-line switches `--plain` and `--tls-version`.
    pub fn from_flags(plain: bool, tls_version: TlsVersion) -> Self {
        match (plain, tls_version) {
            (true, _) => Transport::Plain,
            (false, TlsVersion::V12) => Transport::Tls12,
            (false, TlsVersion::V13) => Transport::Tls13,
        }
    }

    /// The short name used in reports: `plain`, `tls1.2`, `tls1.3`.
    pub fn name(self) -> &'static str {
        match self {
            Transport::Plain => "plain",
            Transport::Tls12 => "tls1.2",
            Transport::Tls13 => "tls1.3",
        }
    }

    /// True for the TLS transports.
    pub fn is_tls(self) -> bool {
        self != Transport::Plain
    }

    /// The default port: 8443 for TLS (like HTTPS's 443), 8080 for plain TCP.
    pub fn default_port(self) -> u16 {
        if self.is_tls() {
            8443
        } else {
            8080
        }
    }

    fn versions(self) -> &'static [&'static SupportedProtocolVersion] {
        static V12: [&SupportedProtocolVersion; 1] = [&rustls::version::TLS12];
        static V13: [&SupportedProtocolVersion; 1] = [&rustls::version::TLS13];
        match self {
            Transport::Tls12 => &V12,
            _ => &V13,
        }
    }
}

/// A TLS protocol version chosen on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TlsVersion {
    /// TLS 1.2.
    V12,
    /// TLS 1.3.
    #[default]
    V13,
}

impl std::str::FromStr for TlsVersion {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "1.3" | "tls1.3" => Ok(TlsVersion::V13),
            "1.2" | "tls1.2" => Ok(TlsVersion::V12),
            other => Err(format!("unknown TLS version {other:?}: use 1.3 or 1.2")),
        }
    }
}

pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn cert_err(path: &Path, e: impl std::fmt::Display) -> ChatError {
    ChatError::CertFile {
        path: path.to_path_buf(),
        reason: e.to_string(),
    }
}

/// Reads every certificate in a PEM file.
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, ChatError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| cert_err(path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| cert_err(path, e))?;
    if certs.is_empty() {
        return Err(cert_err(path, "no certificate in the file"));
    }
    Ok(certs)
}

/// The server's TLS settings: its certificate and key from `paths`, the one version `transport` names,
/// and a key log that receives every session's secrets.
pub fn server_config(
    paths: &CertPaths,
    transport: Transport,
    key_log: Arc<dyn rustls::KeyLog>,
) -> Result<Arc<rustls::ServerConfig>, ChatError> {
    let chain = load_certs(&paths.server_cert)?;
    let key = PrivateKeyDer::from_pem_file(&paths.server_key)
        .map_err(|e| cert_err(&paths.server_key, e))?;
    server_config_with(chain, key, transport, key_log).map_err(|e| cert_err(&paths.server_cert, e))
}

/// The server's TLS settings from a certificate chain and key in memory (PEM): an attacker's in
/// the middle, made on the spot.
pub fn server_config_from_pem(
    set: &super::certs::CertSet,
    transport: Transport,
    key_log: Arc<dyn rustls::KeyLog>,
) -> Result<Arc<rustls::ServerConfig>, ChatError> {
    let pem = |e: rustls::pki_types::pem::Error| ChatError::Generate(e.to_string());
    let chain = CertificateDer::pem_slice_iter(set.server_cert.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(pem)?;
    let key = PrivateKeyDer::from_pem_slice(set.server_key.as_bytes()).map_err(pem)?;
    server_config_with(chain, key, transport, key_log)
        .map_err(|e| ChatError::Generate(e.to_string()))
}

/// Checks that the certificate `leaf` (PEM) chains to the CA `ca` (PEM) and is valid for
/// `name`, as a client trusting only that CA would check it.
pub(crate) fn check_chain(ca: &str, leaf: &str, name: &str) -> Result<(), String> {
    let der = |pem: &str| {
        CertificateDer::from_pem_slice(pem.as_bytes()).map_err(|e| format!("unreadable: {e}"))
    };
    let mut roots = rustls::RootCertStore::empty();
    roots.add(der(ca)?).map_err(|e| e.to_string())?;
    let verifier =
        rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
            .build()
            .map_err(|e| e.to_string())?;
    let name = ServerName::try_from(name.to_string()).map_err(|e| e.to_string())?;
    verifier
        .verify_server_cert(&der(leaf)?, &[], &name, &[], UnixTime::now())
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn server_config_with(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    transport: Transport,
    key_log: Arc<dyn rustls::KeyLog>,
) -> Result<Arc<rustls::ServerConfig>, rustls::Error> {
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(transport.versions())?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.key_log = key_log;
    Ok(Arc::new(config))
}

/// How the client decides whether to trust the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// Trust certificates issued by the CA in this PEM file (the normal, safe choice).
    Ca(std::path::PathBuf),
    /// Trust any certificate at all. Encryption still happens, but an attacker in the middle can
    /// present their own certificate and read everything: this exists only to show why that is bad.
    Insecure,
}

/// The client's TLS settings.
pub fn client_config(
    trust: &Trust,
    transport: Transport,
    max_fragment: Option<usize>,
    key_log: Arc<dyn rustls::KeyLog>,
) -> Result<Arc<rustls::ClientConfig>, ChatError> {
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(transport.versions())
        .map_err(|e| ChatError::Config(e.to_string()))?;
    let mut config = match trust {
        Trust::Ca(path) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in load_certs(path)? {
                roots.add(cert).map_err(|e| cert_err(path, e))?;
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        Trust::Insecure => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider())))
            .with_no_client_auth(),
    };
    if let Some(size) = max_fragment {
        // rustls counts the 5-byte record header in this limit; accept what a student means (payload bytes).
        if !(32..=16384).contains(&size) {
            return Err(ChatError::Config(format!(
                "--max-fragment {size} is out of range: a TLS record carries between 32 and 16384 bytes"
            )));
        }
        config.max_fragment_size = Some(size + 5);
    }
    config.key_log = key_log;
    Ok(Arc::new(config))
}

/// A certificate verifier that accepts every certificate (only for `--insecure`). Handshake signatures
/// are still checked, so the server must own the key of whatever certificate it shows.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
