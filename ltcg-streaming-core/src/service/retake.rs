//! Retake.tv destinations (the product's flow, §5.1 step 7): the caller's access token,
//! then (internal callers only) the operator's, then the stream key itself when no URL was
//! given, each signalled live and asked for RTMP credentials; the URL and key given are the
//! fallback. The token that worked is kept, encrypted, on the destination: the session's
//! end signals Retake to stop, and the viewer pass reads Retake's count with it.

use super::{Actor, StreamingService};
use crate::error::{Error, Result};
use crate::platform::{build_rtmp_url, Platform, RtmpUrl};
use crate::session::StreamSession;
use crate::vault::SecretString;

/// What a start gives for its Retake output.
pub(super) struct RetakeInput<'a> {
    /// `retakeAccessToken` of the request.
    pub(super) access_token: Option<&'a SecretString>,
    /// The stream key given (or stored).
    pub(super) key: Option<SecretString>,
    /// The ingest URL given (or stored).
    pub(super) url: Option<&'a str>,
}

impl StreamingService {
    /// Whether stored or requested credentials for `platform` need an ingest URL: the
    /// platforms without a default ingest do, except Retake when its API can hand one out.
    pub(super) fn needs_ingest_url(&self, platform: Platform) -> bool {
        #[cfg(feature = "platforms")]
        if platform == Platform::Retake && self.inner.retake.is_some() {
            return false;
        }
        platform.requires_custom_url()
    }

    /// The Retake output and the access token signalled live (if any).
    pub(super) async fn resolve_retake(
        &self,
        actor: &Actor,
        input: RetakeInput<'_>,
    ) -> Result<(RtmpUrl, Option<SecretString>)> {
        let url = input.url.map(str::trim).filter(|u| !u.is_empty());
        #[cfg(feature = "platforms")]
        if let Some(api) = &self.inner.retake {
            let mut candidates: Vec<SecretString> =
                input.access_token.cloned().into_iter().collect();
            if matches!(actor, Actor::Internal) {
                candidates.extend(api.operator_tokens().iter().cloned());
            }
            if url.is_none() {
                candidates.extend(input.key.clone());
            }
            let resolved = match api.resolve(&candidates).await {
                Ok(found) => found,
                // The URL and key given still make a destination.
                Err(e) if url.is_some() && input.key.is_some() => {
                    tracing::warn!(error = %e, "Retake did not resolve a destination; using the URL and key given");
                    None
                }
                Err(e) => return Err(e),
            };
            if let Some(found) = resolved {
                let rtmp = build_rtmp_url(
                    Platform::Retake,
                    found.credentials.key.expose_secret(),
                    Some(found.credentials.url.expose_secret()),
                )
                .map_err(|_| Error::Egress {
                    retryable: false,
                    message: "Failed to resolve Retake stream destination: Retake.tv handed out \
                              an RTMP URL or key that is not valid"
                        .into(),
                })?;
                self.check_reach(
                    actor,
                    "retakeAccessToken",
                    Some(found.credentials.url.expose_secret()),
                )
                .await?;
                return Ok((rtmp, Some(found.token)));
            }
        }
        if input.access_token.is_some() && !cfg!(feature = "platforms") {
            return Err(Error::invalid(
                "retakeAccessToken",
                "Retake's API is not available in this build (feature `platforms`)",
            ));
        }
        let (Some(key), Some(_)) = (&input.key, url) else {
            return Err(Error::invalid(
                "retakeAccessToken",
                "Retake stream destination is missing credentials",
            ));
        };
        #[cfg(not(feature = "platforms"))]
        let _ = actor;
        Ok((
            build_rtmp_url(Platform::Retake, key.expose_secret(), url)?,
            None,
        ))
    }

    /// Tells Retake that the stream set up with `token` stopped (logged on failure).
    pub(super) async fn signal_retake_token_stopped(&self, token: &SecretString) {
        #[cfg(feature = "platforms")]
        if let Some(api) = &self.inner.retake {
            if let Err(reason) = api.stop(token).await {
                tracing::warn!(%reason, "could not signal Retake that a failed start stopped");
            }
        }
        #[cfg(not(feature = "platforms"))]
        let _ = token;
    }

    /// Tells Retake that `session`'s streams stopped (for each output set up with a token);
    /// failures are logged, never raised: the session has ended either way.
    pub(super) async fn signal_retake_stopped(&self, session: &StreamSession) {
        #[cfg(feature = "platforms")]
        if let Some(api) = &self.inner.retake {
            for d in &session.destinations {
                let Some(sealed) = &d.encrypted_access_token else {
                    continue;
                };
                let result = match self.inner.vault.decrypt(sealed).await {
                    Ok(token) => api.stop(&token).await,
                    Err(e) => Err(e.to_string()),
                };
                if let Err(reason) = result {
                    tracing::warn!(session = %session.id, destination = %d.id, %reason, "could not signal Retake that the stream stopped");
                }
            }
        }
        #[cfg(not(feature = "platforms"))]
        let _ = session;
    }
}
