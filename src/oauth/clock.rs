//! Wall-clock time in Unix seconds, as stored with tokens, codes and clients.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch.
pub type UnixSeconds = i64;

/// Where "now" comes from. Actors take one in their arguments so tests can move time.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    anchor: Option<(SystemTime, tokio::time::Instant)>,
}

impl Clock {
    /// Reads the system wall clock on every call (production).
    pub fn system() -> Clock {
        Clock { anchor: None }
    }

    /// The wall clock at creation, advanced by tokio's clock: with `tokio::time::pause()` a test
    /// moves time with `tokio::time::advance` instead of sleeping.
    pub fn following_tokio() -> Clock {
        Clock {
            anchor: Some((SystemTime::now(), tokio::time::Instant::now())),
        }
    }

    pub fn now(&self) -> UnixSeconds {
        let now = match self.anchor {
            None => SystemTime::now(),
            Some((wall, instant)) => wall.checked_add(instant.elapsed()).unwrap_or(wall),
        };
        // A clock before 1970 is a broken host; reading it as the epoch expires everything.
        now.duration_since(UNIX_EPOCH).map_or(0, seconds)
    }
}

/// A duration as whole seconds, saturating (configured TTLs are far below `i64::MAX` seconds).
pub fn seconds(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn following_tokio_moves_only_when_advanced() {
        let clock = Clock::following_tokio();
        let start = clock.now();
        tokio::time::advance(Duration::from_secs(3600)).await;
        assert_eq!(clock.now() - start, 3600);
    }
}
