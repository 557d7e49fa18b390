//! A byte budget for request messages in flight (`max_inflight_bytes`).
//!
//! Load shedding by documents (`max_concurrency`) happens after a message is
//! read and decoded: by then its bytes are in memory. This layer, around the
//! screening service, sees the HTTP/2 body as it arrives: each gRPC message
//! starts with a 5-byte prefix declaring its length, and that many bytes
//! (at most `max_message_bytes`) are reserved from one budget shared by the
//! server before the message's bytes are buffered. When the budget cannot hold
//! them:
//!
//! - a unary call (`Screen`) fails at once with `RESOURCE_EXHAUSTED`, having
//!   buffered only what HTTP/2 flow control let in (one window, 64 KiB);
//! - a stream (`ScreenStream`) stops reading until bytes are released (HTTP/2
//!   flow control pushes back on the client), as it waits for engine slots.
//!
//! A reservation lasts until the message has been answered: for a unary call,
//! until its response is sent (the decoded request and its screening live that
//! long); for a stream, each message's reservation is handed to the task that
//! screens it ([`CallGrants::take`]) and released when that document is done.
//! `max_inflight_bytes >= max_message_bytes` (checked at start-up), so every
//! message the server accepts fits once the others are done.

use super::metrics::Metrics;
use bytes::{Buf, Bytes};
use http_body::Frame;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::sync::Notify;
use tonic::body::Body;
use tonic::server::NamedService;
use tower_service::Service;

/// The budget shared by every call.
#[derive(Debug)]
pub(crate) struct InflightBytes {
    used: AtomicUsize,
    max: usize,
    /// Largest message the server decodes (a longer declared length is
    /// refused by the decoder; at most this much is reserved for it).
    max_message: usize,
    released: Arc<Notify>,
    metrics: Arc<Metrics>,
}

impl InflightBytes {
    pub(crate) fn new(max: usize, max_message: usize, metrics: Arc<Metrics>) -> Arc<InflightBytes> {
        Arc::new(InflightBytes { used: AtomicUsize::new(0), max, max_message, released: Arc::new(Notify::new()), metrics })
    }

    /// Reserves `n` bytes, or None if the budget cannot hold them now.
    fn try_reserve(self: &Arc<Self>, n: usize) -> Option<Grant> {
        let mut cur = self.used.load(Ordering::Relaxed);
        loop {
            let next = cur.checked_add(n).filter(|&v| v <= self.max)?;
            match self.used.compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => {
                    self.metrics.inflight_bytes().inc_by(n as i64);
                    return Some(Grant { pool: self.clone(), n });
                }
                Err(v) => cur = v,
            }
        }
    }
}

/// Bytes reserved for one message; released when dropped.
#[derive(Debug)]
pub(crate) struct Grant {
    pool: Arc<InflightBytes>,
    n: usize,
}

impl Drop for Grant {
    fn drop(&mut self) {
        self.pool.used.fetch_sub(self.n, Ordering::AcqRel);
        self.pool.metrics.inflight_bytes().dec_by(self.n as i64);
        self.pool.released.notify_waiters();
    }
}

/// The reservations of one call's messages not yet claimed, in message order
/// (in the request's extensions). Whatever is left is released when the call's
/// response has been sent.
#[derive(Debug, Clone, Default)]
pub(crate) struct CallGrants(Arc<Mutex<VecDeque<Grant>>>);

impl CallGrants {
    /// The reservation of the oldest message not yet claimed (a stream's
    /// reader takes one per message it hands to a document task).
    pub(crate) fn take(&self) -> Option<Grant> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).pop_front()
    }

    fn push(&self, g: Grant) {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push_back(g);
    }
}

/// The layer: wraps a gRPC service (the screening service).
#[derive(Debug, Clone)]
pub(crate) struct Metered<S> {
    inner: S,
    pool: Arc<InflightBytes>,
}

impl<S> Metered<S> {
    pub(crate) fn new(inner: S, pool: Arc<InflightBytes>) -> Metered<S> {
        Metered { inner, pool }
    }
}

impl<S: NamedService> NamedService for Metered<S> {
    const NAME: &'static str = S::NAME;
}

impl<S, B> Service<http::Request<Body>> for Metered<S>
where
    S: Service<http::Request<Body>, Response = http::Response<B>, Error = Infallible>,
    S::Future: Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<tonic::codegen::StdError>,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<http::Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        let grants = CallGrants::default();
        let (mut parts, body) = req.into_parts();
        // Streams wait for bytes (as they wait for engine slots); unary calls are shed.
        let wait = parts.uri.path().ends_with("/ScreenStream");
        parts.extensions.insert(grants.clone());
        let body = Body::new(MeteredBody {
            inner: body,
            pool: self.pool.clone(),
            grants: grants.clone(),
            wait,
            prefix: [0; 5],
            have: 0,
            remaining: 0,
            blocked: None,
            frame: None,
            waiting: None,
        });
        let fut = self.inner.call(http::Request::from_parts(parts, body));
        Box::pin(async move {
            let resp = fut.await?;
            let (parts, body) = resp.into_parts();
            // The call's leftover reservations live until the response is sent.
            Ok(http::Response::from_parts(parts, Body::new(Holding { inner: Body::new(body), _grants: grants })))
        })
    }
}

/// A response body that keeps the call's reservations until it is dropped
/// (an empty one, a status alone, is dropped at once: the call is over).
struct Holding {
    inner: Body,
    _grants: CallGrants,
}

impl http_body::Body for Holding {
    type Data = Bytes;
    type Error = tonic::Status;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, tonic::Status>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// The request body, reserving each message's declared length as its prefix
/// arrives.
struct MeteredBody {
    inner: Body,
    pool: Arc<InflightBytes>,
    grants: CallGrants,
    wait: bool,
    /// The prefix being read, and how many of its 5 bytes are in.
    prefix: [u8; 5],
    have: usize,
    /// Bytes of the current message still to come.
    remaining: usize,
    /// A message not reserved yet (waiting for the budget): the bytes to
    /// reserve and its declared length.
    blocked: Option<(usize, usize)>,
    /// The data frame being scanned, and how far.
    frame: Option<(Bytes, usize)>,
    waiting: Option<Pin<Box<tokio::sync::futures::OwnedNotified>>>,
}

impl MeteredBody {
    /// Scans `data[at..]` for message prefixes and reserves each message's
    /// length. `Err(at)`: blocked at `at` on a reservation (`self.blocked`).
    fn scan(&mut self, data: &Bytes, mut at: usize) -> Result<(), usize> {
        loop {
            if let Some((n, declared)) = self.blocked {
                let Some(g) = self.pool.try_reserve(n) else { return Err(at) };
                self.grants.push(g);
                self.blocked = None;
                self.remaining = declared;
            }
            if at >= data.len() {
                return Ok(());
            }
            if self.remaining > 0 {
                let k = self.remaining.min(data.len() - at);
                self.remaining -= k;
                at += k;
                continue;
            }
            let k = (5 - self.have).min(data.len() - at);
            self.prefix[self.have..self.have + k].copy_from_slice(&data[at..at + k]);
            self.have += k;
            at += k;
            if self.have == 5 {
                self.have = 0;
                let declared = (&self.prefix[1..]).get_u32() as usize;
                // A longer message is refused by the decoder: reserve no more
                // than the largest accepted (the bytes skipped are the ones
                // after the limit, which the decoder never buffers).
                let n = declared.min(self.pool.max_message);
                if n > 0 {
                    self.blocked = Some((n, declared));
                }
            }
        }
    }
}

impl http_body::Body for MeteredBody {
    type Data = Bytes;
    type Error = tonic::Status;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, tonic::Status>>> {
        let this = &mut *self;
        loop {
            if let Some((data, at)) = this.frame.take() {
                match this.scan(&data, at) {
                    Ok(()) => {
                        this.waiting = None;
                        return Poll::Ready(Some(Ok(Frame::data(data))));
                    }
                    Err(at) if this.wait => {
                        this.frame = Some((data, at));
                        // Register before re-checking, so a release in between is not missed.
                        let w = this.waiting.get_or_insert_with(|| Box::pin(this.pool.released.clone().notified_owned()));
                        w.as_mut().enable();
                        if let Some((n, declared)) = this.blocked
                            && let Some(g) = this.pool.try_reserve(n)
                        {
                            this.grants.push(g);
                            this.blocked = None;
                            this.remaining = declared;
                            this.waiting = None;
                            continue;
                        }
                        match w.as_mut().poll(cx) {
                            Poll::Ready(()) => {
                                this.waiting = None;
                                continue;
                            }
                            Poll::Pending => return Poll::Pending,
                        }
                    }
                    Err(_) => {
                        this.pool.metrics.rejected("inflight_bytes");
                        return Poll::Ready(Some(Err(tonic::Status::resource_exhausted(format!(
                            "server busy: {} bytes of requests in flight, its limit (max_inflight_bytes); retry with back-off",
                            this.pool.max
                        )))));
                    }
                }
            }
            match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Ready(Some(Ok(f))) => match f.into_data() {
                    Ok(d) => this.frame = Some((d, 0)),
                    Err(f) => return Poll::Ready(Some(Ok(f))),
                },
                other => return other,
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.frame.is_none() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
