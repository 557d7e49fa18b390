//! The single writer with group commit.
//!
//! One thread owns the [`AuditLog`]; any number of clients send it record bodies
//! through a [`WriterHandle`] and block until their record is durable. The
//! writer takes every request waiting in its queue (up to a batch limit) and
//! appends them in one transaction, so N concurrent clients pay for one fsync,
//! not N. When the last handle and the [`Writer`] are dropped or closed, it
//! writes the closing checkpoint. With an interval set, it also checkpoints when
//! records arrived and the interval passed, even if no client is writing.

use super::record::Body;
use super::store::Store;
use super::{Appended, AuditError, AuditLog};
use std::sync::mpsc;
use tokio::sync::oneshot;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

enum Msg {
    Append(Request),
    /// Rotate the signing key kept in this directory (see [`AuditLog::rotate`]),
    /// between two batches.
    Rotate(std::path::PathBuf, Option<String>, oneshot::Sender<Result<Rotated, String>>),
    /// Append what is queued, write the closing checkpoint, stop.
    Stop,
}

struct Request {
    actor: Option<String>,
    body: Body,
    reply: Reply,
}

/// Where the outcome of one append goes (each `Option` is taken when answered).
enum Reply {
    Channel(Option<oneshot::Sender<Result<Appended, String>>>),
    /// Called on the writer thread; if the request is dropped unanswered (the
    /// writer stopped), called with that error.
    Call(Option<Box<dyn FnOnce(Result<Appended, String>) + Send>>),
}

const STOPPED: &str = "the audit writer has stopped";

impl Reply {
    fn send(mut self, r: Result<Appended, String>) {
        match &mut self {
            Reply::Channel(tx) => {
                if let Some(tx) = tx.take() {
                    let _ = tx.send(r);
                }
            }
            Reply::Call(f) => {
                if let Some(f) = f.take() {
                    f(r);
                }
            }
        }
    }
}

impl Drop for Reply {
    fn drop(&mut self) {
        if let Reply::Call(f) = self
            && let Some(f) = f.take()
        {
            f(Err(STOPPED.into()));
        }
    }
}

/// Sends records to the writer thread. Clone it for each client.
#[derive(Clone, Debug)]
pub struct WriterHandle {
    tx: mpsc::Sender<Msg>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Request")
    }
}

impl WriterHandle {
    fn submit(&self, actor: Option<String>, body: Body) -> Result<oneshot::Receiver<Result<Appended, String>>, AuditError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Msg::Append(Request { actor, body, reply: Reply::Channel(Some(reply)) }))
            .map_err(|_| AuditError::Store(STOPPED.into()))?;
        Ok(rx)
    }

    /// Appends one record without waiting: `then` gets the outcome once the
    /// record is durable (or the error), exactly once, on the writer thread (or
    /// on this one if the writer has stopped). Keep it cheap (hand the result
    /// to a channel): it delays the replies of the rest of the batch.
    pub fn append_then(
        &self,
        actor: Option<String>,
        body: Body,
        then: impl FnOnce(Result<Appended, AuditError>) + Send + 'static,
    ) {
        let f: Box<dyn FnOnce(Result<Appended, String>) + Send> = Box::new(move |r| then(r.map_err(AuditError::Store)));
        // A send error hands the request back; dropping it answers `then`.
        let _ = self.tx.send(Msg::Append(Request { actor, body, reply: Reply::Call(Some(f)) }));
    }

    /// Appends one record; returns once it is durable. Blocks the thread: from
    /// async code use [`WriterHandle::append_async`].
    pub fn append(&self, body: Body) -> Result<Appended, AuditError> {
        self.submit(None, body)?
            .blocking_recv()
            .map_err(|_| AuditError::Store(STOPPED.into()))?
            .map_err(AuditError::Store)
    }

    /// Rotates the signing key while the writer runs: a new key is staged in
    /// `dir` (the log's data directory), a `key_rotation` record signed by the
    /// current key is appended, then the new key is installed on disk and signs
    /// everything after. Records queued before the rotation are signed with the
    /// old key. Resolves to the rotation record and the new key once the record
    /// is durable.
    pub async fn rotate(&self, dir: &std::path::Path, actor: Option<String>) -> Result<Rotated, AuditError> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(Msg::Rotate(dir.to_path_buf(), actor, reply)).map_err(|_| AuditError::Store(STOPPED.into()))?;
        rx.await.map_err(|_| AuditError::Store(STOPPED.into()))?.map_err(AuditError::Store)
    }

    /// Appends one record; resolves once it is durable. Dropping the future
    /// does not withdraw the record: it is appended all the same.
    pub async fn append_async(&self, body: Body) -> Result<Appended, AuditError> {
        self.append_as(None, body).await
    }

    /// [`WriterHandle::append_async`] recording `actor` instead of the log's.
    pub async fn append_as(&self, actor: Option<String>, body: Body) -> Result<Appended, AuditError> {
        self.submit(actor, body)?
            .await
            .map_err(|_| AuditError::Store(STOPPED.into()))?
            .map_err(AuditError::Store)
    }
}

/// [`AuditLog::rotate`] for any store: stage the next key in `dir`, append the
/// rotation record, install the key (or discard it if the record failed).
fn rotate_in<S: Store>(log: &mut AuditLog<S>, dir: &std::path::Path, actor: Option<String>) -> Result<Rotated, AuditError> {
    let next = super::keys::Keys::stage_next(dir)?;
    let (key_id, key) = (next.key_id().to_string(), next.public());
    match log.rotate_to_as(next, actor) {
        Ok(record) => {
            super::keys::Keys::commit_next(dir)?;
            Ok(Rotated { record, key_id, key })
        }
        Err(e) => {
            let _ = super::keys::Keys::discard_next(dir);
            Err(e)
        }
    }
}

/// A key rotation done by the writer: its record, and the key now signing.
#[derive(Debug)]
pub struct Rotated {
    /// The `key_rotation` record (signed by the previous key).
    pub record: Appended,
    /// The new key's id.
    pub key_id: String,
    /// The new public key.
    pub key: ed25519_dalek::VerifyingKey,
}

/// The writer thread.
#[derive(Debug)]
pub struct Writer {
    handle: Option<WriterHandle>,
    thread: Option<JoinHandle<Result<String, AuditError>>>,
}

impl Writer {
    /// Starts the writer over `log`: at most `max_batch` records per commit, and a
    /// checkpoint every `interval` while records keep arriving (None: only every N
    /// records and at close).
    pub fn spawn<S: Store + Send + 'static>(mut log: AuditLog<S>, max_batch: usize, interval: Option<Duration>) -> Writer {
        let (tx, rx) = mpsc::channel::<Msg>();
        let max_batch = max_batch.max(1);
        let thread = std::thread::spawn(move || {
            let mut last_cp = Instant::now();
            let mut dirty = false;
            let mut stop = false;
            while !stop {
                let first = match interval {
                    Some(iv) => match rx.recv_timeout(iv.saturating_sub(last_cp.elapsed())) {
                        Ok(m) => Some(m),
                        Err(mpsc::RecvTimeoutError::Timeout) => None,
                        Err(mpsc::RecvTimeoutError::Disconnected) => break,
                    },
                    None => match rx.recv() {
                        Ok(m) => Some(m),
                        Err(_) => break,
                    },
                };
                let mut batch = Vec::new();
                let mut rotate = None;
                match first {
                    Some(Msg::Append(r)) => batch.push(r),
                    Some(Msg::Rotate(dir, who, reply)) => rotate = Some((dir, who, reply)),
                    Some(Msg::Stop) => stop = true,
                    None => {}
                }
                // Take what is queued, up to a rotation; after a stop, everything queued.
                while rotate.is_none() && (stop || (!batch.is_empty() && batch.len() < max_batch)) {
                    match rx.try_recv() {
                        Ok(Msg::Append(r)) => batch.push(r),
                        Ok(Msg::Rotate(dir, who, reply)) => rotate = Some((dir, who, reply)),
                        Ok(Msg::Stop) => stop = true,
                        Err(_) => break,
                    }
                }
                if !batch.is_empty() {
                    let (items, replies): (Vec<_>, Vec<_>) =
                        batch.into_iter().map(|r| ((r.actor, r.body), r.reply)).unzip();
                    match log.append_records(items) {
                        Ok((done, checkpoint_due)) => {
                            for (r, a) in replies.into_iter().zip(done) {
                                r.send(Ok(a));
                            }
                            // After the replies: the records are durable, and no
                            // caller waits for the checkpoint's own commit. A
                            // failure is retried at the next interval or close.
                            if checkpoint_due && let Err(e) = log.checkpoint() {
                                tracing::error!(error = %e, "periodic audit checkpoint failed; retrying later");
                            }
                        }
                        Err(e) => {
                            let msg = e.to_string();
                            for r in replies {
                                r.send(Err(msg.clone()));
                            }
                        }
                    }
                    dirty = true;
                }
                // After the batch queued before it: those records keep the old key.
                if let Some((dir, who, reply)) = rotate {
                    let r = rotate_in(&mut log, &dir, who).map_err(|e| e.to_string());
                    if r.is_ok() {
                        dirty = true;
                    }
                    let _ = reply.send(r);
                }
                if let Some(iv) = interval
                    && dirty
                    && !stop
                    && last_cp.elapsed() >= iv
                {
                    // A failed timed checkpoint (disk full, I/O error) must not
                    // stop the writer: records keep being appended (or refused,
                    // each with its error) and the checkpoint is retried.
                    match log.checkpoint() {
                        Ok(_) => dirty = false,
                        Err(e) => tracing::error!(error = %e, "timed audit checkpoint failed; retrying at the next interval"),
                    }
                    last_cp = Instant::now();
                }
            }
            // Requests sent after this point fail: their reply channel is dropped.
            drop(rx);
            log.close()
        });
        Writer { handle: Some(WriterHandle { tx }), thread: Some(thread) }
    }

    /// A handle for one client.
    pub fn handle(&self) -> WriterHandle {
        self.handle.clone().expect("handle is only taken by close")
    }

    /// Appends what is already queued, stops (later appends through any handle
    /// fail with "the audit writer has stopped"), writes the closing checkpoint
    /// and returns it.
    pub fn close(mut self) -> Result<String, AuditError> {
        if let Some(h) = self.handle.take() {
            let _ = h.tx.send(Msg::Stop);
        }
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err(AuditError::Store("the audit writer panicked".into())),
            None => Err(AuditError::Store("the audit writer was already closed".into())),
        }
    }
}
