//! Which session an egress belongs to, for webhooks and the reconciler alike: by egress id,
//! or (before the id is saved) by the `sessionId` of our own overlay page.

use super::StreamingService;
use crate::error::Result;
use crate::overlay_url::OverlayUrl;
use crate::session::StreamSession;

impl StreamingService {
    /// The session of an egress: by egress id, or (before the id is saved) by the
    /// `sessionId` in the URL of our own overlay page.
    pub(super) async fn session_for_egress(
        &self,
        egress_id: &str,
        web_url: Option<&str>,
    ) -> Result<Option<StreamSession>> {
        if let Some(session) = self.inner.store.find_by_egress(egress_id).await? {
            return Ok(Some(session));
        }
        let app_url = &self.inner.config.app_url;
        let Some(id) = web_url.and_then(|url| OverlayUrl::session_id_if_ours(app_url, url)) else {
            return Ok(None);
        };
        self.inner.store.get_session(&id).await
    }

    /// Whether `url` is an overlay page of this deployment.
    pub(super) fn is_our_overlay(&self, url: &str) -> bool {
        OverlayUrl::is_ours(&self.inner.config.app_url, url)
    }
}
