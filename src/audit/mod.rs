//! The audit log: one signed, hash-chained record per screening and per reviewer
//! decision (保密审查制度 第十条: title and 文号, basis, conclusion, reviewer,
//! date, kept safely), verifiable offline by anyone holding the public key.
//!
//! # Format `mishen-audit/1` (this is the specification)
//!
//! A record is a JSON object serialized as **RFC 8785 canonical JSON** (keys
//! sorted by UTF-16 code units, no whitespace, shortest numbers). It holds no
//! floating-point numbers (confidences are integer per-mille) and no document
//! text: hashes, ids, character spans, HMACs and masked titles only.
//!
//! ```text
//! {"actor":"cli:alice",                        who asked
//!  "format":"mishen-audit/1",                  version header; anything else is rejected
//!  "id":"0190…",                               UUIDv7; its timestamp equals "time"
//!  "key_id":"3fa1…",                           first 8 bytes of SHA-256(public key), hex
//!  "origin":"mishen.audit/3fa1…",              the log's name; first line of its checkpoints
//!  "prev":"…64 hex…",                          record hash of seq-1; 64 zeros for seq 0
//!  "review":{…}          (type review only)
//!  "rotation":{…}        (type key_rotation only)
//!  "rules":{…}           (type rules_reload only)
//!  "screening":{…}       (type screening only)
//!  "seq":0,                                    0-based position
//!  "sig":"base64",                             Ed25519, see below
//!  "time":"2026-11-05T08:00:00.000Z",          RFC 3339 UTC, milliseconds
//!  "type":"screening"|"review"|"key_rotation"|"rules_reload"}
//!
//! screening = {"categories":["state_secret",…],      categories checked (absent in old records: all)
//!              "document":{"title"?,"title_sealed"?,"doc_number"?,"copy_number"?,
//!                          "marking"?:{"level","period"},"keywords"?,
//!                          "content_sha256","bytes","chars"},
//!              "partial"?:true,                           fewer categories than all were checked
//!              "verdict":"publish|redact|withhold",
//!              "reasons":[{"category","action","basis","summary"}],
//!              "response_truncated"?:true,                the gRPC response left out the redacted
//!                                                         text (over the message limit); findings complete
//!              "findings":[{"rule","kind","action","start","end",
//!                           "confidence_permille","value_hmac"}],
//!              "rules_sha256","engine"}
//! review    = {"ref_id","ref_seq","ref_hash","decision":"confirm|dismiss|override",
//!              "verdict","reviewer","role","comment"?,
//!              "added"?:[{"kind","start","end"}]}
//! rotation  = {"new_key_id","new_public_key":"…64 hex…"}
//! rules     = {"previous_rules_sha256","rules_sha256","rules"}   (the service
//!             put new packs in force; later screenings cite the new hash)
//! ```
//!
//! - **Key rotation**: a `key_rotation` record is signed by the current key and
//!   names the next; every later record and checkpoint is signed by the new key.
//!   A verifier starts from the log's first key (`audit.pub`, pinned with
//!   `--public-key`) and follows the rotations; the old private key is deleted.
//!
//! - `document` holds no document content ([`meta`]): the title and keywords are
//!   screened on their own and masked; a withheld document has neither, its
//!   title is `title_sealed` under the records key ([`seal`]); `doc_number` is
//!   the header's own 文号, `copy_number` the 份号, `marking` the 密级 and 期限.
//! - `value_hmac` = HMAC-SHA256(log key, `"mishen-finding-v1\0"` || kind || 0x00 ||
//!   value). The log key is a random 32-byte secret in the data directory: a plain
//!   hash of an 18-digit ID could be brute-forced, the HMAC cannot without the key,
//!   yet equal values within one log still match.
//! - **Signature**: Ed25519 over `"mishen-audit-v1\0"` || canonical bytes of the
//!   record without `sig` (with `key_id`), verified strictly.
//! - **Record hash**: SHA-256(0x00 || canonical bytes with `sig`). It is the next
//!   record's `prev` and the record's RFC 9162 Merkle leaf ([`merkle`]).
//! - **Checkpoints**: C2SP tlog-checkpoint notes (origin, size, base64 root)
//!   signed as C2SP signed notes with the same key, written every
//!   [`CHECKPOINT_EVERY`] records and when the log is closed.
//! - **Export**: JSON Lines, one record's canonical bytes per line, each line
//!   ending in `\n`. Parsing is strict: a record is accepted only if its bytes are
//!   exactly its own canonical form.
//!
//! Files in the data directory: [`keys`] (`audit.key`, `audit.pub`, `log.key`,
//! `origin`), [`store::DB_FILE`] and `checkpoint` (the latest signed checkpoint).

mod canonical;
pub mod keys;
pub mod merkle;
pub mod record;
pub mod meta;
pub mod review;
pub mod seal;
pub mod store;
pub mod verify;
pub mod writer;

use keys::Keys;
use merkle::{Checkpoint, Frontier, Hash};
use record::{Body, Header, Record, record_hash};
use std::path::{Path, PathBuf};
use store::{Entry, SqliteStore, Store};

/// A checkpoint is written after every this many records.
pub const CHECKPOINT_EVERY: u64 = 256;
/// The latest checkpoint's file in the data directory.
pub const CHECKPOINT_FILE: &str = "checkpoint";

/// Errors of the audit log.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// File system.
    #[error("{0}")]
    Io(String),
    /// Key files.
    #[error("keys: {0}")]
    Keys(String),
    /// The database.
    #[error("audit store: {0}")]
    Store(String),
    /// Serialization.
    #[error("cannot encode a record: {0}")]
    Encode(String),
    /// A checkpoint note.
    #[error("{0}")]
    Checkpoint(String),
    /// A reference to a record that is not there.
    #[error("{0}")]
    NotFound(String),
    /// A request the log refuses (a review that contradicts its record, bad fields).
    #[error("{0}")]
    Invalid(String),
}

/// Where an appended record landed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// Record id.
    pub id: String,
    /// Sequence number.
    pub seq: u64,
    /// Record hash.
    pub hash: Hash,
    /// The record's canonical bytes, as stored.
    pub canonical: Vec<u8>,
    /// Its signature (base64) and signing key id, as in the record.
    pub signature: String,
    /// Key id of the signing key.
    pub key_id: String,
}

/// Supplies (id, unix milliseconds) for each new record; tests inject fixed values.
pub type Clock = Box<dyn FnMut() -> (uuid::Uuid, u64) + Send>;

/// The single writer of one log.
pub struct AuditLog<S: Store> {
    store: S,
    keys: Keys,
    actor: String,
    clock: Clock,
    checkpoint_file: Option<PathBuf>,
    checkpoint_every: u64,
    /// Compact range of the first `frontier.size()` records in the store: kept
    /// current by `append`, caught up from the stored hashes by `sync` (on open,
    /// and if another process appended in between).
    frontier: Frontier,
    /// Size of the latest checkpoint this log wrote (0: none yet).
    checkpoint_size: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<S: Store> std::fmt::Debug for AuditLog<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuditLog({})", self.keys.origin)
    }
}

fn system_clock() -> Clock {
    Box::new(|| {
        let ms = record::now_ms();
        (Header::new_id(ms), ms)
    })
}

impl AuditLog<SqliteStore> {
    /// Opens (creating on first use) the log in `dir`.
    pub fn open(dir: &Path, actor: &str) -> Result<Self, AuditError> {
        let mut keys = Keys::open_or_create(dir)?;
        let store = SqliteStore::open(dir, true)?;
        // A rotation interrupted by a crash: finish it if its record is durable,
        // abandon it otherwise.
        if let Some(next) = Keys::staged(dir)? {
            let want = next.key_id().to_string();
            let mut recorded = false;
            store.scan(&mut |b| {
                if let Ok(r) = Record::parse(b)
                    && r.rotation.is_some_and(|k| k.new_key_id == want)
                {
                    recorded = true;
                }
                Ok(())
            })?;
            if recorded {
                Keys::commit_next(dir)?;
                keys.signer = next;
            } else {
                Keys::discard_next(dir)?;
            }
        }
        let mut log = AuditLog::new(store, keys, actor);
        log.checkpoint_file = Some(dir.join(CHECKPOINT_FILE));
        let n = log.store.len()?;
        log.sync(n)?;
        if let Some((size, _)) = log.store.checkpoints()?.last() {
            log.checkpoint_size.store(*size, std::sync::atomic::Ordering::Release);
        }
        Ok(log)
    }

    /// Rotates the signing key: stages a new key, appends a `key_rotation`
    /// record signed by the current key, then installs the new key.
    pub fn rotate(&mut self, dir: &Path) -> Result<Appended, AuditError> {
        let next = Keys::stage_next(dir)?;
        let a = self.rotate_to(next)?;
        Keys::commit_next(dir)?;
        Ok(a)
    }
}

impl<S: Store> AuditLog<S> {
    /// A log over `store` signed with `keys`.
    pub fn new(store: S, keys: Keys, actor: &str) -> Self {
        AuditLog {
            store,
            keys,
            actor: actor.to_owned(),
            clock: system_clock(),
            checkpoint_file: None,
            checkpoint_every: CHECKPOINT_EVERY,
            frontier: Frontier::new(),
            checkpoint_size: Default::default(),
        }
    }

    /// Replaces the clock (known-answer tests).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Sets the checkpoint interval (at least 1).
    pub fn with_checkpoint_every(mut self, n: u64) -> Self {
        self.checkpoint_every = n.max(1);
        self
    }

    /// The size of the latest checkpoint written through this log, shared: it
    /// stays current after the log moves into a [`writer::Writer`].
    pub fn checkpoint_size(&self) -> std::sync::Arc<std::sync::atomic::AtomicU64> {
        self.checkpoint_size.clone()
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The keys.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// The Merkle frontier (compact range) this log holds in memory; it covers
    /// the first `frontier().size()` records of the store.
    pub fn frontier(&self) -> &Frontier {
        &self.frontier
    }

    /// Brings the frontier up to the first `n` records, reading only the stored
    /// hashes it has not seen (all of them once, when the log is opened).
    fn sync(&mut self, n: u64) -> Result<(), AuditError> {
        let from = self.frontier.size();
        if from >= n {
            return Ok(());
        }
        let hs = self.store.hashes_range(from, n)?;
        if hs.len() as u64 != n - from {
            return Err(AuditError::Store(format!(
                "expected {} record hashes from seq {from}, found {}",
                n - from,
                hs.len()
            )));
        }
        self.frontier.extend(&hs);
        Ok(())
    }

    /// Appends records in one transaction (group commit). When this returns
    /// `Ok`, every record is durable.
    pub fn append(&mut self, bodies: Vec<Body>) -> Result<Vec<Appended>, AuditError> {
        self.append_as(bodies.into_iter().map(|b| (None, b)).collect())
    }

    /// [`AuditLog::append`] with an actor per record (`None`: the log's actor).
    pub fn append_as(&mut self, items: Vec<(Option<String>, Body)>) -> Result<Vec<Appended>, AuditError> {
        let (done, checkpoint_due) = self.append_records(items)?;
        if checkpoint_due {
            self.checkpoint()?;
        }
        Ok(done)
    }

    /// Appends records in one transaction (group commit), without the periodic
    /// checkpoint: the second value says whether one is due now (the records
    /// crossed a multiple of the checkpoint interval). The group-commit writer
    /// answers its callers first and checkpoints after, so that no caller waits
    /// for a second commit that is not its own.
    pub fn append_records(&mut self, items: Vec<(Option<String>, Body)>) -> Result<(Vec<Appended>, bool), AuditError> {
        if items.is_empty() {
            return Ok((Vec::new(), false));
        }
        let keys = &self.keys;
        let actor = &self.actor;
        let clock = &mut self.clock;
        let mut sigs: Vec<String> = Vec::with_capacity(items.len());
        let key_id = keys.signer.key_id().to_string();
        let n = items.len();
        // The store runs `build` once: the bodies move into their records.
        let mut items = Some(items);
        let es = self.store.append_with(&mut |next, prev| {
            let items = items.take().ok_or_else(|| AuditError::Store("a store ran the record builder twice".into()))?;
            sigs.clear();
            let mut prev = prev.unwrap_or([0; 32]);
            let mut out = Vec::with_capacity(n);
            for (i, (who, b)) in items.into_iter().enumerate() {
                let (id, unix_ms) = clock();
                let h = Header {
                    id,
                    seq: next + i as u64,
                    unix_ms,
                    origin: keys.origin.clone(),
                    actor: who.unwrap_or_else(|| actor.clone()),
                    prev,
                };
                let (r, bytes) = Record::sign_canonical(&h, b, &keys.signer)?;
                prev = record_hash(&bytes);
                sigs.push(r.sig.unwrap_or_default());
                out.push(Entry { seq: h.seq, id: r.id, hash: prev, bytes });
            }
            Ok(out)
        })?;
        let before = es[0].seq;
        let after = before + es.len() as u64;
        // If another writer appended since our frontier was current, leave it
        // behind; `checkpoint` catches it up from the store.
        if self.frontier.size() == before {
            for e in &es {
                self.frontier.push(e.hash);
            }
        }
        let checkpoint_due = after / self.checkpoint_every > before / self.checkpoint_every;
        let done = es
            .into_iter()
            .zip(sigs)
            .map(|(e, signature)| Appended { id: e.id, seq: e.seq, hash: e.hash, canonical: e.bytes, signature, key_id: key_id.clone() })
            .collect();
        Ok((done, checkpoint_due))
    }

    /// Appends a reviewer's decision about screening record `ref_id`.
    pub fn review(&mut self, ref_id: &str, mut body: record::ReviewBody) -> Result<Appended, AuditError> {
        let e = self
            .store
            .get_id(ref_id)?
            .ok_or_else(|| AuditError::NotFound(format!("no record with id {ref_id:?}")))?;
        let r = Record::parse(&e.bytes).map_err(|why| AuditError::NotFound(format!("record {ref_id}: {why}")))?;
        if r.kind != record::RecordKind::Screening {
            return Err(AuditError::NotFound(format!("record {ref_id} is a {:?} record, not a screening", r.kind)));
        }
        body.ref_id = e.id;
        body.ref_seq = e.seq;
        body.ref_hash = hex::encode(record_hash(&e.bytes));
        let mut a = self.append(vec![Body::Review(body)])?;
        a.pop().ok_or_else(|| AuditError::Store("nothing appended".into()))
    }

    /// Appends a `key_rotation` record signed by the current key naming `next`,
    /// then signs everything after it with `next`.
    pub fn rotate_to(&mut self, next: keys::Signer) -> Result<Appended, AuditError> {
        self.rotate_to_as(next, None)
    }

    /// [`AuditLog::rotate_to`] recording `actor` (`None`: the log's actor).
    pub fn rotate_to_as(&mut self, next: keys::Signer, actor: Option<String>) -> Result<Appended, AuditError> {
        let body = record::RotationBody {
            new_key_id: next.key_id().to_string(),
            new_public_key: hex::encode(next.public().as_bytes()),
        };
        let mut a = self.append_as(vec![(actor, Body::KeyRotation(body))])?;
        self.keys.signer = next;
        a.pop().ok_or_else(|| AuditError::Store("nothing appended".into()))
    }

    /// Signs and stores a checkpoint for the current size (if it has none yet);
    /// returns the note.
    pub fn checkpoint(&mut self) -> Result<String, AuditError> {
        let n = self.store.len()?;
        self.sync(n)?;
        // `sync` leaves the frontier at exactly `n` unless the store reported
        // fewer records than we have seen (it never shrinks); recompute then.
        let root = if self.frontier.size() == n {
            self.frontier.root()
        } else {
            merkle::root(&self.store.hashes(n)?)
        };
        let cp = Checkpoint { origin: self.keys.origin.clone(), size: n, root };
        let note = cp.sign(&self.keys.signer);
        self.store.put_checkpoint(n, &note)?;
        self.checkpoint_size.store(n, std::sync::atomic::Ordering::Release);
        if let Some(p) = &self.checkpoint_file {
            let tmp = p.with_extension("tmp");
            std::fs::write(&tmp, &note)
                .and_then(|_| std::fs::rename(&tmp, p))
                .map_err(|e| AuditError::Io(format!("{}: {e}", p.display())))?;
        }
        Ok(note)
    }

    /// Writes the closing checkpoint.
    pub fn close(mut self) -> Result<String, AuditError> {
        self.checkpoint()
    }
}

/// Verifies every record and checkpoint in `store` with `key`.
pub fn verify_store<'a>(
    store: &dyn Store,
    key: ed25519_dalek::VerifyingKey,
    extra_notes: impl IntoIterator<Item = &'a str>,
) -> Result<Result<verify::Summary, verify::Failure>, AuditError> {
    let mut v = verify::Verifier::new(key, None);
    let mut failure = None;
    let r = store.scan(&mut |b| {
        if let Err(f) = v.push(b) {
            failure = Some(f);
            return Err(AuditError::Store("stop".into()));
        }
        Ok(())
    });
    if let Some(f) = failure {
        return Ok(Err(f));
    }
    r?;
    let stored = store.checkpoints()?;
    let mut notes: Vec<String> = stored.into_iter().map(|(_, n)| n).collect();
    notes.extend(extra_notes.into_iter().map(str::to_owned));
    Ok(v.finish(notes.iter().map(String::as_str)))
}
