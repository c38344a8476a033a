//! The circuit breaker for one upstream: a small state machine the food cache owns and asks
//! before every fetch (closed → open after repeated failures or a `Retry-After` → one half-open
//! probe → closed or open again).
//!
//! Written here rather than taken from a crate: the breakers on crates.io (`failsafe`, tower's
//! retry/limit layers) wrap the call and keep their state behind locks and their own clock, while
//! food-mcp's fetches run in spawned tasks that report back to the `FoodCache` actor. The actor
//! owns this value in its state, so there is no lock, the decision ("ask the upstream, or answer
//! from the cache now?") is taken in its mailbox next to the cached copy, time is passed in (tests
//! use tokio's paused clock), and a `Retry-After` can open the breaker for exactly its length.

use std::time::{Duration, Instant};

use super::{SourceError, UpstreamLimits};
use crate::food::model::Source;

/// The longest a `Retry-After` is obeyed: a far-future date must not silence an upstream for days.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60 * 60);

/// What the breaker lets a lookup do.
#[derive(Debug, Clone, PartialEq)]
pub enum Admission {
    /// Ask the upstream.
    Ask,
    /// Ask the upstream as the one probe after a cool-down; its outcome closes or re-opens.
    Probe,
    /// Do not ask: answer from the cache or with this error.
    Refuse(SourceError),
}

#[derive(Debug, Clone, PartialEq)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant, cause: String },
    HalfOpen { probing: bool, cause: String },
}

/// One upstream's breaker.
#[derive(Debug, Clone)]
pub struct Breaker {
    upstream: Source,
    threshold: u32,
    cool_down: Duration,
    state: State,
}

impl Breaker {
    pub fn new(upstream: Source, limits: &UpstreamLimits) -> Breaker {
        Breaker {
            upstream,
            threshold: limits.breaker_failures.max(1),
            cool_down: limits.breaker_cool_down,
            state: State::Closed { failures: 0 },
        }
    }

    /// Whether a lookup at `now` may ask the upstream. A `Probe` must be followed by [`record`]
    /// (the fetch task always reports back, even when it panics).
    ///
    /// [`record`]: Breaker::record
    pub fn admit(&mut self, now: Instant) -> Admission {
        match &self.state {
            State::Closed { .. } => Admission::Ask,
            State::Open { until, cause } if now < *until => {
                Admission::Refuse(self.refusal(cause.clone(), Some(*until - now)))
            }
            State::Open { cause, .. } => {
                self.state = State::HalfOpen {
                    probing: true,
                    cause: cause.clone(),
                };
                Admission::Probe
            }
            State::HalfOpen {
                probing: true,
                cause,
            } => Admission::Refuse(self.refusal(cause.clone(), None)),
            State::HalfOpen { cause, .. } => {
                self.state = State::HalfOpen {
                    probing: true,
                    cause: cause.clone(),
                };
                Admission::Probe
            }
        }
    }

    /// Takes in the outcome of a request that [`admit`](Breaker::admit) let through.
    pub fn record(&mut self, now: Instant, outcome: Result<(), &SourceError>) {
        let err = match outcome {
            Err(err) if err.is_upstream_failure() => err,
            // A definite answer (a food, "not found", "no nutrients") means the upstream works.
            _ => {
                if !matches!(self.state, State::Closed { failures: 0 }) {
                    tracing::info!(upstream = %self.upstream, "upstream answers again; circuit breaker closed");
                }
                self.state = State::Closed { failures: 0 };
                return;
            }
        };
        if let SourceError::RateLimited {
            retry_after: Some(wait),
            ..
        } = err
        {
            let wait = (*wait).min(MAX_RETRY_AFTER);
            tracing::warn!(upstream = %self.upstream, ?wait, "upstream asked to wait (Retry-After)");
            self.state = State::Open {
                until: now + wait,
                cause: err.to_string(),
            };
            return;
        }
        let cause = match &self.state {
            State::Closed { failures } if failures + 1 < self.threshold => {
                self.state = State::Closed {
                    failures: failures + 1,
                };
                return;
            }
            State::Closed { failures } => {
                format!("{} failed requests in a row, the last: {err}", failures + 1)
            }
            // A request admitted before the breaker opened: it is open already.
            State::Open { .. } => return,
            State::HalfOpen { .. } => format!("a retry failed: {err}"),
        };
        tracing::warn!(upstream = %self.upstream, cool_down = ?self.cool_down, %cause, "circuit breaker open");
        self.state = State::Open {
            until: now + self.cool_down,
            cause,
        };
    }

    fn refusal(&self, cause: String, retry_in: Option<Duration>) -> SourceError {
        SourceError::Suspended {
            upstream: self.upstream,
            cause,
            retry_in,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker(threshold: u32) -> Breaker {
        Breaker::new(
            Source::Usda,
            &UpstreamLimits {
                max_body_bytes: 1024,
                max_concurrent_requests: 1,
                breaker_failures: threshold,
                breaker_cool_down: Duration::from_secs(30),
            },
        )
    }

    fn down() -> SourceError {
        SourceError::Unavailable {
            upstream: Source::Usda,
            reason: "HTTP 500".into(),
        }
    }

    fn refused(admission: Admission) -> SourceError {
        match admission {
            Admission::Refuse(err) => err,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn opens_after_the_threshold_and_probes_once_after_the_cool_down() {
        let t0 = Instant::now();
        let mut b = breaker(3);
        for _ in 0..2 {
            assert_eq!(b.admit(t0), Admission::Ask);
            b.record(t0, Err(&down()));
        }
        assert_eq!(b.admit(t0), Admission::Ask, "two failures stay under three");
        b.record(t0, Err(&down()));
        let err = refused(b.admit(t0 + Duration::from_secs(1)));
        assert_eq!(
            err.to_string(),
            "usda is not being asked for now (3 failed requests in a row, the last: usda is \
             unavailable: HTTP 500); next attempt in 29s"
        );
        let later = t0 + Duration::from_secs(30);
        assert_eq!(b.admit(later), Admission::Probe);
        let waiting = refused(b.admit(later));
        assert!(
            waiting.to_string().ends_with("a retry is under way"),
            "{waiting}"
        );
        b.record(later, Ok(()));
        assert_eq!(b.admit(later), Admission::Ask, "the probe closed it");
    }

    #[test]
    fn a_failed_probe_opens_again_for_a_full_cool_down() {
        let t0 = Instant::now();
        let mut b = breaker(1);
        b.record(t0, Err(&down()));
        let t1 = t0 + Duration::from_secs(30);
        assert_eq!(b.admit(t1), Admission::Probe);
        b.record(t1, Err(&down()));
        let err = refused(b.admit(t1 + Duration::from_secs(29)));
        assert!(err.to_string().contains("a retry failed"), "{err}");
        assert_eq!(b.admit(t1 + Duration::from_secs(30)), Admission::Probe);
    }

    #[test]
    fn a_success_resets_the_count_and_answers_on_purpose_are_not_failures() {
        let t0 = Instant::now();
        let mut b = breaker(2);
        b.record(t0, Err(&down()));
        b.record(t0, Ok(()));
        b.record(t0, Err(&down()));
        assert_eq!(b.admit(t0), Admission::Ask, "not two in a row");
        let not_found = SourceError::NotFound {
            upstream: Source::Usda,
            id: "1".into(),
        };
        b.record(t0, Err(&not_found));
        b.record(t0, Err(&down()));
        assert_eq!(b.admit(t0), Admission::Ask, "not found is an answer");
        b.record(t0, Err(&down()));
        assert!(matches!(b.admit(t0), Admission::Refuse(_)));
    }

    #[test]
    fn retry_after_opens_for_its_length_capped_at_an_hour() {
        let t0 = Instant::now();
        let mut b = breaker(5);
        let limited = |secs| SourceError::RateLimited {
            upstream: Source::Usda,
            retry_after: Some(Duration::from_secs(secs)),
        };
        b.record(t0, Err(&limited(30)));
        let err = refused(b.admit(t0 + Duration::from_secs(10)));
        assert_eq!(
            err.to_string(),
            "usda is not being asked for now (usda rate limit reached; retry in 30s); next \
             attempt in 20s"
        );
        assert_eq!(b.admit(t0 + Duration::from_secs(30)), Admission::Probe);
        b.record(t0 + Duration::from_secs(30), Err(&limited(86_400)));
        let t1 = t0 + Duration::from_secs(30) + MAX_RETRY_AFTER;
        assert!(matches!(
            b.admit(t1 - Duration::from_secs(1)),
            Admission::Refuse(_)
        ));
        assert_eq!(b.admit(t1), Admission::Probe);
    }
}
