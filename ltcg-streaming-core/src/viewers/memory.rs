//! [`MemoryViewerCounts`]: counts set by hand.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::{ChannelViewers, PlatformFailure, ViewerCounts};
use crate::platform::Platform;

/// A [`ViewerCounts`] whose answers are set by hand (tests, demos): a channel is live with
/// the count last set, or offline.
#[derive(Debug)]
pub struct MemoryViewerCounts {
    platform: Platform,
    counts: Mutex<HashMap<String, u64>>,
    failure: Mutex<Option<PlatformFailure>>,
}

impl MemoryViewerCounts {
    /// An empty source for `platform` (every channel offline).
    pub fn new(platform: Platform) -> Self {
        Self {
            platform,
            counts: Mutex::new(HashMap::new()),
            failure: Mutex::new(None),
        }
    }

    /// `channel` is live with `viewers`; `None` takes it offline.
    pub fn set(&self, channel: &str, viewers: Option<u64>) {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        match viewers {
            Some(n) => counts.insert(channel.to_ascii_lowercase(), n),
            None => counts.remove(&channel.to_ascii_lowercase()),
        };
    }

    /// Every fetch fails with `failure` until it is cleared with `None`.
    pub fn fail_with(&self, failure: Option<PlatformFailure>) {
        *self.failure.lock().unwrap_or_else(|p| p.into_inner()) = failure;
    }
}

#[async_trait]
impl ViewerCounts for MemoryViewerCounts {
    fn platform(&self) -> Platform {
        self.platform
    }

    async fn fetch(&self, channels: &[String]) -> Result<Vec<ChannelViewers>, PlatformFailure> {
        if let Some(failure) = self
            .failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            return Err(failure);
        }
        let counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        Ok(channels
            .iter()
            .map(|c| {
                let viewers = counts.get(&c.to_ascii_lowercase()).copied();
                ChannelViewers {
                    channel: c.clone(),
                    live: viewers.is_some(),
                    viewers,
                    started_at: None,
                    thumbnail_url: None,
                }
            })
            .collect())
    }
}
