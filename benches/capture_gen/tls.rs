//! The TLS side of the generator: a throwaway CA and "localhost" certificate (rcgen), rustls client
//! and server configurations with the ring provider, TLS 1.3 only, and a `KeyLog` that collects every
//! secret into [`Keys`] (client and server both log each secret; `Keys::add` keeps one).

use std::sync::{Arc, Mutex, PoisonError};

use packetpath::tls::Keys;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::crypto::{ring as ring_provider, CryptoProvider};
use rustls::{
    ClientConfig, ClientConnection, Connection, KeyLog, RootCertStore, ServerConfig,
    ServerConnection, SupportedCipherSuite,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};

/// Collects the secrets rustls logs (NSS key-log labels such as `CLIENT_TRAFFIC_SECRET_0`).
#[derive(Debug, Default)]
pub struct Collect(Mutex<Keys>);

impl Collect {
    /// Every secret logged so far.
    pub fn keys(&self) -> Keys {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl KeyLog for Collect {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .add(label, client_random, secret);
    }
}

/// Client configurations (one per TLS 1.3 cipher suite, so the capture exercises every decryptor),
/// the server configuration, and the shared secret collector.
pub struct Endpoints {
    clients: Vec<Arc<ClientConfig>>,
    server: Arc<ServerConfig>,
    /// Where both ends log their secrets.
    pub log: Arc<Collect>,
}

impl Endpoints {
    /// Builds the certificates and configurations.
    pub fn new() -> Self {
        let (ca, cert, key) = certificates();
        let log = Arc::new(Collect::default());
        let mut roots = RootCertStore::empty();
        roots.add(ca).expect("rcgen's CA certificate is valid");
        let suites: [SupportedCipherSuite; 3] = [
            ring_provider::cipher_suite::TLS13_AES_256_GCM_SHA384,
            ring_provider::cipher_suite::TLS13_AES_128_GCM_SHA256,
            ring_provider::cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
        ];
        let clients = suites
            .iter()
            .map(|&suite| {
                let provider = CryptoProvider {
                    cipher_suites: vec![suite],
                    ..ring_provider::default_provider()
                };
                let mut config = ClientConfig::builder_with_provider(Arc::new(provider))
                    .with_protocol_versions(&[&rustls::version::TLS13])
                    .expect("TLS 1.3 with the ring provider")
                    .with_root_certificates(roots.clone())
                    .with_no_client_auth();
                config.key_log = log.clone();
                Arc::new(config)
            })
            .collect();
        let mut server =
            ServerConfig::builder_with_provider(Arc::new(ring_provider::default_provider()))
                .with_protocol_versions(&[&rustls::version::TLS13])
                .expect("TLS 1.3 with the ring provider")
                .with_no_client_auth()
                .with_single_cert(vec![cert], key)
                .expect("rcgen's server certificate and key match");
        server.key_log = log.clone();
        Endpoints {
            clients,
            server: Arc::new(server),
            log,
        }
    }

    /// A fresh client/server pair for connection number `index` (the cipher suite rotates:
    /// AES-256-GCM for most connections, AES-128-GCM and ChaCha20-Poly1305 for one in four each).
    pub fn pair(&self, index: usize) -> [Connection; 2] {
        let suite = match index % 4 {
            2 => 1,
            3 => 2,
            _ => 0,
        };
        let name = ServerName::try_from("localhost").expect("a valid DNS name");
        let client =
            ClientConnection::new(self.clients[suite].clone(), name).expect("client connection");
        let server = ServerConnection::new(self.server.clone()).expect("server connection");
        [Connection::Client(client), Connection::Server(server)]
    }
}

/// A throwaway CA and a "localhost" certificate it signed (ECDSA P-256).
fn certificates() -> (
    CertificateDer<'static>,
    CertificateDer<'static>,
    PrivateKeyDer<'static>,
) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().expect("CA key");
    let ca_cert = ca_params.self_signed(&ca_key).expect("CA certificate");
    let issuer = Issuer::new(ca_params, ca_key);
    let server_key = KeyPair::generate().expect("server key");
    let server_cert = CertificateParams::new(vec!["localhost".to_string()])
        .expect("server parameters")
        .signed_by(&server_key, &issuer)
        .expect("server certificate");
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
    (ca_cert.der().clone(), server_cert.der().clone(), key)
}
