//! `mishen audit verify|export|show|list|prove|checkpoint`: read the signed audit log.
//!
//! `verify` exits 0 when every record and checkpoint verifies, 1 when one does not
//! (printing the first bad sequence number and why), 2 on usage or I/O errors.

use anyhow::{Context, bail};
use clap::{Subcommand, ValueEnum};
use std::collections::HashMap;
use mishen::audit::keys::{parse_public, read_public};
use mishen::audit::merkle::{self, Checkpoint};
use mishen::audit::record::{Record, record_hash};
use mishen::audit::store::{DB_FILE, SqliteStore, Store};
use mishen::audit::verify::{Failure, Verifier, verify_jsonl};
use mishen::audit::{AuditError, AuditLog, CHECKPOINT_FILE};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ExportFormat {
    Jsonl,
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Verify every record, the chain, signatures, checkpoints and Merkle roots.
    Verify {
        /// The data directory (default ./mishen-data when no EXPORT is given).
        #[arg(long, value_name = "DIR", env = "MISHEN_DATA_DIR")]
        data_dir: Option<PathBuf>,
        /// A JSON Lines export to verify instead of the data directory.
        #[arg(value_name = "EXPORT.jsonl", conflicts_with = "data_dir")]
        export: Option<PathBuf>,
        /// A signed checkpoint the log must be consistent with (repeatable).
        #[arg(long, value_name = "FILE")]
        checkpoint: Vec<PathBuf>,
        /// The trusted public key (PEM or hex); default DIR/audit.pub.
        #[arg(long, value_name = "FILE")]
        public_key: Option<PathBuf>,
    },
    /// Write the canonical records as JSON Lines (accepted by `audit verify`).
    Export {
        #[arg(long, value_name = "DIR", env = "MISHEN_DATA_DIR", default_value = super::DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
        #[arg(long, value_enum, default_value = "jsonl")]
        format: ExportFormat,
    },
    /// Show one record (by id or sequence number).
    Show {
        /// Record id (UUID) or sequence number.
        id: String,
        /// Also print the sealed title of a withheld document, opened with the
        /// records key of DIR (`records.key`; gone once destroyed).
        #[arg(long)]
        unseal: bool,
        #[arg(long, value_name = "DIR", env = "MISHEN_DATA_DIR", default_value = super::DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
    },
    /// List records: seq, id, time, type, verdict, 文号 or title.
    List {
        #[arg(long, value_name = "DIR", env = "MISHEN_DATA_DIR", default_value = super::DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
        /// Only records at or after this RFC 3339 time or date (`2026-11-01`).
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
        /// Only records with this verdict (a reviewed screening: its verdict
        /// after review).
        #[arg(long, value_name = "VERDICT")]
        verdict: Option<mishen::Verdict>,
        /// Only screenings that await review: `redact` or `withhold` and no
        /// review record cites them yet.
        #[arg(long)]
        awaiting_review: bool,
    },
    /// Print the inclusion proof of record SEQ in the latest checkpoint that covers it.
    Prove {
        seq: u64,
        #[arg(long, value_name = "DIR", env = "MISHEN_DATA_DIR", default_value = super::DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
    },
    /// Print the RFC 9162 consistency proof from the first OLD_SIZE records to the
    /// latest checkpoint.
    Consistency {
        old_size: u64,
        #[arg(long, value_name = "DIR", env = "MISHEN_DATA_DIR", default_value = super::DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
    },
    /// Sign a checkpoint for the current size and print it.
    Checkpoint {
        #[arg(long, value_name = "DIR", env = "MISHEN_DATA_DIR", default_value = super::DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
    },
}

/// Opens an existing log's store (never creates one).
pub fn open_store(dir: &Path) -> anyhow::Result<SqliteStore> {
    if !dir.join(DB_FILE).exists() {
        bail!("no audit log in {} (run `mishen screen --data-dir {} ...` first)", dir.display(), dir.display());
    }
    Ok(SqliteStore::open(dir, false)?)
}

fn read_note(p: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(p).with_context(|| format!("cannot read checkpoint {}", p.display()))
}

fn report(out: &mut impl Write, r: Result<mishen::audit::verify::Summary, Failure>) -> anyhow::Result<i32> {
    match r {
        Ok(s) => {
            writeln!(
                out,
                "ok: {} records, {} checkpoints verified; origin {}; root {}",
                s.records,
                s.checkpoints,
                s.origin.as_deref().unwrap_or("-"),
                hex::encode(s.root)
            )?;
            Ok(0)
        }
        Err(f) => {
            writeln!(out, "FAIL: first bad record seq {}: {}", f.seq, f.reason)?;
            Ok(1)
        }
    }
}

pub fn run(cmd: AuditCommand) -> anyhow::Result<i32> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let code = match cmd {
        AuditCommand::Verify { data_dir, export, checkpoint, public_key } => {
            let dir = data_dir.unwrap_or_else(|| PathBuf::from(super::DEFAULT_DATA_DIR));
            let key = match &public_key {
                Some(p) => parse_public(
                    &std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?,
                )?,
                None => read_public(&dir).with_context(|| {
                    format!("no public key: pass --public-key FILE (or --data-dir DIR holding {})", mishen::audit::keys::PUBLIC_KEY_FILE)
                })?,
            };
            let mut notes = checkpoint.iter().map(|p| read_note(p)).collect::<anyhow::Result<Vec<_>>>()?;
            match export {
                Some(p) => {
                    let data = std::fs::read(&p).with_context(|| format!("cannot read {}", p.display()))?;
                    report(&mut out, verify_jsonl(&data, key, notes.iter().map(String::as_str)))?
                }
                None => {
                    let store = open_store(&dir)?;
                    let cp = dir.join(CHECKPOINT_FILE);
                    if cp.exists() {
                        notes.push(read_note(&cp)?);
                    }
                    match mishen::audit::verify_store(&store, key, notes.iter().map(String::as_str)) {
                        Ok(r) => report(&mut out, r)?,
                        Err(e) => {
                            writeln!(out, "FAIL: the log cannot be read: {e}")?;
                            1
                        }
                    }
                }
            }
        }
        AuditCommand::Export { data_dir, format: ExportFormat::Jsonl } => {
            let store = open_store(&data_dir)?;
            let mut err = None;
            store.scan(&mut |b| {
                if let Err(e) = out.write_all(b).and_then(|_| out.write_all(b"\n")) {
                    err = Some(e);
                    return Err(AuditError::Io("write failed".into()));
                }
                Ok(())
            })
            .map_err(|e| match err.take() {
                Some(io) => anyhow::Error::from(io),
                None => e.into(),
            })?;
            0
        }
        AuditCommand::Show { id, unseal, data_dir } => {
            let store = open_store(&data_dir)?;
            let e = match id.parse::<u64>() {
                Ok(seq) => store.get_seq(seq)?,
                Err(_) => store.get_id(&id)?,
            };
            let Some(e) = e else { bail!("no record {id:?} in {}", data_dir.display()) };
            let v: serde_json::Value = serde_json::from_slice(&e.bytes).context("stored record is not JSON")?;
            writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
            let sig = match (Record::parse(&e.bytes), read_public(&data_dir)) {
                (Ok(r), Ok(k)) => r.verify_signature(&k).map_or_else(|w| format!("BAD ({w})"), |_| "ok".into()),
                (Err(w), _) => format!("BAD ({w})"),
                (_, Err(w)) => format!("not checked ({w})"),
            };
            writeln!(out, "record hash {}\nsignature {sig}", hex::encode(record_hash(&e.bytes)))?;
            if unseal {
                let r = Record::parse(&e.bytes).map_err(|w| anyhow::anyhow!("record {id}: {w}"))?;
                let Some(d) = r.screening.as_ref().map(|s| &s.document) else { bail!("record {id} is not a screening") };
                let Some(sealed) = &d.title_sealed else { bail!("record {id} has no sealed title") };
                let keys = mishen::audit::keys::Keys::open(&data_dir)?;
                let Some(rk) = keys.records_key else { bail!("no records key in {} (destroyed: its titles are purged)", data_dir.display()) };
                writeln!(out, "sealed title {}", rk.unseal(sealed, &d.content_sha256)?)?;
            }
            0
        }
        AuditCommand::List { data_dir, since, verdict, awaiting_review } => {
            let store = open_store(&data_dir)?;
            // First pass: the latest review of each screening.
            let mut reviewed: HashMap<String, Reviewed> = HashMap::new();
            store.scan(&mut |b| {
                if let Ok(r) = Record::parse(b)
                    && let Some(v) = r.review
                {
                    reviewed.insert(v.ref_id.clone(), Reviewed { seq: r.seq, decision: v.decision.as_str(), verdict: v.verdict });
                }
                Ok(())
            })?;
            let filter = ListFilter { since: since.as_deref(), verdict, awaiting_review };
            let mut lines = Vec::new();
            store.scan(&mut |b| {
                lines.push(list_line(b, &filter, &reviewed));
                Ok(())
            })?;
            for l in lines.into_iter().flatten() {
                writeln!(out, "{l}")?;
            }
            0
        }
        AuditCommand::Consistency { old_size, data_dir } => {
            let (store, v) = verified(&data_dir)?;
            let notes = store.checkpoints()?;
            let Some((size, note)) = notes.iter().rev().find(|(s, _)| *s >= old_size) else {
                bail!("no checkpoint covers {old_size} records yet (run `mishen audit checkpoint`)");
            };
            let cp = open_note(note, &data_dir)?;
            let leaves = &v.leaves()[..*size as usize];
            let proof = merkle::consistency_proof(old_size as usize, leaves).context("size out of range")?;
            let old_root = merkle::root(&leaves[..old_size as usize]);
            let ok = merkle::verify_consistency(old_size, *size, &old_root, &cp.root, &proof);
            let j = serde_json::json!({
                "old_size": old_size,
                "old_root": hex::encode(old_root),
                "tree_size": size,
                "root": hex::encode(cp.root),
                "proof": proof.iter().map(hex::encode).collect::<Vec<_>>(),
                "verified": ok,
                "checkpoint": note,
            });
            writeln!(out, "{}", serde_json::to_string_pretty(&j)?)?;
            if ok { 0 } else { 1 }
        }
        AuditCommand::Prove { seq, data_dir } => {
            let (store, v) = verified(&data_dir)?;
            let notes = store.checkpoints()?;
            let Some((size, note)) = notes.iter().rev().find(|(s, _)| *s > seq) else {
                bail!("no checkpoint covers record seq {seq} yet (run `mishen audit checkpoint`)");
            };
            let cp = open_note(note, &data_dir)?;
            let leaves = &v.leaves()[..*size as usize];
            let proof = merkle::inclusion_proof(seq as usize, leaves).context("seq out of range")?;
            let ok = merkle::verify_inclusion(seq, *size, &leaves[seq as usize], &proof, &cp.root);
            let j = serde_json::json!({
                "seq": seq,
                "leaf_hash": hex::encode(leaves[seq as usize]),
                "tree_size": size,
                "root": hex::encode(cp.root),
                "proof": proof.iter().map(hex::encode).collect::<Vec<_>>(),
                "verified": ok,
                "checkpoint": note,
            });
            writeln!(out, "{}", serde_json::to_string_pretty(&j)?)?;
            if ok { 0 } else { 1 }
        }
        AuditCommand::Checkpoint { data_dir } => {
            open_store(&data_dir)?;
            let log = AuditLog::open(&data_dir, &super::actor())?;
            write!(out, "{}", log.close()?)?;
            0
        }
    };
    out.flush()?;
    Ok(code)
}

/// The store and a verifier that has accepted every record (proofs are only
/// given for a log that verifies).
fn verified(dir: &Path) -> anyhow::Result<(SqliteStore, Verifier)> {
    let store = open_store(dir)?;
    let mut v = Verifier::new(read_public(dir)?, None);
    let mut bad = None;
    let r = store.scan(&mut |b| {
        v.push(b).map_err(|f| {
            bad = Some(f);
            AuditError::Store("stop".into())
        })
    });
    if let Some(f) = bad {
        bail!("the log does not verify ({f}); no proof given");
    }
    r?;
    Ok((store, v))
}

/// Opens a stored checkpoint with any key the log has used.
fn open_note(note: &str, dir: &Path) -> anyhow::Result<Checkpoint> {
    let mut keys = vec![read_public(dir)?];
    let store = open_store(dir)?;
    store.scan(&mut |b| {
        if let Ok(r) = Record::parse(b)
            && let Some(k) = r.rotation
            && let Ok(k) = parse_public(&k.new_public_key)
        {
            keys.push(k);
        }
        Ok(())
    })?;
    keys.iter()
        .rev()
        .find_map(|k| Checkpoint::open(note, k).ok())
        .context("the checkpoint is not signed by any key of the log")
}

/// The latest review of a screening.
struct Reviewed {
    seq: u64,
    decision: &'static str,
    verdict: String,
}

/// What `audit list` shows.
struct ListFilter<'a> {
    since: Option<&'a str>,
    verdict: Option<mishen::Verdict>,
    awaiting_review: bool,
}

/// One line of `audit list`. A screening shows its status: `awaiting review`
/// (redact or withhold, no review yet), `reviewed seq N: DECISION` with the
/// verdict after review (`redact → publish`), or `screened` (publish).
fn list_line(b: &[u8], f: &ListFilter<'_>, reviewed: &HashMap<String, Reviewed>) -> Option<String> {
    let Ok(r) = Record::parse(b) else {
        return Some("(unparsable record; run `mishen audit verify`)".into());
    };
    if f.since.is_some_and(|s| r.time.as_str() < s) {
        return None;
    }
    let review = reviewed.get(&r.id);
    if f.awaiting_review && (r.screening.as_ref().is_none_or(|s| s.verdict == "publish") || review.is_some()) {
        return None;
    }
    if let Some(s) = &r.screening {
        let effective = review.map_or(s.verdict.as_str(), |v| v.verdict.as_str());
        if f.verdict.is_some_and(|want| want.as_str() != effective) {
            return None;
        }
        let d = &s.document;
        let what = d.doc_number.clone().or_else(|| d.title.clone()).or_else(|| d.title_sealed.as_ref().map(|_| "(title sealed)".into()));
        let what = what.unwrap_or_default();
        let what = if s.partial { format!("{what} [partial: {} only]", s.categories.join(", ")) } else { what };
        let (shown, status) = match review {
            Some(v) if v.verdict != s.verdict => (format!("{} → {}", s.verdict, v.verdict), format!("reviewed seq {}: {}", v.seq, v.decision)),
            Some(v) => (s.verdict.clone(), format!("reviewed seq {}: {}", v.seq, v.decision)),
            None if s.verdict == "publish" => (s.verdict.clone(), "screened".into()),
            None => (s.verdict.clone(), "awaiting review".into()),
        };
        return Some(format!("{:>6}  {}  {}  {:<9}  {:<8}  {:<24}  {}", r.seq, r.id, r.time, "screening", shown, status, what));
    }
    let verdict = f.verdict;
    let (v, what) = match (&r.screening, &r.review) {
        (_, Some(v)) => (
            v.verdict.clone(),
            format!("{} of seq {} by {} ({})", format!("{:?}", v.decision).to_lowercase(), v.ref_seq, v.reviewer, v.role),
        ),
        _ => match (&r.rotation, &r.rules) {
            (Some(k), _) => (String::new(), format!("new key {}", k.new_key_id)),
            (_, Some(k)) => (String::new(), format!("rules {} ({} rules)", &k.rules_sha256[..12.min(k.rules_sha256.len())], k.rules)),
            _ => (String::new(), String::new()),
        },
    };
    if verdict.is_some_and(|want| want.as_str() != v) {
        return None;
    }
    let kind = r.kind.as_str();
    Some(format!("{:>6}  {}  {}  {:<9}  {:<8}  {}", r.seq, r.id, r.time, kind, v, what))
}
