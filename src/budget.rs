//! How long a screening may run: a deadline and a cancellation flag.
//!
//! The long loops of the pipeline (the term automaton, the regex rules, the
//! number scanner, the name detector, the common tail, building findings and
//! record bodies) check a [`Budget`] every few thousand characters or every few
//! thousand candidates — one atomic load and one clock read, never per
//! character — and give up with [`Stopped`]. A stopped screening has no
//! verdict: callers get the error, never a partial result that could read
//! `publish`.
//!
//! [`Budget::unlimited`] never stops (the CLI, the library's `screen` calls).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// The screening was stopped before it finished (deadline passed or cancelled);
/// there is no verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("screening stopped before it finished (deadline passed or request cancelled)")]
pub struct Stopped;

/// A deadline and a cancellation flag; both optional.
#[derive(Debug, Clone, Default)]
pub struct Budget {
    deadline: Option<Instant>,
    cancelled: Option<Arc<AtomicBool>>,
}

/// Bytes of text (or units of work) between two checks in a loop.
pub const CHECK_EVERY: usize = 1 << 14;

impl Budget {
    /// A budget that never runs out.
    pub const fn unlimited() -> Budget {
        Budget { deadline: None, cancelled: None }
    }

    /// Stops at `deadline`.
    pub fn with_deadline(mut self, deadline: Instant) -> Budget {
        self.deadline = Some(deadline);
        self
    }

    /// Stops once `flag` is set (by whoever gave up waiting for the result).
    pub fn with_flag(mut self, flag: Arc<AtomicBool>) -> Budget {
        self.cancelled = Some(flag);
        self
    }

    /// `Err(Stopped)` once the deadline has passed or the flag is set.
    #[inline]
    pub fn check(&self) -> Result<(), Stopped> {
        if let Some(f) = &self.cancelled
            && f.load(Ordering::Relaxed)
        {
            return Err(Stopped);
        }
        if let Some(d) = self.deadline
            && Instant::now() >= d
        {
            return Err(Stopped);
        }
        Ok(())
    }

    /// A [`Meter`] that checks this budget every [`CHECK_EVERY`] units.
    pub fn meter(&self) -> Meter<'_> {
        Meter { budget: self, next: CHECK_EVERY, every: CHECK_EVERY }
    }

    /// A [`Meter`] that checks this budget every `every` units.
    pub fn meter_every(&self, every: usize) -> Meter<'_> {
        Meter { budget: self, next: every, every: every.max(1) }
    }
}

/// Checks a [`Budget`] as a loop advances: [`Meter::at`] with the loop's
/// position (a byte offset, a count) checks only when the position has moved
/// `every` units past the last check.
#[derive(Debug)]
pub struct Meter<'a> {
    budget: &'a Budget,
    next: usize,
    every: usize,
}

impl Meter<'_> {
    /// Checks the budget if `pos` is `every` past the last check.
    #[inline]
    pub fn at(&mut self, pos: usize) -> Result<(), Stopped> {
        if pos < self.next {
            return Ok(());
        }
        self.next = pos.saturating_add(self.every);
        self.budget.check()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn an_unlimited_budget_never_stops() {
        let b = Budget::unlimited();
        let mut m = b.meter_every(1);
        assert!((0..1000).all(|i| m.at(i).is_ok()));
        assert_eq!(b.check(), Ok(()));
    }

    #[test]
    fn a_past_deadline_or_a_set_flag_stops() {
        let past = Instant::now() - Duration::from_millis(1);
        assert_eq!(Budget::unlimited().with_deadline(past).check(), Err(Stopped));
        let later = Instant::now() + Duration::from_secs(3600);
        let flag = Arc::new(AtomicBool::new(false));
        let b = Budget::unlimited().with_deadline(later).with_flag(flag.clone());
        assert_eq!(b.check(), Ok(()));
        let mut m = b.meter_every(10);
        assert_eq!(m.at(5), Ok(()));
        flag.store(true, Ordering::Relaxed);
        assert_eq!(m.at(9), Ok(()), "not checked before `every` units");
        assert_eq!(m.at(10), Err(Stopped));
        assert_eq!(b.check(), Err(Stopped));
    }
}
