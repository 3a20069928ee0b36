//! Rate limits per actor (every call) and per entity (stream starts), with `governor`.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock as _, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use super::Actor;
use crate::error::{Error, Result};
use crate::session::Entity;

type Keyed = RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock>;

/// Keys kept before idle ones are swept.
const SWEEP_THRESHOLD: usize = 10_000;

/// Rate-limit settings. `0` per minute disables that limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// Calls per minute per user or agent (internal callers are exempt).
    pub calls_per_minute: u32,
    /// Calls allowed in a burst.
    pub call_burst: u32,
    /// Stream starts per minute per entity (user or agent being streamed).
    pub starts_per_minute: u32,
    /// Starts allowed in a burst.
    pub start_burst: u32,
}

impl Default for RateLimitConfig {
    /// 600 calls/min (burst 120) per caller; 10 starts/min (burst 5) per streamed entity.
    /// The table in the core's README explains the choice.
    fn default() -> Self {
        Self {
            calls_per_minute: 600,
            call_burst: 120,
            starts_per_minute: 10,
            start_burst: 5,
        }
    }
}

impl RateLimitConfig {
    /// No limits at all.
    pub fn disabled() -> Self {
        Self {
            calls_per_minute: 0,
            call_burst: 0,
            starts_per_minute: 0,
            start_burst: 0,
        }
    }
}

/// One keyed limiter and how its limit reads in an error.
#[derive(Debug)]
struct Limiter {
    keyed: Keyed,
    /// E.g. `at most 10 starts per minute per stream entity`.
    limit: String,
}

/// The live limiters.
#[derive(Debug)]
pub(crate) struct RateLimits {
    calls: Option<Limiter>,
    starts: Option<Limiter>,
}

/// A limiter of `per_minute` (`0`: none) with `burst`; `what` is `(one, many, per)`, e.g.
/// `("call", "calls", "caller")`.
fn limiter(per_minute: u32, burst: u32, what: (&str, &str, &str)) -> Option<Limiter> {
    let rate = NonZeroU32::new(per_minute)?;
    let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
    let (one, many, per) = what;
    let noun = if per_minute == 1 { one } else { many };
    Some(Limiter {
        keyed: RateLimiter::keyed(Quota::per_minute(rate).allow_burst(burst)),
        limit: format!("at most {per_minute} {noun} per minute per {per}"),
    })
}

fn check(limiter: &Option<Limiter>, key: String, name: &'static str) -> Result<()> {
    let Some(Limiter {
        keyed: limiter,
        limit,
    }) = limiter
    else {
        return Ok(());
    };
    if limiter.len() > SWEEP_THRESHOLD {
        limiter.retain_recent();
        limiter.shrink_to_fit();
    }
    limiter.check_key(&key).map_err(|not_until| {
        crate::telemetry::rate_limited(name);
        Error::RateLimited {
            limit: limit.clone(),
            retry_after: not_until
                .wait_time_from(DefaultClock::default().now())
                .max(Duration::from_millis(1)),
        }
    })
}

impl RateLimits {
    pub(crate) fn new(config: RateLimitConfig) -> Self {
        Self {
            calls: limiter(
                config.calls_per_minute,
                config.call_burst,
                ("call", "calls", "caller"),
            ),
            starts: limiter(
                config.starts_per_minute,
                config.start_burst,
                ("start", "starts", "stream entity"),
            ),
        }
    }

    /// Counts one call by `actor`.
    pub(crate) fn call(&self, actor: &Actor) -> Result<()> {
        match actor {
            Actor::Internal => Ok(()),
            other => check(&self.calls, other.to_string(), "calls"),
        }
    }

    /// Counts one stream start for `entity` (a start that reuses the active session is not
    /// one).
    pub(crate) fn start(&self, entity: &Entity) -> Result<()> {
        check(&self.starts, entity.to_string(), "starts")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_then_limits_with_retry_after() {
        let limits = RateLimits::new(RateLimitConfig {
            calls_per_minute: 60,
            call_burst: 3,
            ..RateLimitConfig::disabled()
        });
        let user = Actor::User("u1".into());
        for _ in 0..3 {
            limits.call(&user).unwrap();
        }
        match limits.call(&user).unwrap_err() {
            Error::RateLimited { retry_after, .. } => {
                assert!(retry_after > Duration::ZERO && retry_after <= Duration::from_secs(1))
            }
            other => panic!("{other:?}"),
        }
        limits.call(&Actor::User("u2".into())).unwrap();
        for _ in 0..100 {
            limits.call(&Actor::Internal).unwrap();
        }
        let entity = Entity::agent("a1").unwrap();
        for _ in 0..100 {
            limits.start(&entity).unwrap();
        }
    }
}
