//! Failed authentication is throttled per client address (with `governor`, as the service's
//! rate limits): a burst of failures is answered 401, the next one 429, and then every request
//! from that address that needs credentials is answered 429 — without looking at its
//! credentials, so that a guess cannot be tried while throttled — until the wait is over.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::response::{IntoResponse, Response};
use governor::clock::{Clock as _, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use super::error::ApiError;
use crate::error::Error;

/// A client: its IP address, or `None` when the router does not know it (every such request
/// shares one budget).
type Client = Option<IpAddr>;

type Keyed = RateLimiter<Client, DefaultKeyedStateStore<Client>, DefaultClock>;

/// Clients kept before idle ones are swept.
const SWEEP_THRESHOLD: usize = 10_000;

/// The failed-authentication throttle of one router.
#[derive(Debug)]
pub(super) struct AuthThrottle {
    failures: Option<Keyed>,
    blocked: Mutex<HashMap<Client, Instant>>,
}

impl AuthThrottle {
    /// `limit` failures in a burst, regained evenly over `window`; `limit` 0 disables.
    pub(super) fn new(limit: u32, window: Duration) -> Self {
        let failures = NonZeroU32::new(limit).and_then(|limit| {
            let quota = Quota::with_period(window / limit.get())?.allow_burst(limit);
            Some(RateLimiter::keyed(quota))
        });
        Self {
            failures,
            blocked: Mutex::new(HashMap::new()),
        }
    }

    /// Refused while `client` is throttled.
    pub(super) fn check(&self, client: Client) -> Result<(), Throttled> {
        if self.failures.is_none() {
            return Ok(());
        }
        let mut blocked = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
        let Some(&until) = blocked.get(&client) else {
            return Ok(());
        };
        let now = Instant::now();
        if until <= now {
            blocked.remove(&client);
            return Ok(());
        }
        Err(Throttled(until - now))
    }

    /// Counts one failed authentication by `client`; refused (and `client` throttled) once
    /// its budget is spent.
    pub(super) fn failed(&self, client: Client) -> Result<(), Throttled> {
        let Some(failures) = &self.failures else {
            return Ok(());
        };
        if failures.len() > SWEEP_THRESHOLD {
            failures.retain_recent();
            failures.shrink_to_fit();
        }
        let Err(not_until) = failures.check_key(&client) else {
            return Ok(());
        };
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        let now = Instant::now();
        let mut blocked = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
        if blocked.len() > SWEEP_THRESHOLD {
            blocked.retain(|_, until| *until > now);
        }
        blocked.insert(client, now + wait);
        Err(Throttled(wait))
    }
}

/// A throttled client and how long it has to wait: 429 with `Retry-After`.
#[derive(Debug)]
pub(super) struct Throttled(Duration);

impl IntoResponse for Throttled {
    fn into_response(self) -> Response {
        ApiError(Error::RateLimited {
            limit: "too many failed authentication attempts".into(),
            retry_after: self.0,
        })
        .into_response()
    }
}
