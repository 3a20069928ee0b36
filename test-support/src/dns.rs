//! A name table for the destination policy: test suites run without a network, so the host
//! names they stream to resolve through this table instead of the system resolver.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use ltcg_streaming_core::destination_policy::{DestinationPolicy, Resolve};

/// Public (documentation-range) address the suites' ingest names resolve to.
pub const PUBLIC_TEST_ADDR: &str = "203.0.113.10";

/// Names the suites use for custom ingest servers.
pub const INGEST_NAMES: [&str; 9] = [
    "example.com",
    "ingest.example",
    "ingest.example.com",
    "ingest.inj3ct.example",
    "custom.twitch.ingest",
    "global-live.mux.com",
    "ingest.kick.alt",
    "ingest.x.com",
    "evil.example",
];

/// Answers from a table; each name has a queue of answers (the last one repeats), so a test
/// can make a name change its address between lookups (DNS rebinding). Unknown names do
/// not resolve.
#[derive(Debug, Default)]
pub struct FixedResolver {
    answers: Mutex<HashMap<String, Vec<Vec<IpAddr>>>>,
}

impl FixedResolver {
    /// The suites' ingest names, all at [`PUBLIC_TEST_ADDR`].
    pub fn with_ingest_names() -> Arc<Self> {
        let resolver = Self::default();
        for name in INGEST_NAMES {
            resolver.answer(name, &[PUBLIC_TEST_ADDR]);
        }
        Arc::new(resolver)
    }

    /// Queues one answer for `name` (after the ones already queued).
    pub fn answer(&self, name: &str, addrs: &[&str]) {
        let addrs = addrs.iter().map(|a| a.parse().expect("an IP")).collect();
        self.answers
            .lock()
            .unwrap()
            .entry(name.to_ascii_lowercase())
            .or_default()
            .push(addrs);
    }
}

#[async_trait]
impl Resolve for FixedResolver {
    async fn resolve(&self, host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
        let mut answers = self.answers.lock().unwrap();
        let queue = answers
            .get_mut(&host.to_ascii_lowercase())
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "unknown name"))?;
        let addrs = if queue.len() > 1 {
            queue.remove(0)
        } else {
            queue[0].clone()
        };
        Ok(addrs
            .into_iter()
            .map(|ip| SocketAddr::new(ip, port))
            .collect())
    }
}

/// The default policy (public addresses only) over `resolver`.
pub fn policy_with(resolver: Arc<FixedResolver>) -> DestinationPolicy {
    DestinationPolicy::public_only().with_resolver(resolver)
}

/// The default policy over the suites' ingest names.
pub fn test_policy() -> DestinationPolicy {
    policy_with(FixedResolver::with_ingest_names())
}
