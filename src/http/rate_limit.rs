//! Per-client-address limits for the OAuth endpoints: a request rate limiter (for /register,
//! /token and the consent page) and the bounds on consent-password guessing (a lockout per
//! address, a back-off server-wide).
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

/// The key both limiters (and the consent form's CSRF token) use for a client address.
pub fn client_key(ip: IpAddr) -> IpAddr {
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
    /// Wrong passwords from all addresses together, within `window`, after which checks slow
    /// down server-wide.
    pub global_failures: u32,
    /// The first server-wide wait past `global_failures`; it doubles with each further failure.
    pub backoff: Duration,
    /// The longest server-wide wait: what an attacker can make the owner wait, at most, per try.
    pub max_backoff: Duration,
}

impl Default for LockoutSettings {
    fn default() -> LockoutSettings {
        LockoutSettings {
            max_failures: 5,
            window: Duration::from_secs(15 * 60),
            lockout: Duration::from_secs(15 * 60),
            global_failures: 20,
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
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

/// Wrong passwords from every address together.
#[derive(Debug, Default)]
struct Global {
    window_start: i64,
    failures: u32,
    /// Past the budget, no attempt begins before this.
    next_at: i64,
}

/// Bounds password guessing on the consent form, per address and server-wide.
///
/// An attempt is counted as a failure the moment it begins, before its (slow) check, in one
/// step with the decision whether it may begin: simultaneous guesses cannot all slip in before
/// the first of them is found wrong. `begin(ip)?` → verify → [`Attempt::succeeded`] or
/// [`Attempt::failed`].
///
/// - Per address: `max_failures` within `window` lock the address out for `lockout`.
/// - Server-wide: past `global_failures` within `window`, one attempt may begin per back-off,
///   which starts at `backoff` and doubles up to `max_backoff`. Many addresses thus cannot
///   guess fast, and none can lock the owner out for longer than `max_backoff` at a time (a
///   flood that takes every slot is answered by `food-mcp owner one-time-code`, which needs no
///   attempt).
///
/// Address entries are bounded by moka (at most [`LOCKOUT_ENTRIES`], each kept no longer than
/// `window + lockout` after its last change); no housekeeping call is needed.
pub struct PasswordLockout {
    settings: LockoutSettings,
    clock: Clock,
    attempts: moka::sync::Cache<IpAddr, Attempts>,
    /// A plain mutex: held for a few comparisons, never across an await; it also makes the
    /// address step and the server-wide step of `begin` one atomic step.
    global: std::sync::Mutex<Global>,
}

/// A password attempt under way, already counted as a failure.
#[must_use = "an attempt ends with succeeded() or failed()"]
pub struct Attempt<'a> {
    lockout: &'a PasswordLockout,
    key: IpAddr,
    /// This attempt used up the address's allowance: if it fails, the address is locked out.
    locks: bool,
}

impl PasswordLockout {
    /// `max_failures` and `global_failures` of 0 count as 1. Times use `clock` (whole seconds),
    /// so tests can move it.
    pub fn new(settings: LockoutSettings, clock: Clock) -> PasswordLockout {
        let settings = LockoutSettings {
            max_failures: settings.max_failures.max(1),
            global_failures: settings.global_failures.max(1),
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
            global: std::sync::Mutex::new(Global::default()),
        }
    }

    /// Begins a password attempt from `ip`, counting it as a failure until it succeeds; or says
    /// how long until one may begin (the address is locked out, or the server-wide back-off
    /// runs). A refused attempt counts nowhere.
    pub fn begin(&self, ip: IpAddr) -> Result<Attempt<'_>, RetryAfter> {
        let now = self.clock.now();
        let key = client_key(ip);
        let mut global = self
            .global
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if now
            >= global
                .window_start
                .saturating_add(secs(self.settings.window))
        {
            *global = Global {
                window_start: now,
                ..Global::default()
            };
        }
        let over_budget = global.failures >= self.settings.global_failures;
        if over_budget && now < global.next_at {
            return Err(retry_after(global.next_at - now));
        }
        let locks = self.count(key, now)?;
        if over_budget {
            let doublings = (global.failures - self.settings.global_failures).min(31);
            let wait = self
                .settings
                .backoff
                .saturating_mul(1 << doublings)
                .min(self.settings.max_backoff);
            global.next_at = now.saturating_add(secs(wait));
        }
        global.failures = global.failures.saturating_add(1);
        Ok(Attempt {
            lockout: self,
            key,
            locks,
        })
    }

    /// Counts one failure for `key` unless it is locked out; answers whether this one starts
    /// the lockout.
    fn count(&self, key: IpAddr, now: i64) -> Result<bool, RetryAfter> {
        let window = secs(self.settings.window);
        let lockout = secs(self.settings.lockout);
        let max_failures = self.settings.max_failures;
        let mut outcome = Ok(false);
        self.attempts.entry(key).and_upsert_with(|current| {
            let current = current.map(|e| e.into_value());
            if let Some(current) = current
                && let Some(until) = current.locked_until.filter(|&until| until > now)
            {
                outcome = Err(retry_after(until - now));
                return current;
            }
            let mut attempts = match current {
                Some(a) if now < a.window_start.saturating_add(window) => a,
                _ => Attempts {
                    window_start: now,
                    failures: 0,
                    locked_until: None,
                },
            };
            attempts.failures = attempts.failures.saturating_add(1);
            if attempts.failures >= max_failures {
                // A new run of failures starts with the lockout.
                outcome = Ok(true);
                attempts = Attempts {
                    window_start: now,
                    failures: 0,
                    locked_until: Some(now.saturating_add(lockout)),
                };
            }
            attempts
        });
        outcome
    }
}

impl Attempt<'_> {
    /// The right password: the address starts over, and the attempt was no failure after all.
    pub fn succeeded(self) {
        self.lockout.attempts.invalidate(&self.key);
        let mut global = self
            .lockout
            .global
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        global.failures = global.failures.saturating_sub(1);
    }

    /// A wrong password (counted when the attempt began); `Err` when it was the one that locked
    /// the address out.
    pub fn failed(self) -> Result<(), RetryAfter> {
        if self.locks {
            Err(RetryAfter(self.lockout.settings.lockout))
        } else {
            Ok(())
        }
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
                global_failures: 1000,
                ..LockoutSettings::default()
            },
            clock.clone(),
        )
    }

    /// One wrong password from `ip`, start to end.
    fn wrong(lockout: &PasswordLockout, ip: IpAddr) -> Result<(), RetryAfter> {
        lockout.begin(ip)?.failed()
    }

    #[test]
    fn locks_out_after_max_failures_until_the_lockout_ends() {
        let clock = Clock::manual(1_000_000);
        let lockout = lockout(&clock);
        let a = ip("203.0.113.9");
        assert_eq!(wrong(&lockout, a), Ok(()));
        assert_eq!(wrong(&lockout, a), Ok(()));
        assert_eq!(
            wrong(&lockout, a),
            Err(RetryAfter(Duration::from_secs(900))),
            "the third failure starts the lockout"
        );
        assert_eq!(
            lockout.begin(a).err(),
            Some(RetryAfter(Duration::from_secs(900)))
        );

        clock.advance(Duration::from_secs(899));
        assert_eq!(
            lockout.begin(a).err(),
            Some(RetryAfter(Duration::from_secs(1)))
        );
        assert!(lockout.begin(ip("203.0.113.10")).is_ok());
        clock.advance(Duration::from_secs(1));
        // The count starts over after a lockout.
        assert_eq!(wrong(&lockout, a), Ok(()));
        assert_eq!(wrong(&lockout, a), Ok(()));
    }

    #[test]
    fn attempts_in_flight_count_before_their_check() {
        let clock = Clock::manual(1_000_000);
        let lockout = lockout(&clock);
        let a = ip("203.0.113.9");
        // Three begin at once (none checked yet): the third uses up the allowance, a fourth
        // may not begin at all — even if it would carry the right password.
        let first = lockout.begin(a).unwrap();
        let second = lockout.begin(a).unwrap();
        let third = lockout.begin(a).unwrap();
        assert!(lockout.begin(a).is_err(), "no fourth check while three run");
        assert_eq!(first.failed(), Ok(()));
        assert_eq!(second.failed(), Ok(()));
        assert!(third.failed().is_err());
        assert!(lockout.begin(a).is_err());
    }

    #[test]
    fn the_last_allowed_attempt_may_still_succeed() {
        let clock = Clock::manual(1_000_000);
        let lockout = lockout(&clock);
        let a = ip("203.0.113.9");
        wrong(&lockout, a).unwrap();
        wrong(&lockout, a).unwrap();
        lockout.begin(a).unwrap().succeeded();
        assert_eq!(wrong(&lockout, a), Ok(()), "success cleared the address");
    }

    #[test]
    fn failures_outside_the_window_are_forgotten() {
        let clock = Clock::manual(1_000_000);
        let lockout = lockout(&clock);
        let a = ip("203.0.113.9");
        wrong(&lockout, a).unwrap();
        wrong(&lockout, a).unwrap();
        clock.advance(Duration::from_secs(600));
        wrong(&lockout, a).unwrap();
        wrong(&lockout, a).unwrap();
        assert!(wrong(&lockout, a).is_err());
    }

    #[test]
    fn success_resets_the_count() {
        let clock = Clock::manual(1_000_000);
        let lockout = lockout(&clock);
        let a = ip("2001:db8::1");
        wrong(&lockout, a).unwrap();
        wrong(&lockout, a).unwrap();
        lockout.begin(a).unwrap().succeeded();
        wrong(&lockout, a).unwrap();
        wrong(&lockout, a).unwrap();
        // Same /64, so the same count.
        assert!(wrong(&lockout, ip("2001:db8::2")).is_err());
        assert!(lockout.begin(a).is_err());
    }

    #[test]
    fn many_addresses_meet_a_server_wide_back_off_that_stays_short() {
        let clock = Clock::manual(1_000_000);
        let lockout = PasswordLockout::new(
            LockoutSettings {
                max_failures: 5,
                window: Duration::from_secs(3600),
                lockout: Duration::from_secs(900),
                global_failures: 10,
                backoff: Duration::from_secs(2),
                max_backoff: Duration::from_secs(30),
            },
            clock.clone(),
        );
        let address = |i: u8| IpAddr::V4(Ipv4Addr::new(198, 51, 100, i));
        // Ten addresses, one guess each, use the budget; the eleventh begins and starts the wait.
        for i in 0..11 {
            wrong(&lockout, address(i)).unwrap();
        }
        let fresh = address(200);
        assert_eq!(
            lockout.begin(fresh).err(),
            Some(RetryAfter(Duration::from_secs(2)))
        );
        // One attempt per wait; the waits double — 2, 4, 8, 16 — and stop at 30 s.
        for (k, wait) in [2, 4, 8, 16, 30, 30].into_iter().enumerate() {
            clock.advance(Duration::from_secs(wait));
            wrong(&lockout, address(100 + k as u8)).unwrap();
            assert!(lockout.begin(fresh).is_err(), "waiting after {wait}");
        }
        clock.advance(Duration::from_secs(29));
        assert_eq!(
            lockout.begin(fresh).err(),
            Some(RetryAfter(Duration::from_secs(1)))
        );
        clock.advance(Duration::from_secs(1));
        lockout.begin(fresh).unwrap().succeeded();
        // After the window the budget is whole again.
        clock.advance(Duration::from_secs(3600));
        for i in 0..10 {
            wrong(&lockout, address(i)).unwrap();
        }
    }
}
