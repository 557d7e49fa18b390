//! Keys in the data directory, created on first use.
//!
//! | file | content | mode |
//! |---|---|---|
//! | `audit.key` | Ed25519 signing key, PKCS#8 PEM | 0600 |
//! | `audit.pub` | the log's FIRST public key (the trust root), SubjectPublicKeyInfo PEM | 0644 |
//! | `audit.key.next` | during a rotation only: the next signing key | 0600 |
//! | `log.key` | 32-byte HMAC-SHA256 key for finding fingerprints, hex | 0600 |
//! | `records.key` | 32-byte XChaCha20-Poly1305 key that seals the titles of withheld documents ([`super::seal`]), hex; delete it to purge them, a new one is made on the next write | 0600 |
//! | `origin` | the log's origin line, `mishen.audit/<key id>` | 0644 |
//!
//! All random bytes come from the operating system (`getrandom`). A secret key file
//! that group or others can read is refused.

use super::AuditError;
pub use super::seal::{RECORDS_KEY_FILE, RecordsKey};
use ed25519_dalek::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, spki::der::pem::LineEnding,
};
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};
use std::fmt;
use std::io::Write;
use std::path::Path;

/// File names inside the data directory.
pub const SIGNING_KEY_FILE: &str = "audit.key";
/// Public key file.
pub const PUBLIC_KEY_FILE: &str = "audit.pub";
/// The next signing key, present only while a rotation is in progress.
pub const NEXT_KEY_FILE: &str = "audit.key.next";
/// HMAC key file.
pub const LOG_KEY_FILE: &str = "log.key";
/// Origin file.
pub const ORIGIN_FILE: &str = "origin";

/// First 8 bytes of SHA-256 of the raw 32-byte public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyId(pub [u8; 8]);

impl KeyId {
    /// The id of `key`.
    pub fn of(key: &VerifyingKey) -> KeyId {
        let d = Sha256::digest(key.as_bytes());
        let mut id = [0u8; 8];
        id.copy_from_slice(&d[..8]);
        KeyId(id)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// The Ed25519 signing key.
pub struct Signer {
    key: SigningKey,
    id: KeyId,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signer({})", self.id)
    }
}

impl Signer {
    /// A signer from a 32-byte seed (tests and known-answer vectors).
    pub fn from_seed(seed: [u8; 32]) -> Signer {
        let key = SigningKey::from_bytes(&seed);
        let id = KeyId::of(&key.verifying_key());
        Signer { key, id }
    }

    /// The public key.
    pub fn public(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// The key id.
    pub fn key_id(&self) -> KeyId {
        self.id
    }

    /// Signs `msg`.
    pub fn sign(&self, msg: &[u8]) -> Signature {
        self.key.sign(msg)
    }
}

/// The HMAC key that fingerprints finding values.
#[derive(Clone)]
pub struct LogKey([u8; 32]);

impl fmt::Debug for LogKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LogKey(..)")
    }
}

impl LogKey {
    /// A key from bytes (tests).
    pub fn from_bytes(b: [u8; 32]) -> LogKey {
        LogKey(b)
    }

    /// HMAC-SHA256 of `msg`.
    pub fn hmac(&self, msg: &[u8]) -> [u8; 32] {
        let mut m = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(&self.0)
            .expect("HMAC accepts keys of any length");
        m.update(msg);
        m.finalize().into_bytes().into()
    }
}

/// The keys a screening record body is built with: the fingerprint key and,
/// if there is one, the records key that seals titles.
#[derive(Debug, Clone)]
pub struct BodyKeys {
    /// Fingerprint key.
    pub log_key: LogKey,
    /// Seals titles of withheld documents; without it they are not kept.
    pub records_key: Option<RecordsKey>,
}

/// Everything the log needs from the data directory.
#[derive(Debug)]
pub struct Keys {
    /// Signing key.
    pub signer: Signer,
    /// Fingerprint key.
    pub log_key: LogKey,
    /// The key that seals titles of withheld documents (`None` when
    /// `records.key` is absent and the keys were opened read-only: a title is
    /// then not kept at all).
    pub records_key: Option<RecordsKey>,
    /// Origin line.
    pub origin: String,
}

fn random32() -> Result<[u8; 32], AuditError> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| AuditError::Keys(format!("no randomness from the OS: {e}")))?;
    Ok(b)
}

fn io(p: &Path, e: std::io::Error) -> AuditError {
    AuditError::Io(format!("{}: {e}", p.display()))
}

/// Writes a new file, failing if it exists.
fn create_file(p: &Path, data: &[u8], mode: u32) -> Result<(), AuditError> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut f = o.open(p).map_err(|e| io(p, e))?;
    f.write_all(data).map_err(|e| io(p, e))?;
    f.sync_all().map_err(|e| io(p, e))
}

fn read_secret(p: &Path) -> Result<String, AuditError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let m = std::fs::metadata(p).map_err(|e| io(p, e))?;
        let mode = m.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(AuditError::Keys(format!(
                "{} is readable by others (mode {mode:04o}); run chmod 600 on it",
                p.display()
            )));
        }
    }
    std::fs::read_to_string(p).map_err(|e| io(p, e))
}

impl Keys {
    /// The keys for building record bodies.
    pub fn body_keys(&self) -> BodyKeys {
        BodyKeys { log_key: self.log_key.clone(), records_key: self.records_key.clone() }
    }

    /// Loads the keys from `dir`, creating the directory (0700) and the keys on first use.
    pub fn open_or_create(dir: &Path) -> Result<Keys, AuditError> {
        if !dir.join(SIGNING_KEY_FILE).exists() {
            create_dir(dir)?;
            let signer = Signer::from_seed(random32()?);
            let pem = signer
                .key
                .to_pkcs8_pem(LineEnding::LF)
                .map_err(|e| AuditError::Keys(format!("cannot encode the key: {e}")))?;
            let origin = format!("mishen.audit/{}", signer.key_id());
            // Public files first: a crash leaves no signing key without them.
            write_public(dir, &signer.public())?;
            if !dir.join(ORIGIN_FILE).exists() {
                create_file(&dir.join(ORIGIN_FILE), format!("{origin}\n").as_bytes(), 0o644)?;
            }
            if !dir.join(LOG_KEY_FILE).exists() {
                create_file(&dir.join(LOG_KEY_FILE), hex::encode(random32()?).as_bytes(), 0o600)?;
            }
            create_file(&dir.join(SIGNING_KEY_FILE), pem.as_bytes(), 0o600)?;
        }
        // Made here also for a log that predates it, or whose key was destroyed
        // to purge the titles sealed under it.
        let rp = dir.join(RECORDS_KEY_FILE);
        if !rp.exists() {
            create_file(&rp, RecordsKey::random()?.to_hex().as_bytes(), 0o600)?;
        }
        Keys::open(dir)
    }

    /// Loads existing keys; never creates anything.
    pub fn open(dir: &Path) -> Result<Keys, AuditError> {
        let kp = dir.join(SIGNING_KEY_FILE);
        if !kp.exists() {
            return Err(AuditError::Keys(format!(
                "no signing key in {} (it is created by the first `mishen screen --data-dir {}`)",
                dir.display(),
                dir.display()
            )));
        }
        let signer = load_signer(&kp)?;
        let lp = dir.join(LOG_KEY_FILE);
        let lk = read_secret(&lp)?;
        let lk: [u8; 32] = hex::decode(lk.trim())
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| AuditError::Keys(format!("{}: not 32 bytes of hex", lp.display())))?;
        let op = dir.join(ORIGIN_FILE);
        let origin = std::fs::read_to_string(&op).map_err(|e| io(&op, e))?;
        let origin = origin.trim().to_owned();
        check_origin(&origin)?;
        let rp = dir.join(RECORDS_KEY_FILE);
        let records_key = if rp.exists() {
            Some(RecordsKey::from_hex(&read_secret(&rp)?).ok_or_else(|| AuditError::Keys(format!("{}: not 32 bytes of hex", rp.display())))?)
        } else {
            None
        };
        Ok(Keys { signer, log_key: LogKey(lk), records_key, origin })
    }

    /// Writes a fresh key to `audit.key.next` (0600) and returns it.
    pub fn stage_next(dir: &Path) -> Result<Signer, AuditError> {
        let p = dir.join(NEXT_KEY_FILE);
        if p.exists() {
            std::fs::remove_file(&p).map_err(|e| io(&p, e))?;
        }
        let signer = Signer::from_seed(random32()?);
        let pem = signer
            .key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| AuditError::Keys(format!("cannot encode the key: {e}")))?;
        create_file(&p, pem.as_bytes(), 0o600)?;
        Ok(signer)
    }

    /// The staged next key, if a rotation is in progress.
    pub fn staged(dir: &Path) -> Result<Option<Signer>, AuditError> {
        let p = dir.join(NEXT_KEY_FILE);
        if p.exists() { load_signer(&p).map(Some) } else { Ok(None) }
    }

    /// Makes the staged key the signing key (the old private key is overwritten).
    pub fn commit_next(dir: &Path) -> Result<(), AuditError> {
        let (from, to) = (dir.join(NEXT_KEY_FILE), dir.join(SIGNING_KEY_FILE));
        std::fs::rename(&from, &to).map_err(|e| io(&from, e))?;
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// Abandons a staged key whose rotation record was never written.
    pub fn discard_next(dir: &Path) -> Result<(), AuditError> {
        let p = dir.join(NEXT_KEY_FILE);
        std::fs::remove_file(&p).map_err(|e| io(&p, e))
    }
}

fn load_signer(p: &Path) -> Result<Signer, AuditError> {
    let key = SigningKey::from_pkcs8_pem(&read_secret(p)?)
        .map_err(|e| AuditError::Keys(format!("{}: not an Ed25519 PKCS#8 key: {e}", p.display())))?;
    let id = KeyId::of(&key.verifying_key());
    Ok(Signer { key, id })
}

/// An origin is one line of printable ASCII without spaces.
pub fn check_origin(o: &str) -> Result<(), AuditError> {
    if o.is_empty() || !o.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AuditError::Keys(format!("bad origin {o:?}: one word of printable ASCII expected")));
    }
    Ok(())
}

fn create_dir(dir: &Path) -> Result<(), AuditError> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir).map_err(|e| io(dir, e))
}

fn write_public(dir: &Path, key: &VerifyingKey) -> Result<(), AuditError> {
    let p = dir.join(PUBLIC_KEY_FILE);
    if p.exists() {
        std::fs::remove_file(&p).map_err(|e| io(&p, e))?;
    }
    create_file(&p, public_pem(key)?.as_bytes(), 0o644)
}

/// The public key as SubjectPublicKeyInfo PEM.
pub fn public_pem(key: &VerifyingKey) -> Result<String, AuditError> {
    key.to_public_key_pem(LineEnding::LF)
        .map_err(|e| AuditError::Keys(format!("cannot encode the public key: {e}")))
}

/// Parses a public key: PEM (SubjectPublicKeyInfo) or 64 hex digits.
pub fn parse_public(s: &str) -> Result<VerifyingKey, AuditError> {
    let t = s.trim();
    if t.starts_with("-----BEGIN") {
        return VerifyingKey::from_public_key_pem(t)
            .map_err(|e| AuditError::Keys(format!("not an Ed25519 public key PEM: {e}")));
    }
    let b: [u8; 32] = hex::decode(t)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| AuditError::Keys("public key: expected PEM or 64 hex digits".into()))?;
    VerifyingKey::from_bytes(&b).map_err(|e| AuditError::Keys(format!("bad public key: {e}")))
}

/// Reads `dir/audit.pub`.
pub fn read_public(dir: &Path) -> Result<VerifyingKey, AuditError> {
    let p = dir.join(PUBLIC_KEY_FILE);
    parse_public(&std::fs::read_to_string(&p).map_err(|e| io(&p, e))?)
}
