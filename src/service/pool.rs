//! The engine pool: a fixed set of threads taking jobs from one FIFO queue.
//!
//! Why not rayon: an idle rayon worker spins and calls `sched_yield` for a
//! while before it sleeps. Under a steady stream of requests on a small
//! machine that spinning takes CPU from the threads doing the work (the
//! reactor, the audit writer, the other engine threads), and every job wakes
//! a worker through that dance. Here an idle thread waits on a condition
//! variable, and jobs run strictly in arrival order, which keeps the latency
//! of a request close to the queue ahead of it.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;

type Job = Box<dyn FnOnce() + Send + 'static>;

struct Queue {
    jobs: Mutex<State>,
    ready: Condvar,
}

struct State {
    jobs: VecDeque<Job>,
    closed: bool,
}

/// A fixed-size FIFO thread pool. Dropping it lets queued jobs finish, then
/// joins the threads.
pub struct EnginePool {
    queue: Arc<Queue>,
    threads: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for EnginePool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnginePool").field("threads", &self.threads.len()).finish()
    }
}

impl EnginePool {
    /// Starts `threads` threads named `{name}-{i}`, each running `init` once
    /// before it takes jobs (warm-up of per-thread caches).
    pub fn new(threads: usize, name: &str, init: impl Fn() + Send + Sync + 'static) -> std::io::Result<EnginePool> {
        let queue = Arc::new(Queue { jobs: Mutex::new(State { jobs: VecDeque::new(), closed: false }), ready: Condvar::new() });
        let init = Arc::new(init);
        let mut handles = Vec::with_capacity(threads);
        for i in 0..threads.max(1) {
            let q = queue.clone();
            let init = init.clone();
            let h = std::thread::Builder::new().name(format!("{name}-{i}")).spawn(move || {
                init();
                while let Some(job) = q.next() {
                    // A panicking job must not take the thread with it: jobs
                    // catch their own panics; this is the last guard.
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                }
            });
            match h {
                Ok(h) => handles.push(h),
                Err(e) => {
                    drop(EnginePool { queue, threads: handles });
                    return Err(e);
                }
            }
        }
        Ok(EnginePool { queue, threads: handles })
    }

    /// Queues a job; it runs after every job queued before it has started.
    pub fn spawn(&self, job: impl FnOnce() + Send + 'static) {
        let mut s = self.queue.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        s.jobs.push_back(Box::new(job));
        drop(s);
        self.queue.ready.notify_one();
    }
}

impl Queue {
    /// The next job, or `None` once the pool is closed and drained.
    fn next(&self) -> Option<Job> {
        let mut s = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(j) = s.jobs.pop_front() {
                return Some(j);
            }
            if s.closed {
                return None;
            }
            s = self.ready.wait(s).unwrap_or_else(PoisonError::into_inner);
        }
    }
}

impl Drop for EnginePool {
    fn drop(&mut self) {
        self.queue.jobs.lock().unwrap_or_else(PoisonError::into_inner).closed = true;
        self.queue.ready.notify_all();
        for h in self.threads.drain(..) {
            let _ = h.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn runs_every_job_in_order_and_survives_panics() {
        let inits = Arc::new(AtomicUsize::new(0));
        let i2 = inits.clone();
        let pool = EnginePool::new(1, "t", move || {
            i2.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap();
        let out = Arc::new(Mutex::new(Vec::new()));
        for k in 0..100 {
            let out = out.clone();
            pool.spawn(move || {
                if k == 50 {
                    panic!("job panics");
                }
                out.lock().unwrap().push(k);
            });
        }
        drop(pool);
        let v = out.lock().unwrap().clone();
        assert_eq!(v, (0..100).filter(|&k| k != 50).collect::<Vec<_>>());
        assert_eq!(inits.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn drop_drains_the_queue_on_several_threads() {
        let n = Arc::new(AtomicUsize::new(0));
        let pool = EnginePool::new(3, "t", || {}).unwrap();
        for _ in 0..1000 {
            let n = n.clone();
            pool.spawn(move || {
                n.fetch_add(1, Ordering::SeqCst);
            });
        }
        drop(pool);
        assert_eq!(n.load(Ordering::SeqCst), 1000);
    }
}
