//! Wall-clock time as unix seconds, replaceable in tests.
//!
//! Stored expiry times must be wall-clock (they outlive the process), so tokio's paused clock
//! cannot drive them; tests use [`Clock::manual`] and move it forward instead.

use std::sync::{
    Arc,
    atomic::{AtomicI64, Ordering},
};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Clone, Debug, Default)]
pub struct Clock {
    manual: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock { manual: None }
    }

    /// A clock that stands still at `unix_secs` until [`Clock::advance`] moves it.
    pub fn manual(unix_secs: i64) -> Clock {
        Clock {
            manual: Some(Arc::new(AtomicI64::new(unix_secs))),
        }
    }

    /// Now, in unix seconds.
    pub fn now(&self) -> i64 {
        match &self.manual {
            Some(t) => t.load(Ordering::SeqCst),
            None => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0),
        }
    }

    /// Moves a manual clock forward; no effect on the system clock.
    pub fn advance(&self, by: Duration) {
        if let Some(t) = &self.manual {
            t.fetch_add(secs(by), Ordering::SeqCst);
        }
    }
}

/// A duration in whole seconds, saturating (config durations fit easily).
pub fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}
