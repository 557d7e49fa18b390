//! Where records live: a small [`Store`] trait, [`SqliteStore`] (the default,
//! embedded) and [`MemStore`] (tests).
//!
//! A store keeps the canonical bytes of every record exactly as signed (a BLOB,
//! never a JSON column that could re-encode them), indexed by sequence number and
//! id, plus the signed checkpoints. It only ever appends: [`SqliteStore`] installs
//! triggers that abort any UPDATE or DELETE. The hash column is a cache for
//! checkpoints; verification recomputes every hash from the bytes.
//!
//! Appending runs a caller's closure inside one write transaction (SQLite
//! `BEGIN IMMEDIATE`), so the head it reads — next sequence number and previous
//! hash — cannot change before the commit, even with several processes appending
//! to the same directory. Every record the closure returns is committed together
//! (group commit) and is durable when `append_with` returns (`synchronous=FULL`).

use super::AuditError;
use super::merkle::Hash;
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use std::path::Path;

/// One stored record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Sequence number.
    pub seq: u64,
    /// Record id.
    pub id: String,
    /// Record hash.
    pub hash: Hash,
    /// Canonical bytes.
    pub bytes: Vec<u8>,
}

/// Builds records given the next sequence number and the previous record hash.
pub type Build<'a> = dyn FnMut(u64, Option<Hash>) -> Result<Vec<Entry>, AuditError> + 'a;

/// An append-only record store.
pub trait Store {
    /// Runs `build` with the head inside one write transaction and appends what it
    /// returns atomically and durably.
    fn append_with(&mut self, build: &mut Build<'_>) -> Result<Vec<Entry>, AuditError>;
    /// Number of records.
    fn len(&self) -> Result<u64, AuditError>;
    /// Whether the store is empty.
    fn is_empty(&self) -> Result<bool, AuditError> {
        Ok(self.len()? == 0)
    }
    /// The record at `seq`.
    fn get_seq(&self, seq: u64) -> Result<Option<Entry>, AuditError>;
    /// The record with `id`.
    fn get_id(&self, id: &str) -> Result<Option<Entry>, AuditError>;
    /// Calls `f` with the bytes of every record in sequence order.
    fn scan(&self, f: &mut dyn FnMut(&[u8]) -> Result<(), AuditError>) -> Result<(), AuditError>;
    /// The stored hashes of the first `n` records.
    fn hashes(&self, n: u64) -> Result<Vec<Hash>, AuditError>;
    /// The stored hashes of records `from..to` (fewer if the log is shorter).
    fn hashes_range(&self, from: u64, to: u64) -> Result<Vec<Hash>, AuditError> {
        let mut v = self.hashes(to)?;
        Ok(v.split_off((from as usize).min(v.len())))
    }
    /// Stores a signed checkpoint note for `size` records (kept if one exists).
    fn put_checkpoint(&mut self, size: u64, note: &str) -> Result<(), AuditError>;
    /// All checkpoints, by size.
    fn checkpoints(&self) -> Result<Vec<(u64, String)>, AuditError>;
    /// The checkpoint note for exactly `size` records, if one was written.
    fn checkpoint_at(&self, size: u64) -> Result<Option<String>, AuditError> {
        Ok(self.checkpoints()?.into_iter().find(|(n, _)| *n == size).map(|(_, note)| note))
    }
    /// The largest checkpoint.
    fn latest_checkpoint(&self) -> Result<Option<(u64, String)>, AuditError> {
        Ok(self.checkpoints()?.pop())
    }
}

/// In-memory store for tests.
#[derive(Debug, Default, Clone)]
pub struct MemStore {
    /// Records, in order.
    pub records: Vec<Entry>,
    /// Checkpoints.
    pub notes: Vec<(u64, String)>,
}

impl Store for MemStore {
    fn append_with(&mut self, build: &mut Build<'_>) -> Result<Vec<Entry>, AuditError> {
        let next = self.records.len() as u64;
        let es = build(next, self.records.last().map(|e| e.hash))?;
        for (i, e) in es.iter().enumerate() {
            if e.seq != next + i as u64 || self.records.iter().any(|r| r.id == e.id) {
                return Err(AuditError::Store(format!("record {} does not extend the log", e.seq)));
            }
        }
        self.records.extend(es.iter().cloned());
        Ok(es)
    }
    fn len(&self) -> Result<u64, AuditError> {
        Ok(self.records.len() as u64)
    }
    fn get_seq(&self, seq: u64) -> Result<Option<Entry>, AuditError> {
        Ok(usize::try_from(seq).ok().and_then(|i| self.records.get(i)).cloned())
    }
    fn get_id(&self, id: &str) -> Result<Option<Entry>, AuditError> {
        Ok(self.records.iter().find(|e| e.id == id).cloned())
    }
    fn scan(&self, f: &mut dyn FnMut(&[u8]) -> Result<(), AuditError>) -> Result<(), AuditError> {
        self.records.iter().try_for_each(|e| f(&e.bytes))
    }
    fn hashes(&self, n: u64) -> Result<Vec<Hash>, AuditError> {
        Ok(self.records.iter().take(n as usize).map(|e| e.hash).collect())
    }
    fn hashes_range(&self, from: u64, to: u64) -> Result<Vec<Hash>, AuditError> {
        Ok(self.records.iter().take(to as usize).skip(from as usize).map(|e| e.hash).collect())
    }
    fn put_checkpoint(&mut self, size: u64, note: &str) -> Result<(), AuditError> {
        if !self.notes.iter().any(|(s, _)| *s == size) {
            self.notes.push((size, note.to_owned()));
        }
        Ok(())
    }
    fn checkpoints(&self) -> Result<Vec<(u64, String)>, AuditError> {
        Ok(self.notes.clone())
    }
}

/// The database file inside a data directory.
pub const DB_FILE: &str = "audit.sqlite";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS records (
    seq  INTEGER PRIMARY KEY,
    id   TEXT NOT NULL UNIQUE,
    hash BLOB NOT NULL,
    body BLOB NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS checkpoints (
    size INTEGER PRIMARY KEY,
    note TEXT NOT NULL
) STRICT;
CREATE TRIGGER IF NOT EXISTS records_no_update BEFORE UPDATE ON records
    BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE TRIGGER IF NOT EXISTS records_no_delete BEFORE DELETE ON records
    BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE TRIGGER IF NOT EXISTS checkpoints_no_update BEFORE UPDATE ON checkpoints
    BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
CREATE TRIGGER IF NOT EXISTS checkpoints_no_delete BEFORE DELETE ON checkpoints
    BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
";

/// SQLite in WAL mode with `synchronous=FULL`.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
}

fn db(e: rusqlite::Error) -> AuditError {
    AuditError::Store(e.to_string())
}

fn hash_of(v: Vec<u8>) -> Result<Hash, AuditError> {
    v.try_into().map_err(|_| AuditError::Store("stored hash is not 32 bytes".into()))
}

impl SqliteStore {
    /// Opens `dir/audit.sqlite`, creating it (and its schema) if `create`.
    pub fn open(dir: &Path, create: bool) -> Result<SqliteStore, AuditError> {
        let path = dir.join(DB_FILE);
        if !create && !path.exists() {
            return Err(AuditError::Store(format!("no audit log at {}", path.display())));
        }
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if create {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let conn = Connection::open_with_flags(&path, flags)
            .map_err(|e| AuditError::Store(format!("{}: {e}", path.display())))?;
        conn.busy_timeout(std::time::Duration::from_secs(30)).map_err(db)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(db)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(AuditError::Store(format!("cannot enable WAL (journal mode is {mode})")));
        }
        conn.execute_batch("PRAGMA synchronous=FULL;").map_err(db)?;
        conn.execute_batch(SCHEMA).map_err(db)?;
        Ok(SqliteStore { conn })
    }

    /// The connection (tests use it to try forbidden statements).
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    fn entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, String, Vec<u8>, Vec<u8>)> {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    }

    fn to_entry(t: (i64, String, Vec<u8>, Vec<u8>)) -> Result<Entry, AuditError> {
        Ok(Entry { seq: t.0 as u64, id: t.1, hash: hash_of(t.2)?, bytes: t.3 })
    }
}

impl Store for SqliteStore {
    fn append_with(&mut self, build: &mut Build<'_>) -> Result<Vec<Entry>, AuditError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let head: Option<(i64, Vec<u8>)> = tx
            .query_row("SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
            .map_err(db)?;
        let (next, prev) = match head {
            Some((s, h)) => (s as u64 + 1, Some(hash_of(h)?)),
            None => (0, None),
        };
        let es = build(next, prev)?;
        {
            let mut ins = tx
                .prepare_cached("INSERT INTO records (seq, id, hash, body) VALUES (?1, ?2, ?3, ?4)")
                .map_err(db)?;
            for (i, e) in es.iter().enumerate() {
                if e.seq != next + i as u64 {
                    return Err(AuditError::Store(format!("record {} does not extend the log", e.seq)));
                }
                ins.execute(params![e.seq as i64, e.id, &e.hash[..], e.bytes]).map_err(db)?;
            }
        }
        tx.commit().map_err(db)?;
        Ok(es)
    }

    fn len(&self) -> Result<u64, AuditError> {
        // Sequence numbers are contiguous from 0 (`append_with` only ever adds
        // `next = max + 1`), so the count is `MAX(seq) + 1`: a B-tree lookup,
        // where COUNT(*) would walk the whole table on every checkpoint.
        let n: i64 = self
            .conn
            .query_row("SELECT COALESCE(MAX(seq) + 1, 0) FROM records", [], |r| r.get(0))
            .map_err(db)?;
        Ok(n as u64)
    }

    fn get_seq(&self, seq: u64) -> Result<Option<Entry>, AuditError> {
        let seq = i64::try_from(seq).map_err(|_| AuditError::Store("sequence number too large".into()))?;
        self.conn
            .query_row("SELECT seq, id, hash, body FROM records WHERE seq = ?1", [seq], Self::entry)
            .optional()
            .map_err(db)?
            .map(Self::to_entry)
            .transpose()
    }

    fn get_id(&self, id: &str) -> Result<Option<Entry>, AuditError> {
        self.conn
            .query_row("SELECT seq, id, hash, body FROM records WHERE id = ?1", [id], Self::entry)
            .optional()
            .map_err(db)?
            .map(Self::to_entry)
            .transpose()
    }

    fn scan(&self, f: &mut dyn FnMut(&[u8]) -> Result<(), AuditError>) -> Result<(), AuditError> {
        let mut st = self.conn.prepare("SELECT body FROM records ORDER BY seq").map_err(db)?;
        let mut rows = st.query([]).map_err(db)?;
        while let Some(r) = rows.next().map_err(db)? {
            let b = r.get_ref(0).map_err(db)?;
            let bytes = b.as_blob().map_err(|e| AuditError::Store(e.to_string()))?;
            f(bytes)?;
        }
        Ok(())
    }

    fn hashes(&self, n: u64) -> Result<Vec<Hash>, AuditError> {
        let mut st = self
            .conn
            .prepare("SELECT hash FROM records ORDER BY seq LIMIT ?1")
            .map_err(db)?;
        let rows = st
            .query_map([n.min(i64::MAX as u64) as i64], |r| r.get::<_, Vec<u8>>(0))
            .map_err(db)?;
        rows.map(|r| hash_of(r.map_err(db)?)).collect()
    }

    fn hashes_range(&self, from: u64, to: u64) -> Result<Vec<Hash>, AuditError> {
        let lim = |x: u64| x.min(i64::MAX as u64) as i64;
        let mut st = self
            .conn
            .prepare_cached("SELECT hash FROM records WHERE seq >= ?1 AND seq < ?2 ORDER BY seq")
            .map_err(db)?;
        let rows = st
            .query_map([lim(from), lim(to)], |r| r.get::<_, Vec<u8>>(0))
            .map_err(db)?;
        rows.map(|r| hash_of(r.map_err(db)?)).collect()
    }

    fn put_checkpoint(&mut self, size: u64, note: &str) -> Result<(), AuditError> {
        self.conn
            .execute("INSERT OR IGNORE INTO checkpoints (size, note) VALUES (?1, ?2)", params![size as i64, note])
            .map_err(db)?;
        Ok(())
    }

    fn checkpoint_at(&self, size: u64) -> Result<Option<String>, AuditError> {
        self.conn
            .prepare_cached("SELECT note FROM checkpoints WHERE size = ?1")
            .map_err(db)?
            .query_row([size.min(i64::MAX as u64) as i64], |r| r.get(0))
            .optional()
            .map_err(db)
    }

    fn latest_checkpoint(&self) -> Result<Option<(u64, String)>, AuditError> {
        self.conn
            .prepare_cached("SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1")
            .map_err(db)?
            .query_row([], |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)))
            .optional()
            .map_err(db)
    }

    fn checkpoints(&self) -> Result<Vec<(u64, String)>, AuditError> {
        let mut st = self.conn.prepare("SELECT size, note FROM checkpoints ORDER BY size").map_err(db)?;
        let rows = st
            .query_map([], |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?)))
            .map_err(db)?;
        rows.map(|r| r.map_err(db)).collect()
    }
}
