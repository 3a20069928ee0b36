//! [`OverlayUrl`]: the address of a session's overlay page, the page the egress renders:
//! `{app_url}/stream/overlay?sessionId={id}&token={token}`.
//!
//! The one home of that format: the service builds it, the HTTP router serves
//! [`OverlayUrl::PATH`], and webhooks and the reconciler recognise our own pages with
//! [`OverlayUrl::session_id_if_ours`].

use std::fmt;

use crate::session::SessionId;

/// A session's overlay page URL, access token included: a credential.
///
/// `Debug` shows the token as `{...}`, and there is no `Display`, so the URL does not reach
/// a log by accident; [`OverlayUrl::as_str`] gives it whole, for the egress and for the
/// caller that asked for it.
///
/// ```
/// use ltcg_streaming_core::{OverlayUrl, SessionId};
/// let id = SessionId::parse("ses_1")?;
/// let url = OverlayUrl::new("https://app.example.com", &id, "eyJ.x.y");
/// assert_eq!(
///     url.as_str(),
///     "https://app.example.com/stream/overlay?sessionId=ses_1&token=eyJ.x.y"
/// );
/// assert_eq!(
///     OverlayUrl::session_id_if_ours("https://app.example.com", url.as_str()),
///     Some(id)
/// );
/// assert!(!format!("{url:?}").contains("eyJ"));
/// # Ok::<(), ltcg_streaming_core::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct OverlayUrl {
    url: String,
    /// Byte offset of the token in `url`.
    token_at: usize,
}

impl OverlayUrl {
    /// The overlay page's path under the app URL (the HTTP router serves the page there).
    pub const PATH: &'static str = "/stream/overlay";

    /// The overlay page of `session_id` at `app_url` (no trailing `/`), opened by `token`.
    /// Session ids and overlay tokens are URL-safe, so nothing is escaped.
    pub fn new(app_url: &str, session_id: &SessionId, token: &str) -> Self {
        let mut url = format!("{app_url}{}?sessionId={session_id}&token=", Self::PATH);
        let token_at = url.len();
        url.push_str(token);
        Self { url, token_at }
    }

    /// The whole URL, token included. Do not log it.
    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// The whole URL as a `String`, token included.
    pub fn into_string(self) -> String {
        self.url
    }

    /// Whether `url` is an overlay page of the deployment at `app_url`: `app_url` exactly,
    /// then [`OverlayUrl::PATH`], then a query. Lookalike hosts
    /// (`https://app.example.com.evil/…`) and paths (`/stream/overlayX`,
    /// `/stream/overlay/events`) are not ours.
    pub fn is_ours(app_url: &str, url: &str) -> bool {
        url.strip_prefix(app_url)
            .and_then(|rest| rest.strip_prefix(Self::PATH))
            .is_some_and(|rest| rest.starts_with('?'))
    }

    /// The `sessionId` of `url` when it is one of our overlay pages
    /// ([`OverlayUrl::is_ours`]) and the id is valid; `None` otherwise.
    pub fn session_id_if_ours(app_url: &str, url: &str) -> Option<SessionId> {
        if !Self::is_ours(app_url, url) {
            return None;
        }
        session_id_in_url(url).and_then(|id| SessionId::parse(id).ok())
    }
}

impl fmt::Debug for OverlayUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let before_token = self.url.get(..self.token_at).unwrap_or_default();
        f.debug_tuple("OverlayUrl")
            .field(&format!("{before_token}{{...}}"))
            .finish()
    }
}

/// The non-empty `sessionId` query parameter of `url`, whoever's page it is (use
/// [`OverlayUrl::session_id_if_ours`] to accept only ours).
pub fn session_id_in_url(url: &str) -> Option<&str> {
    let query = url.split_once('?')?.1.split('#').next()?;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("sessionId="))
        .filter(|id| !id.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP: &str = "https://app.example.com";

    fn id() -> SessionId {
        SessionId::parse("ses_1").unwrap()
    }

    #[test]
    fn builds_the_page_url() {
        let url = OverlayUrl::new(APP, &id(), "tok.en.value");
        assert_eq!(
            url.as_str(),
            "https://app.example.com/stream/overlay?sessionId=ses_1&token=tok.en.value"
        );
        assert_eq!(url.clone().into_string(), url.as_str());
    }

    #[test]
    fn recognises_our_pages() {
        let built = OverlayUrl::new(APP, &id(), "t");
        for url in [
            built.as_str(),
            "https://app.example.com/stream/overlay?token=t&sessionId=ses_1",
            "https://app.example.com/stream/overlay?sessionId=ses_1#frag",
        ] {
            assert!(OverlayUrl::is_ours(APP, url), "{url}");
            assert_eq!(
                OverlayUrl::session_id_if_ours(APP, url),
                Some(id()),
                "{url}"
            );
        }
    }

    #[test]
    fn refuses_foreign_and_lookalike_urls() {
        for url in [
            "https://app.example.com.evil/stream/overlay?sessionId=ses_1&token=t",
            "https://app.example.com@evil/stream/overlay?sessionId=ses_1&token=t",
            "https://evil.example/stream/overlay?sessionId=ses_1&token=t",
            "http://app.example.com/stream/overlay?sessionId=ses_1&token=t",
            "https://app.example.com/stream/overlayX?sessionId=ses_1&token=t",
            "https://app.example.com/stream/overlay/events?sessionId=ses_1&token=t",
            "https://app.example.com/stream/overlay.js?sessionId=ses_1",
            "https://app.example.com/stream/overlay",
            "https://app.example.com/x/stream/overlay?sessionId=ses_1",
        ] {
            assert!(!OverlayUrl::is_ours(APP, url), "{url}");
            assert_eq!(OverlayUrl::session_id_if_ours(APP, url), None, "{url}");
        }
    }

    #[test]
    fn our_page_without_a_valid_id_has_no_session() {
        for url in [
            "https://app.example.com/stream/overlay?token=t",
            "https://app.example.com/stream/overlay?sessionId=&token=t",
            "https://app.example.com/stream/overlay?sessionId=a%20b&token=t",
        ] {
            assert!(OverlayUrl::is_ours(APP, url), "{url}");
            assert_eq!(OverlayUrl::session_id_if_ours(APP, url), None, "{url}");
        }
    }

    #[test]
    fn any_page_says_its_session_id() {
        assert_eq!(
            session_id_in_url("https://evil.example/p?x=1&sessionId=abc#sessionId=no"),
            Some("abc")
        );
        assert_eq!(session_id_in_url("https://a/p?sessionId="), None);
        assert_eq!(session_id_in_url("https://a/p"), None);
    }

    #[test]
    fn debug_hides_the_token() {
        let url = OverlayUrl::new(APP, &id(), "secret-token-value");
        let shown = format!("{url:?}");
        assert!(!shown.contains("secret-token-value"), "{shown}");
        assert_eq!(
            shown,
            r#"OverlayUrl("https://app.example.com/stream/overlay?sessionId=ses_1&token={...}")"#
        );
    }
}
