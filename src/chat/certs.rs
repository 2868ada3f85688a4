//! Certificates for the chat: a local certificate authority (CA) and a server certificate it signs.
//!
//! A TLS client trusts a server because a CA it already trusts vouches for the server's public key.
//! packetpath makes its own tiny CA on first use, so nothing here depends on the machine's trust store.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};

use super::ChatError;

/// The names the server certificate is valid for (its Subject Alternative Names).
pub const SERVER_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// The default certificate folder, relative to the working directory.
pub const DEFAULT_DIR: &str = "certs";

/// Where the four certificate files live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertPaths {
    /// The folder.
    pub dir: PathBuf,
    /// The CA's certificate (public): what clients trust.
    pub ca_cert: PathBuf,
    /// The CA's private key (secret): signs server certificates.
    pub ca_key: PathBuf,
    /// The server's certificate (public), signed by the CA.
    pub server_cert: PathBuf,
    /// The server's private key (secret): proves the server owns its certificate.
    pub server_key: PathBuf,
}

impl CertPaths {
    /// The standard file names inside `dir`.
    pub fn in_dir(dir: impl Into<PathBuf>) -> Self {
        let dir = dir.into();
        CertPaths {
            ca_cert: dir.join("ca.pem"),
            ca_key: dir.join("ca.key"),
            server_cert: dir.join("server.pem"),
            server_key: dir.join("server.key"),
            dir,
        }
    }

    fn all(&self) -> [&Path; 4] {
        [
            &self.ca_cert,
            &self.ca_key,
            &self.server_cert,
            &self.server_key,
        ]
    }
}

/// What [`ensure`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertStatus {
    /// A complete set was already there and is used as it is.
    Reused,
    /// A new set was made.
    Created,
}

/// Makes sure a complete certificate set exists in `dir`: reuses an existing one, creates a new one if
/// the folder holds none, and refuses (with advice) if it holds only part of a set. With `force`, any
/// existing set is replaced.
pub fn ensure(dir: &Path, force: bool) -> Result<(CertPaths, CertStatus), ChatError> {
    let paths = CertPaths::in_dir(dir);
    let present: Vec<&Path> = paths.all().into_iter().filter(|p| p.exists()).collect();
    if !force {
        if present.len() == 4 {
            return Ok((paths, CertStatus::Reused));
        }
        if !present.is_empty() {
            let missing: Vec<&Path> = paths.all().into_iter().filter(|p| !p.exists()).collect();
            return Err(ChatError::IncompleteCerts {
                dir: dir.display().to_string(),
                present: names(&present),
                missing: names(&missing),
            });
        }
    }
    generate(&paths)?;
    Ok((paths, CertStatus::Created))
}

fn names(paths: &[&Path]) -> String {
    paths
        .iter()
        .filter_map(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(", ")
}

fn generate(paths: &CertPaths) -> Result<(), ChatError> {
    fs::create_dir_all(&paths.dir).map_err(|e| ChatError::CertWrite {
        path: paths.dir.clone(),
        reason: format!("cannot create the folder: {e}"),
    })?;
    let set = make_set("packetpath local CA", "packetpath")?;
    write_file(&paths.ca_cert, set.ca_cert.as_bytes(), 0o644)?;
    write_file(&paths.ca_key, set.ca_key.as_bytes(), 0o600)?;
    write_file(&paths.server_cert, set.server_cert.as_bytes(), 0o644)?;
    write_file(&paths.server_key, set.server_key.as_bytes(), 0o600)?;
    Ok(())
}

/// A CA and a server certificate it signed, in PEM, held in memory.
#[derive(Clone)]
pub struct CertSet {
    /// The CA's certificate.
    pub ca_cert: String,
    /// The CA's private key.
    pub ca_key: String,
    /// The server's certificate, for [`SERVER_NAMES`].
    pub server_cert: String,
    /// The server's private key.
    pub server_key: String,
    /// The CA's name (its Common Name).
    pub ca_name: String,
}

impl std::fmt::Debug for CertSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertSet")
            .field("ca_name", &self.ca_name)
            .finish_non_exhaustive()
    }
}

/// The certificates of an attacker in the middle (`--attack mitm`), made on the spot and never
/// written: a CA of its own ("attacker's CA …") and a certificate it signed for the server's
/// names. No client that trusts only packetpath's CA accepts it.
pub fn attacker_set() -> Result<CertSet, ChatError> {
    make_set("attacker's CA", "not packetpath")
}

/// A certificate packetpath's own CA (in `dir`) signed, but for another name than the server's
/// (`attacker.example`): what an attacker who holds a real certificate for a name of its own
/// shows. A client that trusts the CA still refuses it, for the name (RFC 9525 §6).
pub fn wrong_name_set(dir: &Path) -> Result<CertSet, ChatError> {
    let paths = CertPaths::in_dir(dir);
    let read = |path: &Path| {
        fs::read_to_string(path).map_err(|e| ChatError::CertWrite {
            path: path.to_path_buf(),
            reason: format!("cannot read it: {e}"),
        })
    };
    let gen = |e: rcgen::Error| ChatError::Generate(e.to_string());
    let ca_key = KeyPair::from_pem(&read(&paths.ca_key)?).map_err(gen)?;
    // The CA's certificate is made again from its key: rcgen gives the same subject name and key
    // identifier, which is what a certificate it signs must name as its issuer.
    let (ca, common_name) = ca_params("packetpath local CA", "packetpath", &ca_key);
    let issuer = Issuer::new(ca, ca_key);
    let (server_cert, server_key) = server_cert(&["attacker.example"], &issuer)?;
    let ca_cert = read(&paths.ca_cert)?;
    // A CA in the folder that packetpath did not make would not be the issuer named here: the
    // client would refuse the chain, not the name, and the lesson would be wrong.
    super::config::check_chain(&ca_cert, &server_cert, "attacker.example").map_err(|why| {
        ChatError::Generate(format!(
            "--attack mitm-wrong-name signs with the CA in {} as packetpath makes it, and that one is not: {why} (make a new set with `packetpath certs --force`)",
            paths.dir.display()
        ))
    })?;
    Ok(CertSet {
        ca_cert,
        ca_key: String::new(),
        server_cert,
        server_key,
        ca_name: common_name,
    })
}

/// A CA's parameters, named `ca_name` plus a tag from its key, and that name.
fn ca_params(ca_name: &str, organization: &str, key: &KeyPair) -> (CertificateParams, String) {
    let now = time::OffsetDateTime::now_utc();
    let mut ca = CertificateParams::default();
    let mut name = DistinguishedName::new();
    // A unique name per CA: two packetpath CAs must not be mistaken for one another.
    let tag = super::keylog::hex(key.public_key_raw().get(1..5).unwrap_or_default());
    let common_name = format!("{ca_name} {tag}");
    name.push(DnType::CommonName, common_name.clone());
    name.push(DnType::OrganizationName, organization);
    ca.distinguished_name = name;
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca.not_before = now - time::Duration::days(1);
    ca.not_after = now + time::Duration::days(3650);
    (ca, common_name)
}

/// A server certificate for `names`, signed by `issuer`, and its new key, in PEM.
fn server_cert(
    names: &[&str],
    issuer: &Issuer<'_, KeyPair>,
) -> Result<(String, String), ChatError> {
    let gen = |e: rcgen::Error| ChatError::Generate(e.to_string());
    let now = time::OffsetDateTime::now_utc();
    let server_key = KeyPair::generate().map_err(gen)?;
    let mut server =
        CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .map_err(gen)?;
    let mut server_name = DistinguishedName::new();
    server_name.push(
        DnType::CommonName,
        names.first().copied().unwrap_or_default(),
    );
    server.distinguished_name = server_name;
    server.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    // Strict verifiers (OpenSSL -x509_strict, Python 3.13+) require the Authority Key Identifier.
    server.use_authority_key_identifier_extension = true;
    server.not_before = now - time::Duration::days(1);
    server.not_after = now + time::Duration::days(825);
    let cert = server.signed_by(&server_key, issuer).map_err(gen)?;
    Ok((cert.pem(), server_key.serialize_pem()))
}

/// A new CA named `ca_name` plus a unique tag, and a server certificate for [`SERVER_NAMES`]
/// signed by it.
fn make_set(ca_name: &str, organization: &str) -> Result<CertSet, ChatError> {
    let gen = |e: rcgen::Error| ChatError::Generate(e.to_string());
    let ca_key = KeyPair::generate().map_err(gen)?;
    let (ca, common_name) = ca_params(ca_name, organization, &ca_key);
    let ca_cert = ca.self_signed(&ca_key).map_err(gen)?;
    let issuer = Issuer::new(ca, ca_key);
    let (server_cert, server_key) = server_cert(&SERVER_NAMES, &issuer)?;
    Ok(CertSet {
        ca_cert: ca_cert.pem(),
        ca_key: issuer.key().serialize_pem(),
        server_cert,
        server_key,
        ca_name: common_name,
    })
}

/// Writes `data` to `path` atomically (temporary file, then rename), with Unix permissions `mode`.
fn write_file(path: &Path, data: &[u8], mode: u32) -> Result<(), ChatError> {
    write_file_at(path, data, mode).map_err(|e| ChatError::CertWrite {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

fn write_file_at(path: &Path, data: &[u8], mode: u32) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(&tmp)?;
    #[cfg(unix)]
    {
        // `mode` only applies when the file is created; make sure a leftover file gets it too.
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(mode))?;
    }
    file.write_all(data)?;
    file.sync_all()?;
    fs::rename(&tmp, path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wrong_name_certificate_chains_to_packetpaths_ca_for_another_name() {
        let dir = tempfile::tempdir().unwrap();
        let (paths, _) = ensure(dir.path(), false).unwrap();
        let set = wrong_name_set(dir.path()).unwrap();
        let check = crate::chat::config::check_chain;
        assert_eq!(
            check(&set.ca_cert, &set.server_cert, "attacker.example"),
            Ok(())
        );
        assert!(check(&set.ca_cert, &set.server_cert, "localhost").is_err());
        // The attacker's own CA: a chain no packetpath client trusts.
        let own = attacker_set().unwrap();
        assert!(check(&set.ca_cert, &own.server_cert, "localhost").is_err());
        assert_eq!(check(&own.ca_cert, &own.server_cert, "localhost"), Ok(()));
        // A CA that packetpath did not make as it makes them is refused with advice.
        fs::write(&paths.ca_cert, own.ca_cert.as_bytes()).unwrap();
        let e = wrong_name_set(dir.path()).unwrap_err().to_string();
        assert!(e.contains("packetpath certs --force"), "{e}");
    }

    #[test]
    fn creates_then_reuses_and_protects_keys() {
        let dir = tempfile::tempdir().unwrap();
        let (paths, status) = ensure(dir.path(), false).unwrap();
        assert_eq!(status, CertStatus::Created);
        let first = fs::read(&paths.server_cert).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for key in [&paths.ca_key, &paths.server_key] {
                let mode = fs::metadata(key).unwrap().permissions().mode() & 0o777;
                assert_eq!(mode, 0o600, "{}", key.display());
            }
        }
        let (_, status) = ensure(dir.path(), false).unwrap();
        assert_eq!(status, CertStatus::Reused);
        assert_eq!(fs::read(&paths.server_cert).unwrap(), first);
        let (_, status) = ensure(dir.path(), true).unwrap();
        assert_eq!(status, CertStatus::Created);
        assert_ne!(fs::read(&paths.server_cert).unwrap(), first);
    }

    #[test]
    fn refuses_an_incomplete_set() {
        let dir = tempfile::tempdir().unwrap();
        let (paths, _) = ensure(dir.path(), false).unwrap();
        fs::remove_file(&paths.server_key).unwrap();
        let err = ensure(dir.path(), false).unwrap_err().to_string();
        assert!(err.contains("server.key"), "{err}");
        assert!(err.contains("--force"), "{err}");
    }
}
