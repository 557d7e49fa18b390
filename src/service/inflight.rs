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
//!
//! A message must arrive whole within `request_timeout_ms` of its prefix
//! (else `DEADLINE_EXCEEDED`): a client trickling bytes cannot hold a
//! reservation for longer than any request may take.

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
use std::time::Duration;
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
    upload_timeout: Duration,
}

impl<S> Metered<S> {
    /// `upload_timeout`: the longest a message may take to arrive after its prefix.
    pub(crate) fn new(inner: S, pool: Arc<InflightBytes>, upload_timeout: Duration) -> Metered<S> {
        Metered { inner, pool, upload_timeout }
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
        let body = Body::new(MeteredBody::new(body, self.pool.clone(), grants.clone(), wait, self.upload_timeout));
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
    upload_timeout: Duration,
    /// Armed while a reserved message is arriving.
    upload_deadline: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl MeteredBody {
    fn new(inner: Body, pool: Arc<InflightBytes>, grants: CallGrants, wait: bool, upload_timeout: Duration) -> MeteredBody {
        MeteredBody {
            inner,
            pool,
            grants,
            wait,
            prefix: [0; 5],
            have: 0,
            remaining: 0,
            blocked: None,
            frame: None,
            waiting: None,
            upload_timeout,
            upload_deadline: None,
        }
    }

    /// The reservation for a message is in: its bytes may come.
    fn reserved(&mut self, g: Grant, declared: usize) {
        self.grants.push(g);
        self.blocked = None;
        self.remaining = declared;
        self.upload_deadline = Some(Box::pin(tokio::time::sleep(self.upload_timeout)));
    }

    /// Scans `data[at..]` for message prefixes and reserves each message's
    /// length. `Err(at)`: blocked at `at` on a reservation (`self.blocked`).
    fn scan(&mut self, data: &Bytes, mut at: usize) -> Result<(), usize> {
        loop {
            if let Some((n, declared)) = self.blocked {
                let Some(g) = self.pool.try_reserve(n) else { return Err(at) };
                self.reserved(g, declared);
            }
            if at >= data.len() {
                return Ok(());
            }
            if self.remaining > 0 {
                let k = self.remaining.min(data.len() - at);
                self.remaining -= k;
                at += k;
                if self.remaining == 0 {
                    self.upload_deadline = None;
                }
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
                            this.reserved(g, declared);
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
                Poll::Pending => {
                    if let Some(d) = this.upload_deadline.as_mut()
                        && d.as_mut().poll(cx).is_ready()
                    {
                        this.upload_deadline = None;
                        return Poll::Ready(Some(Err(tonic::Status::deadline_exceeded(format!(
                            "request message not received within {} ms of its start (request_timeout_ms)",
                            this.upload_timeout.as_millis()
                        )))));
                    }
                    return Poll::Pending;
                }
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

#[cfg(test)]
mod tests {
    use super::*;
    use http_body::Body as _;
    use tokio::sync::mpsc;

    /// A request body fed by hand, frame by frame.
    struct Fed(mpsc::UnboundedReceiver<Bytes>);
    impl http_body::Body for Fed {
        type Data = Bytes;
        type Error = tonic::Status;
        fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, tonic::Status>>> {
            self.0.poll_recv(cx).map(|o| o.map(|b| Ok(Frame::data(b))))
        }
    }

    fn body(pool: &Arc<InflightBytes>, wait: bool, timeout: Duration) -> (mpsc::UnboundedSender<Bytes>, MeteredBody, CallGrants) {
        let (tx, rx) = mpsc::unbounded_channel();
        let grants = CallGrants::default();
        (tx, MeteredBody::new(Body::new(Fed(rx)), pool.clone(), grants.clone(), wait, timeout), grants)
    }

    async fn next(b: &mut MeteredBody) -> Result<Bytes, tonic::Status> {
        let f = std::future::poll_fn(|cx| Pin::new(&mut *b).poll_frame(cx)).await.expect("a frame")?;
        Ok(f.into_data().expect("data"))
    }

    fn prefix(n: u32) -> Vec<u8> {
        let mut p = vec![0];
        p.extend(n.to_be_bytes());
        p
    }

    fn used(p: &InflightBytes) -> usize {
        p.used.load(Ordering::Acquire)
    }

    const LONG: Duration = Duration::from_secs(3600);

    #[tokio::test]
    async fn each_message_is_reserved_as_its_prefix_arrives_even_split_across_frames() {
        let pool = InflightBytes::new(100, 50, Metrics::new());
        let (tx, mut b, grants) = body(&pool, false, LONG);
        let p1 = prefix(10);
        tx.send(Bytes::copy_from_slice(&p1[..3])).unwrap();
        assert_eq!(next(&mut b).await.unwrap().len(), 3);
        assert_eq!(used(&pool), 0, "half a prefix reserves nothing");
        let mut f = p1[3..].to_vec();
        f.extend([7; 10]);
        f.extend(prefix(20));
        f.extend([7; 5]);
        tx.send(f.into()).unwrap();
        next(&mut b).await.unwrap();
        assert_eq!(used(&pool), 30, "both messages, the second before its bytes");
        // Longer than the largest message: no more than that is reserved, and
        // its bytes are not read as prefixes.
        let mut f = vec![7; 15];
        f.extend(prefix(80));
        f.extend([0; 80]);
        tx.send(f.into()).unwrap();
        next(&mut b).await.unwrap();
        assert_eq!(used(&pool), 80);
        let (g1, g2) = (grants.take().unwrap(), grants.take().unwrap());
        assert_eq!((g1.n, g2.n), (10, 20));
        drop((g1, g2));
        assert_eq!(used(&pool), 50);
        drop((b, grants));
        assert_eq!(used(&pool), 0, "the rest goes with the call");
    }

    #[tokio::test]
    async fn a_unary_message_over_the_budget_is_refused() {
        let pool = InflightBytes::new(30, 30, Metrics::new());
        let held = pool.try_reserve(20).unwrap();
        let (tx, mut b, _grants) = body(&pool, false, LONG);
        tx.send(prefix(15).into()).unwrap();
        let e = next(&mut b).await.unwrap_err();
        assert_eq!(e.code(), tonic::Code::ResourceExhausted);
        assert!(e.message().contains("max_inflight_bytes"), "{}", e.message());
        assert_eq!(used(&pool), 20);
        drop(held);
        assert_eq!(used(&pool), 0);
    }

    #[tokio::test]
    async fn a_stream_waits_for_bytes_to_be_released() {
        let pool = InflightBytes::new(30, 30, Metrics::new());
        let held = pool.try_reserve(20).unwrap();
        let (tx, mut b, grants) = body(&pool, true, LONG);
        let mut f = prefix(15);
        f.extend([1; 15]);
        tx.send(f.into()).unwrap();
        // Nothing is released: it waits (for as long as one cares to look).
        assert!(tokio::time::timeout(Duration::from_millis(50), next(&mut b)).await.is_err(), "waits");
        drop(held);
        assert_eq!(next(&mut b).await.unwrap().len(), 20);
        assert_eq!(used(&pool), 15);
        drop(grants.take());
        assert_eq!(used(&pool), 0);
    }

    #[tokio::test]
    async fn a_message_trickling_in_past_the_timeout_fails() {
        let pool = InflightBytes::new(100, 100, Metrics::new());
        let (tx, mut b, _grants) = body(&pool, false, Duration::from_millis(30));
        let mut f = prefix(10);
        f.extend([1; 2]);
        tx.send(f.into()).unwrap();
        next(&mut b).await.unwrap();
        let e = next(&mut b).await.unwrap_err();
        assert_eq!(e.code(), tonic::Code::DeadlineExceeded, "{e:?}");
        // A whole message disarms the timer: the next frame is simply awaited.
        let (tx, mut b, _grants) = body(&pool, false, Duration::from_millis(30));
        let mut f = prefix(2);
        f.extend([1; 2]);
        tx.send(f.into()).unwrap();
        next(&mut b).await.unwrap();
        assert!(tokio::time::timeout(Duration::from_millis(100), next(&mut b)).await.is_err(), "no timeout between messages");
        drop(tx);
    }
}
