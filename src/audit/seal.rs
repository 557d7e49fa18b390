//! Sealed titles: the title of a withheld document, kept so that a records
//! office holding the records key can find the paper, and purged for everyone
//! by destroying that key.
//!
//! The records key (`records.key`, 32 random bytes, hex, mode 0600) is kept
//! apart from the signing key (`audit.key`) and the fingerprint key
//! (`log.key`): a verifier needs neither it nor them, and deleting it makes
//! every title sealed under it unreadable without touching a signature. A new
//! key (with a new id) is made the next time the log is opened for writing.
//!
//! ```text
//! title_sealed = {"alg":"xchacha20poly1305",
//!                 "key_id":  first 8 bytes of SHA-256("mishen-records-key-id\0" || key), hex,
//!                 "nonce":   24 random bytes, base64,
//!                 "ciphertext": XChaCha20-Poly1305(key, nonce, title,
//!                               aad = "mishen-title-v1\0" || content_sha256), base64,
//!                 "hmac":    HMAC-SHA256(key, "mishen-title-v1\0" || title), hex}
//! ```
//!
//! All of it is in the signed bytes: the record verifies without the key, the
//! AEAD binds the ciphertext to the document's hash, and the HMAC lets whoever
//! holds the key check that an unsealed title is the one that was signed,
//! while nobody without it can test a guessed title against the record.

use super::AuditError;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::Mac;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// The file of the records key in the data directory.
pub const RECORDS_KEY_FILE: &str = "records.key";
/// The AEAD of sealed titles.
pub const ALG: &str = "xchacha20poly1305";
/// Domain of the title's AAD and HMAC.
pub const TITLE_DOMAIN: &[u8] = b"mishen-title-v1\0";
const KEY_ID_DOMAIN: &[u8] = b"mishen-records-key-id\0";

/// The key that seals titles.
#[derive(Clone)]
pub struct RecordsKey([u8; 32]);

impl fmt::Debug for RecordsKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecordsKey({})", self.key_id())
    }
}

/// A title sealed under a [`RecordsKey`] (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealedTitle {
    /// [`ALG`].
    pub alg: String,
    /// Id of the records key.
    pub key_id: String,
    /// Nonce, base64.
    pub nonce: String,
    /// Ciphertext with its tag, base64.
    pub ciphertext: String,
    /// HMAC of the title, hex.
    pub hmac: String,
}

impl RecordsKey {
    /// A key from bytes (tests).
    pub fn from_bytes(b: [u8; 32]) -> RecordsKey {
        RecordsKey(b)
    }

    /// A fresh random key.
    pub fn random() -> Result<RecordsKey, AuditError> {
        let mut b = [0u8; 32];
        getrandom::fill(&mut b).map_err(|e| AuditError::Keys(format!("no randomness from the OS: {e}")))?;
        Ok(RecordsKey(b))
    }

    /// The hex of the key (its file's content).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses the hex of a key file.
    pub fn from_hex(s: &str) -> Option<RecordsKey> {
        hex::decode(s.trim()).ok().and_then(|v| v.try_into().ok()).map(RecordsKey)
    }

    /// Its public id (reveals nothing of the key).
    pub fn key_id(&self) -> String {
        let mut h = Sha256::new();
        h.update(KEY_ID_DOMAIN);
        h.update(self.0);
        hex::encode(&h.finalize()[..8])
    }

    fn title_hmac(&self, title: &str) -> String {
        let mut m = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(&self.0).expect("HMAC accepts keys of any length");
        m.update(TITLE_DOMAIN);
        m.update(title.as_bytes());
        hex::encode(m.finalize().into_bytes())
    }

    fn aad(content_sha256: &str) -> Vec<u8> {
        let mut aad = TITLE_DOMAIN.to_vec();
        aad.extend_from_slice(content_sha256.as_bytes());
        aad
    }

    /// Seals `title` of the document whose bytes hash to `content_sha256`.
    pub fn seal(&self, title: &str, content_sha256: &str) -> Result<SealedTitle, AuditError> {
        let mut n = [0u8; 24];
        getrandom::fill(&mut n).map_err(|e| AuditError::Keys(format!("no randomness from the OS: {e}")))?;
        let cipher = XChaCha20Poly1305::new_from_slice(&self.0).expect("32-byte key");
        let ct = cipher
            .encrypt(&XNonce::from(n), Payload { msg: title.as_bytes(), aad: &Self::aad(content_sha256) })
            .map_err(|_| AuditError::Encode("cannot seal the title".into()))?;
        Ok(SealedTitle {
            alg: ALG.into(),
            key_id: self.key_id(),
            nonce: super::record::b64(&n),
            ciphertext: super::record::b64(&ct),
            hmac: self.title_hmac(title),
        })
    }

    /// Opens a sealed title: the key must be the one it was sealed under, the
    /// ciphertext must authenticate, and the title must match its signed HMAC.
    pub fn unseal(&self, s: &SealedTitle, content_sha256: &str) -> Result<String, AuditError> {
        if s.alg != ALG {
            return Err(AuditError::Invalid(format!("sealed with an unknown algorithm {}", crate::span::bounded(&s.alg, 40))));
        }
        if s.key_id != self.key_id() {
            return Err(AuditError::Keys(format!(
                "the title was sealed under records key {}, this is records key {} (a destroyed key purges its titles)",
                crate::span::bounded(&s.key_id, 40),
                self.key_id()
            )));
        }
        let bad = || AuditError::Invalid("the sealed title does not authenticate".into());
        let n: [u8; 24] = super::record::unb64(&s.nonce).and_then(|v| v.try_into().ok()).ok_or_else(bad)?;
        let ct = super::record::unb64(&s.ciphertext).ok_or_else(bad)?;
        let cipher = XChaCha20Poly1305::new_from_slice(&self.0).expect("32-byte key");
        let pt = cipher.decrypt(&XNonce::from(n), Payload { msg: &ct, aad: &Self::aad(content_sha256) }).map_err(|_| bad())?;
        let t = String::from_utf8(pt).map_err(|_| bad())?;
        if self.title_hmac(&t) != s.hmac {
            return Err(bad());
        }
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_round_trips_and_binds_key_document_and_hmac() {
        let k = RecordsKey::from_bytes([3; 32]);
        let s = k.seal("关于调整边境防务部署的通知", "ab").unwrap();
        assert!(!s.ciphertext.contains("边境"));
        assert_eq!(k.unseal(&s, "ab").unwrap(), "关于调整边境防务部署的通知");
        assert!(k.unseal(&s, "cd").is_err(), "bound to the document hash");
        let other = RecordsKey::from_bytes([4; 32]);
        assert!(other.unseal(&s, "ab").is_err(), "another key cannot open it");
        let mut forged = s.clone();
        forged.hmac = k.title_hmac("另一个标题");
        assert!(k.unseal(&forged, "ab").is_err(), "the signed HMAC must match");
        let again = k.seal("关于调整边境防务部署的通知", "ab").unwrap();
        assert_ne!(again.nonce, s.nonce, "a fresh nonce each time");
        assert_eq!(again.hmac, s.hmac);
        assert_ne!(k.key_id(), other.key_id());
    }
}
