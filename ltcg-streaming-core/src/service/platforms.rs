//! Stored platform credentials per user or agent, and agent auto-start.

use super::{
    Actor, AutoStartOutcome, ConfigurePlatformRequest, CredentialTarget, PlatformConfigView,
    StartStreamRequest, StreamingService,
};
use crate::error::{Error, Result};
use crate::platform::{validate_ingest_url, validate_stream_key, IngestUrl, Platform};
use crate::session::{validate_id, Destination, Entity, StreamType};
use crate::store::PlatformCredential;
use crate::vault::SecretString;

impl StreamingService {
    /// Creates or replaces stored credentials. The key is trimmed, validated and stored
    /// encrypted; when omitted, the stored key is kept if the platform is unchanged.
    pub async fn configure_platform(
        &self,
        actor: &Actor,
        req: ConfigurePlatformRequest,
    ) -> Result<PlatformConfigView> {
        self.inner.limits.call(actor)?;
        let entity = credential_entity(actor, &req.target)?;
        if entity.stream_type == StreamType::User && req.platform == Platform::Retake {
            return Err(Error::invalid("platform", "retake is agent-only"));
        }
        let url = req
            .custom_rtmp_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .map(validate_ingest_url)
            .transpose()?;
        if self.needs_ingest_url(req.platform) && url.is_none() {
            return Err(Error::invalid(
                "customRtmpUrl",
                format!("is required for the {} platform", req.platform),
            ));
        }
        self.check_reach(actor, "customRtmpUrl", url.as_deref())
            .await?;
        let existing = self.inner.store.get_credential(&entity).await?;
        let encrypted_key = match &req.stream_key {
            Some(key) => {
                let key = validate_stream_key(key.expose_secret())?;
                Some(self.inner.vault.encrypt(&SecretString::from(key)).await?)
            }
            None => existing
                .as_ref()
                .filter(|c| c.platform == req.platform)
                .and_then(|c| c.encrypted_key.clone()),
        };
        if encrypted_key.is_none() {
            return Err(Error::invalid("streamKey", "is required"));
        }
        let credential = PlatformCredential {
            entity,
            platform: req.platform,
            encrypted_key,
            custom_rtmp_url: url.map(IngestUrl::from),
            auto_start: req
                .auto_start
                .or(existing.as_ref().map(|c| c.auto_start))
                .unwrap_or(false),
            channel: match &req.channel {
                Some(c) => Some(Destination::channel_for("channel", req.platform, c)?),
                None => existing
                    .as_ref()
                    .filter(|c| c.platform == req.platform)
                    .and_then(|c| c.channel.clone()),
            },
            enabled: existing.as_ref().is_none_or(|c| c.enabled),
            keep_alive: existing.as_ref().is_none_or(|c| c.keep_alive),
            overlay: existing.map(|c| c.overlay).unwrap_or_default(),
            updated_at: self.now(),
        };
        self.inner.store.put_credential(&credential).await?;
        Ok(PlatformConfigView::from(&credential))
    }

    /// The stored credentials (never the key or its ciphertext).
    pub async fn get_platform_config(
        &self,
        actor: &Actor,
        target: &CredentialTarget,
    ) -> Result<PlatformConfigView> {
        self.inner.limits.call(actor)?;
        let entity = credential_entity(actor, target)?;
        self.inner
            .store
            .get_credential(&entity)
            .await?
            .map(|c| PlatformConfigView::from(&c))
            .ok_or_else(|| Error::not_found("platform config"))
    }

    /// Deletes the stored credentials; `true` if there were any.
    pub async fn delete_platform_config(
        &self,
        actor: &Actor,
        target: &CredentialTarget,
    ) -> Result<bool> {
        self.inner.limits.call(actor)?;
        let entity = credential_entity(actor, target)?;
        self.inner.store.delete_credential(&entity).await
    }

    /// A game started for `agent_id` in `lobby_id`: starts its stream from stored
    /// credentials when `autoStart` is on, or links the lobby to its active session.
    /// Reports why it did not start.
    pub async fn on_game_started(
        &self,
        actor: &Actor,
        agent_id: &str,
        lobby_id: &str,
    ) -> Result<AutoStartOutcome> {
        self.inner.limits.call(actor)?;
        let entity = Entity::agent(agent_id)?;
        validate_id("lobbyId", lobby_id)?;
        if !actor.may_act_for(&entity) {
            return Err(Error::forbidden("cannot auto-start another agent"));
        }
        let outcome = |started: bool, reason: &str, session_id| AutoStartOutcome {
            started,
            reason: reason.to_owned(),
            session_id,
        };
        if let Some(active) = self.inner.store.active_session(&entity).await? {
            let linked = self
                .link_lobby(&Actor::Internal, &active.id, Some(lobby_id))
                .await?;
            return Ok(outcome(
                false,
                "already_active_linked_to_lobby",
                Some(linked.session_id),
            ));
        }
        let Some(cred) = self.inner.store.get_credential(&entity).await? else {
            return Ok(outcome(false, "not_configured", None));
        };
        if cred.encrypted_key.is_none() {
            return Ok(outcome(false, "not_configured", None));
        }
        if !cred.enabled {
            return Ok(outcome(false, "streaming_disabled", None));
        }
        if !cred.auto_start {
            return Ok(outcome(false, "autostart_disabled", None));
        }
        if self.needs_ingest_url(cred.platform) && cred.custom_rtmp_url.is_none() {
            return Ok(outcome(false, "rtmp_url_required", None));
        }
        let started = self
            .start_stream(
                &Actor::Internal,
                StartStreamRequest {
                    stream_type: Some(StreamType::Agent),
                    agent_id: Some(agent_id.to_owned()),
                    use_stored_credentials: true,
                    lobby_id: Some(lobby_id.to_owned()),
                    overlay_config: Some(super::agent_config::auto_start_overlay(&cred.overlay)),
                    ..StartStreamRequest::default()
                },
            )
            .await?;
        let reason = if started.reused {
            "already_active_linked_to_lobby"
        } else {
            "started"
        };
        Ok(outcome(!started.reused, reason, Some(started.session_id)))
    }
}

/// Whose credentials: the caller's own, or (internal callers) the named entity.
pub(super) fn credential_entity(actor: &Actor, target: &CredentialTarget) -> Result<Entity> {
    let named = match (&target.user_id, &target.agent_id) {
        (Some(_), Some(_)) => {
            return Err(Error::invalid(
                "agentId",
                "give userId or agentId, not both",
            ))
        }
        (Some(u), None) => Some(Entity::user(u)?),
        (None, Some(a)) => Some(Entity::agent(a)?),
        (None, None) => None,
    };
    match (actor.entity(), named) {
        (None, Some(entity)) => Ok(entity),
        (None, None) => Err(Error::invalid("agentId", "userId or agentId is required")),
        (Some(own), Some(entity)) if own != entity => Err(Error::forbidden(
            "cannot manage another user's or agent's credentials",
        )),
        (Some(own), _) => Ok(own),
    }
}
