//! End-to-end tests on real TLS traffic: a rustls client and server talk through memory, their
//! bytes are cut into records with `frame_record` and fed to a `TlsConnection`, and the secrets
//! they log are the only keys the decoder gets.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::crypto::{ring as ring_provider, CryptoProvider, SupportedKxGroup};
use rustls::{
    ClientConfig, ClientConnection, KeyLog, RootCertStore, ServerConfig, ServerConnection,
    SupportedCipherSuite,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};

use super::*;

/// Collects what rustls logs; client and server both log every secret, `Keys::add` dedupes.
#[derive(Debug, Default)]
struct Collect(Mutex<Keys>);

impl KeyLog for Collect {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        self.0.lock().unwrap().add(label, client_random, secret);
    }
}

/// What one session produced: the chunks each side wrote, in order, and the logged keys.
struct Session {
    chunks: Vec<(Direction, Vec<u8>)>,
    keys: Keys,
    /// What the server read and the client read.
    server_got: Vec<u8>,
    client_got: Vec<u8>,
}

/// Options of one test session.
struct Setup {
    suite: SupportedCipherSuite,
    tls13: bool,
    client_groups: Vec<&'static dyn SupportedKxGroup>,
    server_groups: Vec<&'static dyn SupportedKxGroup>,
    key_update: bool,
}

impl Setup {
    fn new(suite: SupportedCipherSuite, tls13: bool) -> Self {
        let groups = ring_provider::default_provider().kx_groups;
        Setup {
            suite,
            tls13,
            client_groups: groups.clone(),
            server_groups: groups,
            key_update: false,
        }
    }
}

fn provider(
    suite: SupportedCipherSuite,
    groups: Vec<&'static dyn SupportedKxGroup>,
) -> Arc<CryptoProvider> {
    Arc::new(CryptoProvider {
        cipher_suites: vec![suite],
        kx_groups: groups,
        ..ring_provider::default_provider()
    })
}

/// A throwaway CA and a "localhost" certificate it signed (ECDSA P-256).
fn certificates() -> (
    CertificateDer<'static>,
    CertificateDer<'static>,
    PrivateKeyDer<'static>,
) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let server_key = KeyPair::generate().unwrap();
    let server_cert = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&server_key, &issuer)
        .unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
    (ca_cert.der().clone(), server_cert.der().clone(), key)
}

/// Moves bytes both ways until neither side has anything to send.
fn pump(
    client: &mut ClientConnection,
    server: &mut ServerConnection,
    out: &mut Vec<(Direction, Vec<u8>)>,
) {
    loop {
        let mut progressed = false;
        while client.wants_write() {
            let mut buf = Vec::new();
            client.write_tls(&mut buf).unwrap();
            let mut rest = &buf[..];
            while !rest.is_empty() {
                server.read_tls(&mut rest).unwrap();
                server.process_new_packets().unwrap();
            }
            out.push((Direction::ClientToServer, buf));
            progressed = true;
        }
        while server.wants_write() {
            let mut buf = Vec::new();
            server.write_tls(&mut buf).unwrap();
            let mut rest = &buf[..];
            while !rest.is_empty() {
                client.read_tls(&mut rest).unwrap();
                client.process_new_packets().unwrap();
            }
            out.push((Direction::ServerToClient, buf));
            progressed = true;
        }
        if !progressed {
            return;
        }
    }
}

/// Handshake, "hi\n" from the client, "hello\n" back, optional KeyUpdates and "again\n", then
/// close_notify from the client.
fn run(setup: Setup) -> Session {
    let (ca, cert, key) = certificates();
    let log = Arc::new(Collect::default());
    let versions: &[&rustls::SupportedProtocolVersion] = if setup.tls13 {
        &[&rustls::version::TLS13]
    } else {
        &[&rustls::version::TLS12]
    };
    let mut roots = RootCertStore::empty();
    roots.add(ca).unwrap();
    let mut client_config =
        ClientConfig::builder_with_provider(provider(setup.suite, setup.client_groups))
            .with_protocol_versions(versions)
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    client_config.key_log = log.clone();
    let mut server_config =
        ServerConfig::builder_with_provider(provider(setup.suite, setup.server_groups))
            .with_protocol_versions(versions)
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .unwrap();
    server_config.key_log = log.clone();

    let name = ServerName::try_from("localhost").unwrap();
    let mut client = ClientConnection::new(Arc::new(client_config), name).unwrap();
    let mut server = ServerConnection::new(Arc::new(server_config)).unwrap();
    let mut chunks = Vec::new();
    pump(&mut client, &mut server, &mut chunks);
    assert!(!client.is_handshaking() && !server.is_handshaking());

    client.writer().write_all(b"hi\n").unwrap();
    pump(&mut client, &mut server, &mut chunks);
    server.writer().write_all(b"hello\n").unwrap();
    pump(&mut client, &mut server, &mut chunks);
    if setup.key_update {
        client.refresh_traffic_keys().unwrap(); // KeyUpdate(update_requested): server answers
        pump(&mut client, &mut server, &mut chunks);
        client.writer().write_all(b"again\n").unwrap();
        server.writer().write_all(b"again\n").unwrap();
        pump(&mut client, &mut server, &mut chunks);
    }
    client.send_close_notify();
    pump(&mut client, &mut server, &mut chunks);

    let mut server_got = Vec::new();
    let _ = server.reader().read_to_end(&mut server_got);
    let mut client_got = Vec::new();
    let _ = client.reader().read_to_end(&mut client_got);
    let keys = log.0.lock().unwrap().clone();
    Session {
        chunks,
        keys,
        server_got,
        client_got,
    }
}

/// A record as decoded: its direction, what the connection said, and its plaintext, decrypted
/// again after the whole conversation (so keys retired by a KeyUpdate are exercised too).
type Decoded = (Direction, RecordInfo, Option<Vec<u8>>);

/// Frames the chunks into records per direction (as a TCP reassembler would hand them over)
/// and feeds them to one connection.
fn decode(chunks: &[(Direction, Vec<u8>)], keys: &Keys) -> (TlsConnection, Vec<Decoded>) {
    let mut conn = TlsConnection::new();
    let mut streams = [Vec::new(), Vec::new()];
    let mut seen = Vec::new();
    for (dir, bytes) in chunks {
        let stream = &mut streams[*dir as usize];
        stream.extend_from_slice(bytes);
        loop {
            match frame_record(stream) {
                Framing::Complete(header) => {
                    let record: Vec<u8> = stream.drain(..header.record_len()).collect();
                    let info = conn.on_record(*dir, &record, keys);
                    seen.push((*dir, info, record));
                }
                Framing::NeedMore { .. } => break,
                Framing::Malformed(e) => panic!("rustls wrote a malformed record: {e}"),
            }
        }
    }
    assert!(streams.iter().all(Vec::is_empty), "leftover bytes");
    let out = seen
        .into_iter()
        .map(|(dir, info, record)| {
            let plain = conn.reopen(dir, &info, &record).map(|r| {
                let plain = r.expect("a record decrypted once opens again");
                assert_eq!(plain.len(), info.decrypted.map_or(0, |p| p.len));
                plain
            });
            (dir, info, plain)
        })
        .collect();
    (conn, out)
}

fn names(records: &[Decoded], dir: Direction) -> Vec<&'static str> {
    records
        .iter()
        .filter(|(d, _, _)| *d == dir)
        .flat_map(|(_, r, _)| r.handshake.iter().map(|h| h.name()))
        .collect()
}

fn app_data(records: &[Decoded], dir: Direction) -> Vec<Vec<u8>> {
    records
        .iter()
        .filter(|(d, r, _)| {
            *d == dir
                && r.decrypted
                    .is_some_and(|p| p.content_type == ContentType::ApplicationData)
        })
        .filter_map(|(_, _, plain)| plain.clone())
        .collect()
}

fn check_app_data_and_close(records: &[Decoded], session: &Session) {
    assert_eq!(session.server_got, b"hi\n");
    assert_eq!(session.client_got, b"hello\n");
    assert_eq!(
        app_data(records, Direction::ClientToServer),
        vec![b"hi\n".to_vec()]
    );
    assert_eq!(
        app_data(records, Direction::ServerToClient),
        vec![b"hello\n".to_vec()]
    );
    let alerts: Vec<_> = records
        .iter()
        .filter(|(d, _, _)| *d == Direction::ClientToServer)
        .filter_map(|(_, r, _)| r.alert)
        .collect();
    assert_eq!(
        alerts,
        vec![(1, 0)],
        "close_notify: level warning (1), description 0"
    );
    assert_eq!(alert_name(0), "close_notify");
}

fn tls13_session(suite: SupportedCipherSuite, id: u16) {
    let session = run(Setup::new(suite, true));
    // 5 secrets logged by each side, deduplicated: CHTS, SHTS, CTS0, STS0, EXPORTER.
    assert_eq!(session.keys.len(), 5, "{}", session.keys.to_nss());
    let (conn, records) = decode(&session.chunks, &session.keys);

    assert_eq!(
        names(&records, Direction::ClientToServer),
        ["ClientHello", "Finished"]
    );
    let server = names(&records, Direction::ServerToClient);
    assert_eq!(
        server[..5],
        [
            "ServerHello",
            "EncryptedExtensions",
            "Certificate",
            "CertificateVerify",
            "Finished"
        ],
        "{server:?}"
    );
    assert!(
        server[5..].iter().all(|n| *n == "NewSessionTicket") && server.len() > 5,
        "{server:?}"
    );
    check_app_data_and_close(&records, &session);

    // The application data record: outer type application_data, 3 + 1 + 16 = 20 bytes.
    let hi = records
        .iter()
        .find(|(_, _, p)| p.as_deref() == Some(b"hi\n"))
        .map(|(_, r, _)| r)
        .unwrap();
    assert_eq!(hi.header.content_type, ContentType::ApplicationData);
    assert_eq!(hi.header.length, 20);
    assert_eq!(hi.epoch, Some(KeyEpoch::Application { generation: 0 }));

    let s = conn.summary();
    assert_eq!(s.version, Some(0x0304));
    assert_eq!(s.cipher_suite, Some(id));
    assert_eq!(s.cipher_suite_name, cipher_suite_name(id));
    assert_eq!(s.sni.as_deref(), Some("localhost"));
    assert_eq!(s.offered_suites, vec![id]);
    assert!(s.offered_versions.contains(&0x0304));
    assert_eq!(
        s.key_share_group,
        Some(0x001d),
        "x25519 is rustls' first group"
    );
    assert!(session.keys.has_client_random(&s.client_random.unwrap()));
    assert!(s.server_random.is_some() && !s.hello_retry_request);
    assert!(s.encrypted_records > 5);
    assert_eq!(s.encrypted_records, s.decrypted_records);
    // Middlebox-compatibility ChangeCipherSpec records are reported, not decrypted.
    assert!(records.iter().any(
        |(_, r, _)| r.header.content_type == ContentType::ChangeCipherSpec
            && r.note.as_deref().is_some_and(|n| n.contains("middlebox"))
    ));

    without_keys_and_with_wrong_keys(&session);
}

/// The same bytes without keys and with wrong keys: no plaintext, notes, the clear parts intact.
fn without_keys_and_with_wrong_keys(session: &Session) {
    let (conn, records) = decode(&session.chunks, &Keys::new());
    assert!(records.iter().all(|(_, r, _)| r.decrypted.is_none()));
    let encrypted: Vec<_> = records.iter().filter(|(_, r, _)| r.encrypted).collect();
    assert!(!encrypted.is_empty());
    for (_, r, _) in &encrypted {
        let note = r.note.as_deref().unwrap_or_default();
        assert!(note.contains("no keys for this session"), "{note}");
    }
    assert_eq!(names(&records, Direction::ClientToServer)[0], "ClientHello");
    assert_eq!(names(&records, Direction::ServerToClient)[0], "ServerHello");
    assert!(conn.summary().cipher_suite.is_some());

    // Right labels and client random, wrong secrets.
    let mut wrong = Keys::new();
    for line in session.keys.to_nss().lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let random: Vec<u8> = (0..32)
            .map(|i| u8::from_str_radix(&fields[1][2 * i..2 * i + 2], 16).unwrap())
            .collect();
        let secret_len = fields[2].len() / 2;
        wrong.add(fields[0], &random, &vec![0x42; secret_len]);
    }
    let (_, records) = decode(&session.chunks, &wrong);
    for (_, r, _) in records.iter().filter(|(_, r, _)| r.encrypted) {
        assert!(r.decrypted.is_none());
        let note = r.note.as_deref().unwrap_or_default();
        assert!(note.starts_with("decryption failed:"), "{note}");
    }
}

#[test]
fn tls13_aes_128_gcm() {
    tls13_session(
        ring_provider::cipher_suite::TLS13_AES_128_GCM_SHA256,
        0x1301,
    );
}

#[test]
fn tls13_aes_256_gcm() {
    tls13_session(
        ring_provider::cipher_suite::TLS13_AES_256_GCM_SHA384,
        0x1302,
    );
}

#[test]
fn tls13_chacha20_poly1305() {
    tls13_session(
        ring_provider::cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
        0x1303,
    );
}

fn tls12_session(suite: SupportedCipherSuite, id: u16) {
    let session = run(Setup::new(suite, false));
    assert_eq!(session.keys.len(), 1, "one CLIENT_RANDOM line");
    let (conn, records) = decode(&session.chunks, &session.keys);
    assert_eq!(
        names(&records, Direction::ClientToServer),
        ["ClientHello", "ClientKeyExchange", "Finished"]
    );
    assert_eq!(
        names(&records, Direction::ServerToClient),
        [
            "ServerHello",
            "Certificate",
            "ServerKeyExchange",
            "ServerHelloDone",
            "Finished"
        ]
    );
    check_app_data_and_close(&records, &session);
    // Finished is the first encrypted record of each direction (after its ChangeCipherSpec).
    for dir in [Direction::ClientToServer, Direction::ServerToClient] {
        let first = records
            .iter()
            .find(|(d, r, _)| *d == dir && r.encrypted)
            .unwrap();
        assert_eq!(first.1.handshake, vec![HandshakeType::Finished]);
        assert_eq!(first.1.epoch, Some(KeyEpoch::Tls12 { generation: 0 }));
        assert_eq!(
            first.1.decrypted.as_ref().unwrap().content_type,
            ContentType::Handshake
        );
    }
    let s = conn.summary();
    assert_eq!(s.version, Some(0x0303));
    assert_eq!(s.cipher_suite, Some(id));
    assert_eq!(
        s.key_share_group,
        Some(0x001d),
        "x25519 from the ServerKeyExchange"
    );
    assert_eq!(s.encrypted_records, s.decrypted_records);
    without_keys_and_with_wrong_keys(&session);
}

#[test]
fn tls12_ecdhe_aes_128_gcm() {
    tls12_session(
        ring_provider::cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        0xc02b,
    );
}

#[test]
fn tls12_ecdhe_aes_256_gcm() {
    tls12_session(
        ring_provider::cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        0xc02c,
    );
}

#[test]
fn tls12_ecdhe_chacha20_poly1305() {
    tls12_session(
        ring_provider::cipher_suite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        0xcca9,
    );
}

#[test]
fn tls13_key_update_both_directions() {
    let mut setup = Setup::new(ring_provider::cipher_suite::TLS13_AES_128_GCM_SHA256, true);
    setup.key_update = true;
    let session = run(setup);
    assert_eq!(session.server_got, b"hi\nagain\n");
    let (conn, records) = decode(&session.chunks, &session.keys);
    for dir in [Direction::ClientToServer, Direction::ServerToClient] {
        assert!(names(&records, dir).contains(&"KeyUpdate"), "{dir:?}");
        assert_eq!(app_data(&records, dir).last().unwrap(), b"again\n");
        let again = records
            .iter()
            .find(|(d, _, p)| *d == dir && p.as_deref() == Some(b"again\n"))
            .unwrap();
        assert_eq!(again.1.epoch, Some(KeyEpoch::Application { generation: 1 }));
    }
    assert_eq!(
        conn.summary().encrypted_records,
        conn.summary().decrypted_records
    );
}

#[test]
fn tls13_hello_retry_request() {
    // The client's first key share is x25519; a server that only accepts secp256r1 must ask again.
    let mut setup = Setup::new(ring_provider::cipher_suite::TLS13_AES_256_GCM_SHA384, true);
    setup.server_groups = vec![ring_provider::kx_group::SECP256R1];
    let session = run(setup);
    let (conn, records) = decode(&session.chunks, &session.keys);
    assert_eq!(
        names(&records, Direction::ClientToServer),
        ["ClientHello", "ClientHello", "Finished"]
    );
    assert_eq!(
        names(&records, Direction::ServerToClient)[..2],
        ["ServerHello", "ServerHello"]
    );
    let s = conn.summary();
    assert!(s.hello_retry_request);
    assert_eq!(s.key_share_group, Some(0x0017));
    assert_ne!(s.server_random, Some(HELLO_RETRY_REQUEST_RANDOM));
    check_app_data_and_close(&records, &session);
    assert_eq!(s.encrypted_records, s.decrypted_records);
}

#[test]
fn byte_by_byte_delivery_gives_the_same_records() {
    let session = run(Setup::new(
        ring_provider::cipher_suite::TLS13_AES_128_GCM_SHA256,
        true,
    ));
    let (_, whole) = decode(&session.chunks, &session.keys);
    // Every chunk split into 1-byte pieces: frame_record says NeedMore until a record is whole.
    let mut pieces = Vec::new();
    for (dir, bytes) in &session.chunks {
        pieces.extend(bytes.iter().map(|b| (*dir, vec![*b])));
    }
    let (_, split) = decode(&pieces, &session.keys);
    assert_eq!(whole, split);
}

#[test]
fn keys_arriving_late_still_decrypt_later_records() {
    let session = run(Setup::new(
        ring_provider::cipher_suite::TLS13_AES_128_GCM_SHA256,
        true,
    ));
    let none = Keys::new();
    let mut conn = TlsConnection::new();
    let mut decrypted = Vec::new();
    for (i, (dir, bytes)) in session.chunks.iter().enumerate() {
        // Keys known only from the third chunk on: the server's handshake flight is lost.
        let keys = if i < 2 { &none } else { &session.keys };
        let mut rest = &bytes[..];
        while let Framing::Complete(h) = frame_record(rest) {
            let record = &rest[..h.record_len()];
            let info = conn.on_record(*dir, record, keys);
            decrypted.extend(conn.reopen(*dir, &info, record).and_then(Result::ok));
            rest = &rest[h.record_len()..];
        }
    }
    assert!(decrypted.contains(&b"hi\n".to_vec()));
    assert!(decrypted.contains(&b"hello\n".to_vec()));
}

/// xorshift64*: deterministic pseudo-random bytes without a dependency.
fn noise(seed: &mut u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|_| {
            *seed ^= *seed >> 12;
            *seed ^= *seed << 25;
            *seed ^= *seed >> 27;
            (seed.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
        })
        .collect()
}

#[test]
fn random_bytes_never_panic() {
    let session = run(Setup::new(
        ring_provider::cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
        true,
    ));
    let mut seed = 0x9e37_79b9_7f4a_7c15;
    let mut conn = TlsConnection::new();
    for round in 0..3000 {
        let len = (noise(&mut seed, 1)[0] as usize) % 64;
        let mut bytes = noise(&mut seed, len);
        let _ = frame_record(&bytes);
        let _ = looks_like_tls(&bytes);
        // Half the time give it a plausible header so the body reaches the handshake and
        // decryption code.
        if round % 2 == 0 && bytes.len() >= 5 {
            bytes[0] = 20 + (bytes[0] % 6);
            bytes[1] = 3;
            let body = (bytes.len() - 5) as u16;
            bytes[3..5].copy_from_slice(&body.to_be_bytes());
        }
        let dir = if round % 3 == 0 {
            Direction::ClientToServer
        } else {
            Direction::ServerToClient
        };
        let _ = conn.on_record(dir, &bytes, &session.keys);
        let _ = Keys::parse_nss(&String::from_utf8_lossy(&bytes));
    }
    // Garbage in the middle of a real session: the real records around it still decrypt.
    let mut chunks = session.chunks.clone();
    let at = chunks.len() - 2;
    let garbage = [&[23u8, 3, 3, 0, 40][..], &noise(&mut seed, 40)].concat();
    chunks.insert(at, (Direction::ServerToClient, garbage));
    let (_, records) = decode(&chunks, &session.keys);
    assert!(records.iter().any(|(_, r, _)| r
        .note
        .as_deref()
        .is_some_and(|n| n.starts_with("decryption failed"))));
    assert_eq!(
        app_data(&records, Direction::ServerToClient),
        vec![b"hello\n".to_vec()]
    );
}

/// Every record of a session as (direction, record bytes), in order.
fn records_of(chunks: &[(Direction, Vec<u8>)]) -> Vec<(Direction, Vec<u8>)> {
    let mut out = Vec::new();
    for (dir, bytes) in chunks {
        let mut rest = &bytes[..];
        while let Framing::Complete(h) = frame_record(rest) {
            out.push((*dir, rest[..h.record_len()].to_vec()));
            rest = &rest[h.record_len()..];
        }
        assert!(rest.is_empty(), "rustls writes whole records per chunk");
    }
    out
}

#[test]
fn finished_switches_to_application_keys() {
    let session = run(Setup::new(
        ring_provider::cipher_suite::TLS13_AES_128_GCM_SHA256,
        true,
    ));
    let mut conn = TlsConnection::new();
    let server = Direction::ServerToClient;
    for (dir, record) in records_of(&session.chunks) {
        let before = conn.sending_epoch(dir);
        let info = conn.on_record(dir, &record, &session.keys);
        if info.encrypted {
            // No fallback was needed: each record used the keys expected before it arrived.
            assert_eq!(info.epoch, before, "{dir:?} {:?}", info.handshake);
        }
        if dir == server && info.handshake.contains(&HandshakeType::ServerHello) {
            assert_eq!(conn.sending_epoch(server), Some(KeyEpoch::Handshake));
        }
        if info.handshake.contains(&HandshakeType::Finished) {
            assert_eq!(
                conn.sending_epoch(dir),
                Some(KeyEpoch::Application { generation: 0 })
            );
        }
    }
}

#[test]
fn a_record_lost_from_the_capture_is_skipped() {
    for tls13 in [true, false] {
        let suite = if tls13 {
            ring_provider::cipher_suite::TLS13_AES_128_GCM_SHA256
        } else {
            ring_provider::cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
        };
        let session = run(Setup::new(suite, tls13));
        let mut records = records_of(&session.chunks);
        // Drop the client's "hi\n" record (the client's second-to-last record).
        let client_records: Vec<usize> = (0..records.len())
            .filter(|&i| records[i].0 == Direction::ClientToServer)
            .collect();
        records.remove(client_records[client_records.len() - 2]);
        let (_, infos) = decode(&records, &session.keys);
        let client_alerts: Vec<_> = infos
            .iter()
            .filter(|(d, _, _)| *d == Direction::ClientToServer)
            .filter_map(|(_, r, _)| r.alert)
            .collect();
        assert_eq!(
            client_alerts,
            vec![(1, 0)],
            "close_notify at sequence number +1 (tls13 {tls13})"
        );
        assert!(app_data(&infos, Direction::ClientToServer).is_empty());
    }
}

/// A resumed TLS 1.3 session with 0-RTT: a first connection gets a ticket, the second sends
/// "early\n" as early data right behind its ClientHello, then "hi\n" after the handshake. The
/// client offers all three TLS 1.3 suites and the server knows only ChaCha20-Poly1305: the early
/// keys' suite must be found among the offered suites with a SHA-256 hash (AES-128-GCM is tried
/// first and fails).
fn zero_rtt_session(accept: bool) -> Session {
    let (ca, cert, key) = certificates();
    let log = Arc::new(Collect::default());
    let mut roots = RootCertStore::empty();
    roots.add(ca).unwrap();
    let groups = ring_provider::default_provider().kx_groups;
    let client_provider = Arc::new(CryptoProvider {
        cipher_suites: vec![
            ring_provider::cipher_suite::TLS13_AES_128_GCM_SHA256,
            ring_provider::cipher_suite::TLS13_AES_256_GCM_SHA384,
            ring_provider::cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
        ],
        kx_groups: groups.clone(),
        ..ring_provider::default_provider()
    });
    let mut client_config = ClientConfig::builder_with_provider(client_provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    client_config.key_log = log.clone();
    client_config.enable_early_data = true;
    let mut server_config = ServerConfig::builder_with_provider(provider(
        ring_provider::cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
        groups,
    ))
    .with_protocol_versions(&[&rustls::version::TLS13])
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert], key)
    .unwrap();
    server_config.key_log = log.clone();
    server_config.max_early_data_size = 1024;
    let (client_config, server_config) = (Arc::new(client_config), Arc::new(server_config));
    let name = ServerName::try_from("localhost").unwrap();

    // The first connection: a full handshake, after which the server sends its tickets.
    let mut client = ClientConnection::new(client_config.clone(), name.clone()).unwrap();
    let mut server = ServerConnection::new(server_config.clone()).unwrap();
    pump(&mut client, &mut server, &mut Vec::new());
    assert!(!client.is_handshaking());

    // The second: resumption with early data.
    let mut client = ClientConnection::new(client_config, name).unwrap();
    let mut early = client
        .early_data()
        .expect("a ticket that allows early data");
    early.write_all(b"early\n").unwrap();
    let server_config = if accept {
        server_config
    } else {
        let mut refusing = (*server_config).clone();
        refusing.max_early_data_size = 0;
        Arc::new(refusing)
    };
    let mut server = ServerConnection::new(server_config).unwrap();
    let mut chunks = Vec::new();
    pump(&mut client, &mut server, &mut chunks);
    assert_eq!(client.is_early_data_accepted(), accept);
    let mut server_got = Vec::new();
    if let Some(mut early) = server.early_data() {
        early.read_to_end(&mut server_got).unwrap();
    }
    client.writer().write_all(b"hi\n").unwrap();
    pump(&mut client, &mut server, &mut chunks);
    client.send_close_notify();
    pump(&mut client, &mut server, &mut chunks);
    let _ = server.reader().read_to_end(&mut server_got);
    let keys = log.0.lock().unwrap().clone();
    Session {
        chunks,
        keys,
        server_got,
        client_got: Vec::new(),
    }
}

#[test]
fn zero_rtt_early_data_and_end_of_early_data_open_with_the_early_keys() {
    let session = zero_rtt_session(true);
    assert_eq!(session.server_got, b"early\nhi\n");
    let (conn, records) = decode(&session.chunks, &session.keys);
    assert!(conn.summary().offered_early_data);
    let client: Vec<&Decoded> = records
        .iter()
        .filter(|(d, _, _)| *d == Direction::ClientToServer)
        .collect();
    let described: Vec<(Option<KeyEpoch>, Vec<&str>, Option<&str>)> = client
        .iter()
        .map(|(_, r, _)| {
            (
                r.epoch,
                r.handshake.iter().map(|h| h.name()).collect(),
                r.note.as_deref(),
            )
        })
        .collect();
    // ClientHello and the compatibility ChangeCipherSpec in clear; "early\n" and EndOfEarlyData
    // under the early keys; Finished under the handshake keys; "hi\n" and close_notify under the
    // application keys.
    let epochs: Vec<Option<KeyEpoch>> = described.iter().map(|d| d.0).collect();
    let app = Some(KeyEpoch::Application { generation: 0 });
    let early = Some(KeyEpoch::Early);
    assert_eq!(
        epochs,
        [
            None,
            None,
            early,
            early,
            Some(KeyEpoch::Handshake),
            app,
            app
        ],
        "{described:?}"
    );
    assert_eq!(
        names(&records, Direction::ClientToServer),
        ["ClientHello", "EndOfEarlyData", "Finished"]
    );
    assert_eq!(
        app_data(&records, Direction::ClientToServer),
        vec![b"early\n".to_vec(), b"hi\n".to_vec()]
    );
    // The early record's inner type and sequence numbers 0 and 1 under the early keys.
    let early_plain: Vec<(ContentType, u64)> = client
        .iter()
        .filter(|(_, r, _)| r.epoch == early)
        .filter_map(|(_, r, _)| r.decrypted.map(|p| (p.content_type, p.seq)))
        .collect();
    assert_eq!(
        early_plain,
        [
            (ContentType::ApplicationData, 0),
            (ContentType::Handshake, 1)
        ]
    );
    let ccs = described[1].2.unwrap_or("");
    assert!(ccs.contains("middlebox compatibility"), "{ccs}");
    assert!(records
        .iter()
        .all(|(_, r, _)| r.note.is_none() || !r.note.as_deref().unwrap_or("").contains("failed")));
    assert_eq!(KeyEpoch::Early.describe(), "early data (0-RTT)");
}

#[test]
fn zero_rtt_refused_by_the_server_still_opens_and_the_finished_follows() {
    // The server does not accept early data: no EndOfEarlyData, the client's Finished comes
    // straight under its handshake keys, and the early record still opens for a reader holding
    // the early secret (as tshark does).
    let session = zero_rtt_session(false);
    assert_eq!(session.server_got, b"hi\n");
    let (_, records) = decode(&session.chunks, &session.keys);
    assert_eq!(
        names(&records, Direction::ClientToServer),
        ["ClientHello", "Finished"]
    );
    assert_eq!(
        app_data(&records, Direction::ClientToServer),
        vec![b"early\n".to_vec(), b"hi\n".to_vec()]
    );
    let failed: Vec<&str> = records
        .iter()
        .filter_map(|(_, r, _)| r.note.as_deref())
        .filter(|n| n.contains("failed"))
        .collect();
    assert!(failed.is_empty(), "{failed:?}");

    // Without the early secret the 0-RTT record is explained, and the rest still opens.
    let mut keys = Keys::new();
    for line in session.keys.to_nss().lines() {
        if !line.starts_with(labels::CLIENT_EARLY_TRAFFIC_SECRET) {
            let (k, _) = Keys::parse_nss(line);
            keys.merge(&k);
        }
    }
    let (_, records) = decode(&session.chunks, &keys);
    let early = &records
        .iter()
        .find(|(d, r, _)| *d == Direction::ClientToServer && r.encrypted)
        .expect("the 0-RTT record")
        .1;
    let note = early.note.as_deref().unwrap_or("");
    assert!(
        early.decrypted.is_none()
            && note.contains("0-RTT")
            && note.contains("CLIENT_EARLY_TRAFFIC_SECRET"),
        "{note}"
    );
    assert_eq!(
        app_data(&records, Direction::ClientToServer),
        vec![b"hi\n".to_vec()]
    );
}
