//! Per-client-address limits for the OAuth endpoints: a request rate limiter (for /register,
//! /token and the consent POST) and a lockout after repeated wrong consent passwords.
//!
//! Both key on [`client_key`]: an IPv4 address as is, an IPv6 address by its /64 network (one
//! subscriber usually holds a whole /64, so per-address keys would be free to rotate through).

use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock as GovernorClock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::clock::{Clock, secs};

/// How long the caller should wait before trying again; becomes a `Retry-After` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

impl RetryAfter {
    /// Whole seconds for `Retry-After`, rounded up and at least 1 (0 would invite an instant retry).
    pub fn header_secs(&self) -> u64 {
        let whole = self.0.as_secs();
        let rounded = if self.0.subsec_nanos() > 0 {
            whole.saturating_add(1)
        } else {
            whole
        };
        rounded.max(1)
    }
}

/// The key both limiters use for a client address.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            // A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d.
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !u128::from(u64::MAX))),
        },
    }
}

/// A per-address request rate limit (GCRA: a burst of `n`, refilled evenly over a minute).
///
/// Memory grows with the number of distinct addresses seen; call [`IpRateLimiter::retain_recent`]
/// periodically (every minute, from a `tokio::time::interval` task) to drop addresses whose
/// allowance is full again.
pub struct IpRateLimiter<C: GovernorClock = DefaultClock> {
    limiter: RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, C, NoOpMiddleware<C::Instant>>,
}

impl IpRateLimiter {
    /// `n` requests a minute per address, all of which may come at once. `n = 0` counts as 1:
    /// a limiter that refuses everything would only be a misconfiguration.
    pub fn per_minute(n: u32) -> IpRateLimiter {
        IpRateLimiter::with_clock(n, DefaultClock::default())
    }
}

impl<C: GovernorClock> IpRateLimiter<C> {
    fn with_clock(n: u32, clock: C) -> IpRateLimiter<C> {
        let n = NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        IpRateLimiter {
            limiter: RateLimiter::new(
                Quota::per_minute(n),
                DefaultKeyedStateStore::default(),
                clock,
            ),
        }
    }

    /// Takes one request from `ip`'s allowance, or says how long until the next one is allowed.
    pub fn check(&self, ip: IpAddr) -> Result<(), RetryAfter> {
        self.limiter
            .check_key(&client_key(ip))
            .map_err(|not_until| RetryAfter(not_until.wait_time_from(self.limiter.clock().now())))
    }

    /// Forgets addresses whose allowance has fully refilled; see the type's documentation.
    pub fn retain_recent(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// Settings of [`PasswordLockout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutSettings {
    /// Wrong passwords from one address, within `window`, that start a lockout.
    pub max_failures: u32,
    /// Failures older than this (counted from the first of a run) are forgotten.
    pub window: Duration,
    /// How long a locked-out address is refused without its password being checked.
    pub lockout: Duration,
}

impl Default for LockoutSettings {
    fn default() -> LockoutSettings {
        LockoutSettings {
            max_failures: 5,
            window: Duration::from_secs(15 * 60),
            lockout: Duration::from_secs(15 * 60),
        }
    }
}

/// Most addresses the lockout table remembers; moka evicts the least useful beyond it.
const LOCKOUT_ENTRIES: u64 = 10_000;

/// Longest an address stays in the lockout table.
const MAX_ENTRY_TTL: Duration = Duration::from_secs(366 * 24 * 60 * 60);

/// One address's recent wrong passwords.
#[derive(Debug, Clone, Copy)]
struct Attempts {
    window_start: i64,
    failures: u32,
    locked_until: Option<i64>,
}

/// Locks an address out of the consent form after too many wrong passwords.
///
/// The caller checks before verifying a password (so a locked-out address never gets an answer
/// about it) and records the outcome after:
/// `check(ip)?` → verify → `record_failure(ip)` or `record_success(ip)`.
///
/// Memory is bounded by moka (at most [`LOCKOUT_ENTRIES`] addresses, each kept no longer than
/// `window + lockout` after its last failure); no housekeeping call is needed.
pub struct PasswordLockout {
    settings: LockoutSettings,
    clock: Clock,
    attempts: moka::sync::Cache<IpAddr, Attempts>,
}

impl PasswordLockout {
    /// `max_failures = 0` counts as 1. Times use `clock` (whole seconds), so tests can move it.
    pub fn new(settings: LockoutSettings, clock: Clock) -> PasswordLockout {
        let settings = LockoutSettings {
            max_failures: settings.max_failures.max(1),
            ..settings
        };
        let attempts = moka::sync::Cache::builder()
            .max_capacity(LOCKOUT_ENTRIES)
            // An entry means nothing once both its window and any lockout have passed (moka
            // refuses a time to live over 1000 years, hence the cap).
            .time_to_live(
                settings
                    .window
                    .saturating_add(settings.lockout)
                    .min(MAX_ENTRY_TTL),
            )
            .build();
        PasswordLockout {
            settings,
            clock,
            attempts,
        }
    }

    /// Whether `ip` may try a password now.
    pub fn check(&self, ip: IpAddr) -> Result<(), RetryAfter> {
        let now = self.clock.now();
        match self
            .attempts
            .get(&client_key(ip))
            .and_then(|a| a.locked_until)
        {
            Some(until) if until > now => Err(retry_after(until - now)),
            _ => Ok(()),
        }
    }

    /// Counts a wrong password; returns `Err` when this one starts a lockout.
    pub fn record_failure(&self, ip: IpAddr) -> Result<(), RetryAfter> {
        let now = self.clock.now();
        let window = secs(self.settings.window);
        let lockout = secs(self.settings.lockout);
        let max_failures = self.settings.max_failures;
        let entry = self
            .attempts
            .entry(client_key(ip))
            .and_upsert_with(|current| {
                let current = current.map(|e| e.into_value());
                let mut attempts = match current {
                    Some(a) if now < a.window_start.saturating_add(window) => a,
                    // A new window, but a lockout still running stays.
                    _ => Attempts {
                        window_start: now,
                        failures: 0,
                        locked_until: current.and_then(|a| a.locked_until),
                    },
                };
                attempts.failures = attempts.failures.saturating_add(1);
                if attempts.failures >= max_failures {
                    // A new run of failures starts with the lockout.
                    attempts = Attempts {
                        window_start: now,
                        failures: 0,
                        locked_until: Some(now.saturating_add(lockout)),
                    };
                }
                attempts
            });
        match entry.into_value().locked_until {
            Some(until) if until > now => Err(retry_after(until - now)),
            _ => Ok(()),
        }
    }

    /// A right password clears the address's failures.
    pub fn record_success(&self, ip: IpAddr) {
        self.attempts.invalidate(&client_key(ip));
    }
}

fn retry_after(secs: i64) -> RetryAfter {
    RetryAfter(Duration::from_secs(u64::try_from(secs).unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;
    use std::net::Ipv4Addr;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn rate_limit_is_hit_and_recovers() {
        let clock = FakeRelativeClock::default();
        let limiter = IpRateLimiter::with_clock(3, clock.clone());
        let a = ip("203.0.113.7");
        for _ in 0..3 {
            assert_eq!(limiter.check(a), Ok(()));
        }
        // Three a minute: one request's allowance comes back every 20 s.
        let wait = limiter.check(a).unwrap_err();
        assert_eq!(wait, RetryAfter(Duration::from_secs(20)));
        assert_eq!(wait.header_secs(), 20);

        clock.advance(Duration::from_secs(19));
        assert_eq!(limiter.check(a).unwrap_err().header_secs(), 1);
        clock.advance(Duration::from_secs(1));
        assert_eq!(limiter.check(a), Ok(()));
        assert!(limiter.check(a).is_err());

        clock.advance(Duration::from_secs(60));
        for _ in 0..3 {
            assert_eq!(limiter.check(a), Ok(()));
        }
    }

    #[test]
    fn addresses_are_limited_independently() {
        let limiter = IpRateLimiter::with_clock(1, FakeRelativeClock::default());
        assert_eq!(limiter.check(ip("192.0.2.1")), Ok(()));
        assert!(limiter.check(ip("192.0.2.1")).is_err());
        assert_eq!(limiter.check(ip("192.0.2.2")), Ok(()));
        assert_eq!(limiter.check(ip("2001:db8:1::1")), Ok(()));
        assert_eq!(limiter.check(ip("2001:db8:2::1")), Ok(()));
    }

    #[test]
    fn ipv6_addresses_share_their_64_and_mapped_ipv4_is_ipv4() {
        let limiter = IpRateLimiter::with_clock(1, FakeRelativeClock::default());
        assert_eq!(limiter.check(ip("2001:db8:1:2::1")), Ok(()));
        assert!(limiter.check(ip("2001:db8:1:2:ffff::9")).is_err());
        assert_eq!(limiter.check(ip("198.51.100.4")), Ok(()));
        assert!(limiter.check(ip("::ffff:198.51.100.4")).is_err());
    }

    #[test]
    fn retain_recent_forgets_refilled_addresses() {
        let clock = FakeRelativeClock::default();
        let limiter = IpRateLimiter::with_clock(2, clock.clone());
        for i in 0..50u8 {
            limiter
                .check(IpAddr::V4(Ipv4Addr::new(10, 0, 0, i)))
                .unwrap();
        }
        assert_eq!(limiter.limiter.len(), 50);
        clock.advance(Duration::from_secs(61));
        limiter.retain_recent();
        assert_eq!(limiter.limiter.len(), 0);
    }

    #[test]
    fn zero_per_minute_still_allows_one() {
        let limiter = IpRateLimiter::with_clock(0, FakeRelativeClock::default());
        assert_eq!(limiter.check(ip("192.0.2.1")), Ok(()));
        assert!(limiter.check(ip("192.0.2.1")).is_err());
    }

    #[test]
    fn retry_after_header_rounds_up_to_at_least_one_second() {
        assert_eq!(RetryAfter(Duration::ZERO).header_secs(), 1);
        assert_eq!(RetryAfter(Duration::from_millis(1500)).header_secs(), 2);
        assert_eq!(RetryAfter(Duration::from_secs(3)).header_secs(), 3);
    }

    fn lockout(clock: &Clock) -> PasswordLockout {
        PasswordLockout::new(
            LockoutSettings {
                max_failures: 3,
                window: Duration::from_secs(600),
                lockout: Duration::from_secs(900),
            },
            clock.clone(),
        )
    }

    #[test]
    fn locks_out_after_max_failures_until_the_lockout_ends() {
        let clock = Clock::manual(1_000_000);
        let lockout = lockout(&clock);
        let a = ip("203.0.113.9");
        assert_eq!(lockout.record_failure(a), Ok(()));
        assert_eq!(lockout.record_failure(a), Ok(()));
        assert_eq!(lockout.check(a), Ok(()));
        assert_eq!(
            lockout.record_failure(a),
            Err(RetryAfter(Duration::from_secs(900)))
        );
        assert_eq!(lockout.check(a), Err(RetryAfter(Duration::from_secs(900))));

        clock.advance(Duration::from_secs(899));
        assert_eq!(lockout.check(a), Err(RetryAfter(Duration::from_secs(1))));
        assert!(lockout.check(ip("203.0.113.10")).is_ok());
        clock.advance(Duration::from_secs(1));
        assert_eq!(lockout.check(a), Ok(()));
        // The count starts over after a lockout.
        assert_eq!(lockout.record_failure(a), Ok(()));
        assert_eq!(lockout.check(a), Ok(()));
    }

    #[test]
    fn failures_outside_the_window_are_forgotten() {
        let clock = Clock::manual(1_000_000);
        let lockout = lockout(&clock);
        let a = ip("203.0.113.9");
        lockout.record_failure(a).unwrap();
        lockout.record_failure(a).unwrap();
        clock.advance(Duration::from_secs(600));
        lockout.record_failure(a).unwrap();
        lockout.record_failure(a).unwrap();
        assert_eq!(lockout.check(a), Ok(()));
        assert!(lockout.record_failure(a).is_err());
    }

    #[test]
    fn success_resets_the_count() {
        let clock = Clock::manual(1_000_000);
        let lockout = lockout(&clock);
        let a = ip("2001:db8::1");
        lockout.record_failure(a).unwrap();
        lockout.record_failure(a).unwrap();
        lockout.record_success(a);
        lockout.record_failure(a).unwrap();
        lockout.record_failure(a).unwrap();
        assert_eq!(lockout.check(a), Ok(()));
        // Same /64, so the same count.
        assert!(lockout.record_failure(ip("2001:db8::2")).is_err());
        assert!(lockout.check(a).is_err());
    }
}
