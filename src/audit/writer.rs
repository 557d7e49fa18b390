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
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

struct Request {
    body: Body,
    reply: mpsc::SyncSender<Result<Appended, String>>,
}

/// Sends records to the writer thread. Clone it for each client.
#[derive(Clone, Debug)]
pub struct WriterHandle {
    tx: mpsc::Sender<Request>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Request")
    }
}

impl WriterHandle {
    /// Appends one record; returns once it is durable.
    pub fn append(&self, body: Body) -> Result<Appended, AuditError> {
        let (reply, rx) = mpsc::sync_channel(1);
        self.tx
            .send(Request { body, reply })
            .map_err(|_| AuditError::Store("the audit writer has stopped".into()))?;
        rx.recv()
            .map_err(|_| AuditError::Store("the audit writer has stopped".into()))?
            .map_err(AuditError::Store)
    }
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
        let (tx, rx) = mpsc::channel::<Request>();
        let max_batch = max_batch.max(1);
        let thread = std::thread::spawn(move || {
            let mut last_cp = Instant::now();
            let mut dirty = false;
            loop {
                let first = match interval {
                    Some(iv) => match rx.recv_timeout(iv.saturating_sub(last_cp.elapsed())) {
                        Ok(r) => Some(r),
                        Err(mpsc::RecvTimeoutError::Timeout) => None,
                        Err(mpsc::RecvTimeoutError::Disconnected) => break,
                    },
                    None => match rx.recv() {
                        Ok(r) => Some(r),
                        Err(_) => break,
                    },
                };
                if let Some(first) = first {
                    let mut batch = vec![first];
                    while batch.len() < max_batch {
                        match rx.try_recv() {
                            Ok(r) => batch.push(r),
                            Err(_) => break,
                        }
                    }
                    let bodies = batch.iter().map(|r| r.body.clone()).collect();
                    match log.append(bodies) {
                        Ok(done) => {
                            for (r, a) in batch.into_iter().zip(done) {
                                let _ = r.reply.send(Ok(a));
                            }
                        }
                        Err(e) => {
                            let msg = e.to_string();
                            for r in batch {
                                let _ = r.reply.send(Err(msg.clone()));
                            }
                        }
                    }
                    dirty = true;
                }
                if let Some(iv) = interval
                    && dirty
                    && last_cp.elapsed() >= iv
                {
                    log.checkpoint()?;
                    last_cp = Instant::now();
                    dirty = false;
                }
            }
            log.close()
        });
        Writer { handle: Some(WriterHandle { tx }), thread: Some(thread) }
    }

    /// A handle for one client.
    pub fn handle(&self) -> WriterHandle {
        self.handle.clone().expect("handle is only taken by close")
    }

    /// Stops accepting records once every handle is dropped, then writes the
    /// closing checkpoint and returns it.
    pub fn close(mut self) -> Result<String, AuditError> {
        self.handle = None;
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err(AuditError::Store("the audit writer panicked".into())),
            None => Err(AuditError::Store("the audit writer was already closed".into())),
        }
    }
}
