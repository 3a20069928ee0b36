//! Starting a stream: who, where to, reuse or replace, session row before the egress call.

use super::{
    within, Actor, StartStreamRequest, StartStreamResponse, StreamingService, MAX_DESTINATIONS,
};
use crate::destination_policy::DestinationPolicy;
use crate::egress::EgressRequest;
use crate::error::{Error, Result};
use crate::platform::{build_rtmp_url, validate_ingest_url, Platform, RtmpUrl};
use crate::session::{
    end_reason, Destination, DestinationStatus, Entity, NewSession, OverlayConfig, SessionEvent,
    SessionStatus, StreamSession, StreamType, TimelineEntry, TimelineKind,
};
use crate::store::{Insert, PlatformCredential};
use crate::vault::SecretString;

/// What to do with the entity's active session when a start arrives.
enum Existing {
    /// Return it (`reused: true`).
    Reuse,
    /// End it with this event, then start a new one.
    Replace(SessionEvent),
}

impl StreamingService {
    /// Starts a stream (or returns the entity's healthy active session on the same
    /// platform, `reused: true`). See [`StartStreamRequest`].
    ///
    /// The session row is written before the egress call, so a crash or timeout never
    /// leaves an egress without a session. A failed start leaves the session `error` and
    /// nothing running; an uncertain one (timeout, unavailable) leaves it `initializing`
    /// for the reconciler to settle. Cancellation (see [`super::commit`]): before the row is
    /// written a cancelled start leaves nothing; after, it runs to one of those outcomes.
    #[tracing::instrument(name = "start_stream", skip_all, fields(actor = %actor, session_id = tracing::field::Empty))]
    pub async fn start_stream(
        &self,
        actor: &Actor,
        req: StartStreamRequest,
    ) -> Result<StartStreamResponse> {
        let began = std::time::Instant::now();
        let mut signalled = None;
        let result = self.start_once(actor, req, &mut signalled).await;
        // Retake was told "live" for a start that created nothing: tell it "stopped".
        if let (Err(_), Some(token)) = (&result, signalled) {
            self.signal_retake_token_stopped(&token).await;
        }
        if let Ok(started) = &result {
            // A reused session's id (a created one's was recorded when its row was written).
            tracing::Span::current()
                .record("session_id", tracing::field::display(&started.session_id));
        }
        crate::telemetry::start_finished(&result, began.elapsed());
        result
    }

    /// [`Self::start_stream`]; `signalled` holds a Retake access token told "live" until a
    /// session carries it.
    async fn start_once(
        &self,
        actor: &Actor,
        req: StartStreamRequest,
        signalled: &mut Option<SecretString>,
    ) -> Result<StartStreamResponse> {
        self.inner.limits.call(actor)?;
        if req.base_url.is_some() {
            return Err(Error::invalid(
                "baseUrl",
                "is not accepted: the overlay base URL comes from configuration",
            ));
        }
        let entity = resolve_entity(actor, &req)?;
        let encoding = req
            .encoding
            .map_or(self.inner.encoding, crate::egress::EncodingSettings::preset);
        let stored = if req.use_stored_credentials {
            Some(
                self.inner
                    .store
                    .get_credential(&entity)
                    .await?
                    .ok_or_else(|| {
                        Error::invalid("useStoredCredentials", "no stored streaming credentials")
                    })?,
            )
        } else {
            None
        };
        // Settings stored with the credentials (voice track, picture), under the request's.
        let patch = req.overlay_config.clone().unwrap_or_default();
        let patch = match &stored {
            Some(cred) => cred.overlay.overlaid_with(&patch),
            None => patch,
        };
        let overlay_config = OverlayConfig::merged(entity.stream_type, &patch)?;
        let targets = self
            .resolve_targets(actor, &entity, &req, stored.as_ref(), signalled)
            .await?;
        let access_token = signalled.clone();
        let platform = targets[0].0;
        let channels = target_channels(&req, stored.as_ref(), &targets)?;
        let now = self.now();
        let draft = StreamSession::create(
            NewSession {
                entity: entity.clone(),
                entity_name: req.entity_name.clone(),
                entity_avatar_url: req.entity_avatar_url.clone(),
                platform,
                stream_title: req.stream_title.clone().unwrap_or_default(),
                overlay_config,
                lobby_id: req.lobby_id.clone(),
                destinations: Vec::new(),
                dry_run: req.dry_run,
            },
            now,
        )?;
        // Reusing the active session is free: only a start that would create one counts.
        if let Some(active) = self.inner.store.active_session(&entity).await? {
            let same = self.same_primary(&active, &targets[0].1).await;
            if let Existing::Reuse =
                self.judge_existing(&active, platform, same, req.force_restart, now)?
            {
                return self.reuse(active, req.lobby_id.as_deref()).await;
            }
        }
        self.inner.limits.start(&entity)?;

        let mut session = draft;
        let sealed_token = match &access_token {
            Some(token) => Some(self.inner.vault.encrypt(token).await?),
            None => None,
        };
        for ((i, (platform, url)), channel) in targets.iter().enumerate().zip(&channels) {
            let encrypted_url = self.inner.vault.encrypt(&url.clone().into_secret()).await?;
            session.destinations.push(Destination {
                id: Destination::generate_id(),
                platform: *platform,
                redacted_url: url.redacted().to_owned(),
                encrypted_url,
                status: DestinationStatus::Active,
                primary: i == 0,
                added_at: now,
                removed_at: None,
                error_message: None,
                channel: channel.clone(),
                warning: None,
                preview_url: None,
                encrypted_access_token: if i == 0 { sealed_token.clone() } else { None },
            });
        }
        // Insert first: the store refuses a second active session atomically and returns
        // the one that exists, which is then reused or (once) replaced.
        let mut replaced = false;
        let session = loop {
            match self.inner.store.insert_session(&session).await? {
                Insert::Created(s) => {
                    // Its end signals Retake from now on.
                    *signalled = None;
                    break s;
                }
                Insert::Existing(active) => {
                    let force = req.force_restart && !replaced;
                    let same = self.same_primary(&active, &targets[0].1).await;
                    match self.judge_existing(&active, platform, same, force, now)? {
                        Existing::Reuse => {
                            return self.reuse(active, req.lobby_id.as_deref()).await
                        }
                        Existing::Replace(event) if !replaced => {
                            self.apply_to(active, &event, None).await?;
                            replaced = true;
                        }
                        // A concurrent start won the race after the replacement.
                        Existing::Replace(_) => {
                            return Err(Error::conflict(
                                "another start for this stream is in progress; try again",
                            ))
                        }
                    }
                }
            }
        };
        // The row exists: from here the start runs to its end even if the caller gives up.
        super::commit::mark_committed();
        tracing::Span::current().record("session_id", tracing::field::display(&session.id));
        let outputs = targets
            .iter()
            .map(|(p, _)| p.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let by = match actor {
            Actor::Internal => "an internal caller",
            Actor::User(_) => "the user",
            Actor::Agent(_) => "the agent",
        };
        let dry = if session.dry_run { " as a dry run" } else { "" };
        let cause = format!("started by {by}{dry}: {outputs}");
        self.note(vec![TimelineEntry::new(
            &session.id,
            session.created_at,
            TimelineKind::Created,
            session.status,
            cause,
        )])
        .await;
        tracing::info!(session = %session.id, entity = %entity, %platform, outputs = targets.len(), "session created");
        self.launch(session, &targets, self.reach_for(actor), encoding)
            .await
    }

    /// Calls the egress for a freshly inserted session and records the outcome.
    async fn launch(
        &self,
        session: StreamSession,
        targets: &[(Platform, RtmpUrl)],
        destination_policy: Option<DestinationPolicy>,
        encoding: crate::egress::EncodingSettings,
    ) -> Result<StartStreamResponse> {
        let overlay_url = self.overlay_url_for(&session)?;
        let request = EgressRequest {
            session_id: session.id.clone(),
            title: session.stream_title.clone(),
            page_url: SecretString::from(overlay_url.as_str()),
            outputs: targets
                .iter()
                .map(|(_, url)| url.clone().into_secret())
                .collect(),
            encoding,
            destination_policy,
        };
        let started = tokio::time::timeout(
            self.inner.egress_start_timeout,
            self.inner.egress.start(&request),
        )
        .await;
        let respond = |status: SessionStatus, message: &str| StartStreamResponse {
            success: true,
            session_id: session.id.clone(),
            status,
            overlay_url: overlay_url.as_str().to_owned(),
            message: message.to_owned(),
            reused: false,
        };
        match started {
            Ok(Ok(egress_id)) => {
                // A local render's lease is held before its session names it, so that no
                // other replica takes the render for a dead one.
                self.claim_render(&egress_id).await;
                let event = SessionEvent::EgressStarted {
                    egress_id: egress_id.clone(),
                };
                match self.apply_to(session.clone(), &event, None).await {
                    Ok(t) if t.session.egress_id.as_deref() == Some(egress_id.as_str()) => {
                        Ok(respond(t.session.status, "Stream starting..."))
                    }
                    Ok(_) => Err(Error::conflict(
                        "the session ended while its egress was starting",
                    )),
                    Err(e) => {
                        // The egress runs but its session could not be updated: stop it.
                        tracing::error!(session = %session.id, egress = %egress_id, error = %e, "could not save the egress id; stopping the egress");
                        self.stop_egress_quietly(&egress_id).await;
                        let failed = SessionEvent::StartFailed {
                            message: "could not record the egress".into(),
                        };
                        if let Err(e) = self.apply(&session.id, &failed, None).await {
                            tracing::warn!(session = %session.id, error = %e, "could not mark the session failed");
                        }
                        Err(e)
                    }
                }
            }
            Ok(Err(e)) if !e.egress_may_exist() => {
                // Whatever the backend, a stored error never quotes a stream key.
                let failed = SessionEvent::StartFailed {
                    message: crate::redact::redact_urls_in_text(&e.to_string()),
                };
                self.apply(&session.id, &failed, None).await?;
                Err(e)
            }
            Ok(Err(e)) => {
                tracing::warn!(session = %session.id, error = %e, "egress start uncertain");
                let t = self
                    .apply(&session.id, &SessionEvent::StartUncertain, None)
                    .await?;
                Ok(respond(
                    t.session.status,
                    "Egress start not confirmed yet; the status will update",
                ))
            }
            Err(_elapsed) => {
                tracing::warn!(session = %session.id, "egress start timed out");
                let t = self
                    .apply(&session.id, &SessionEvent::StartUncertain, None)
                    .await?;
                Ok(respond(
                    t.session.status,
                    "Egress start not confirmed yet; the status will update",
                ))
            }
        }
    }

    /// Whether `active` streams its primary output to exactly `url` (same key, same
    /// ingest). An unreadable destination counts as different.
    async fn same_primary(&self, active: &StreamSession, url: &RtmpUrl) -> bool {
        let Some(primary) = active.destinations.iter().find(|d| d.primary) else {
            return false;
        };
        match self.inner.vault.decrypt(&primary.encrypted_url).await {
            Ok(current) => current.expose_secret() == url.clone().into_secret().expose_secret(),
            Err(_) => false,
        }
    }

    /// Reuse, replace, or refuse the entity's active session. A start on the same platform
    /// but with another key or URL is refused (`CONFLICT`): answering with the old session
    /// would leave the new destination silently unserved.
    fn judge_existing(
        &self,
        active: &StreamSession,
        platform: Platform,
        same_destination: bool,
        force: bool,
        now: i64,
    ) -> Result<Existing> {
        let starting = matches!(
            active.status,
            SessionStatus::Initializing | SessionStatus::Pending
        );
        let timeout_ms =
            i64::try_from(self.inner.config.start_timeout.as_millis()).unwrap_or(i64::MAX);
        if starting && now.saturating_sub(active.created_at) > timeout_ms {
            return Ok(Existing::Replace(SessionEvent::StartTimedOut));
        }
        if force {
            return Ok(Existing::Replace(SessionEvent::Stop {
                reason: "replaced_by_new_start".into(),
            }));
        }
        if active.platform != platform {
            return Err(Error::conflict(format!(
                "an active {} stream exists; stop it or pass forceRestart",
                active.platform
            )));
        }
        if !same_destination {
            return Err(Error::conflict(format!(
                "an active {platform} stream sends to another stream key or URL; pass \
                 forceRestart to replace it, or change its outputs with update-destinations"
            )));
        }
        if active.status == SessionStatus::Live && active.egress_id.is_none() {
            return Ok(Existing::Replace(SessionEvent::Stop {
                reason: end_reason::EGRESS_LOST.into(),
            }));
        }
        Ok(Existing::Reuse)
    }

    /// Answers with an existing session, linking the lobby if asked.
    async fn reuse(
        &self,
        session: StreamSession,
        lobby_id: Option<&str>,
    ) -> Result<StartStreamResponse> {
        let session = match lobby_id {
            Some(lobby) if session.current_lobby_id.as_deref() != Some(lobby) => {
                let lobby = lobby.to_owned();
                self.modify(&session.id, |s| {
                    if s.status.is_terminal() {
                        return Err(Error::conflict("session ended"));
                    }
                    s.current_lobby_id = Some(lobby.clone());
                    Ok(())
                })
                .await?
            }
            _ => session,
        };
        Ok(StartStreamResponse {
            success: true,
            overlay_url: self.overlay_url_for(&session)?.into_string(),
            session_id: session.id,
            status: session.status,
            message: "Stream already active".into(),
            reused: true,
        })
    }

    /// Resolves the outputs (primary first) from the request or stored credentials; a
    /// Retake access token signalled live for the primary is put in `signalled` at once.
    async fn resolve_targets(
        &self,
        actor: &Actor,
        entity: &Entity,
        req: &StartStreamRequest,
        stored: Option<&PlatformCredential>,
        signalled: &mut Option<SecretString>,
    ) -> Result<Vec<(Platform, RtmpUrl)>> {
        // Platform, key, ingest URL, the field that URL came from, and what a missing key is.
        let (platform, key, url, url_field, no_key) = if let Some(cred) = stored {
            if req.platform.is_some_and(|p| p != cred.platform) {
                return Err(Error::invalid(
                    "platform",
                    format!("does not match the stored platform ({})", cred.platform),
                ));
            }
            if req.custom_rtmp_url.is_some() {
                return Err(Error::forbidden(
                    "a stored stream key is only sent to its stored ingest URL",
                ));
            }
            let key = match (&req.stream_key, &cred.encrypted_key) {
                (Some(key), _) => Some(key.clone()),
                (None, Some(sealed)) => Some(self.inner.vault.decrypt(sealed).await?),
                (None, None) => None,
            };
            let url = cred.custom_rtmp_url.as_deref().map(str::to_owned);
            (
                cred.platform,
                key,
                url,
                "useStoredCredentials",
                "no stored stream key",
            )
        } else {
            let platform = req
                .platform
                .ok_or_else(|| Error::invalid("platform", "is required"))?;
            let key = match (&req.stream_key, &req.encrypted_stream_key) {
                (Some(key), _) => Some(key.clone()),
                (None, Some(sealed)) => {
                    actor.require_internal().map_err(|_| {
                        Error::forbidden("only internal callers may pass an encrypted stream key")
                    })?;
                    self.check_sealed_destination(entity, platform, sealed, req)
                        .await?;
                    Some(self.inner.vault.decrypt(sealed).await?)
                }
                (None, None) => None,
            };
            let url = req.custom_rtmp_url.as_deref().map(str::to_owned);
            (platform, key, url, "customRtmpUrl", "is required")
        };
        let primary = if platform == Platform::Retake {
            self.check_reach(actor, url_field, url.as_deref()).await?;
            let input = super::retake::RetakeInput {
                access_token: req.retake_access_token.as_ref(),
                key,
                url: url.as_deref(),
            };
            let (rtmp, token) = self.resolve_retake(actor, input).await?;
            *signalled = token;
            (platform, rtmp)
        } else {
            if req.retake_access_token.is_some() {
                return Err(Error::invalid(
                    "retakeAccessToken",
                    "is only for the retake platform",
                ));
            }
            let key = key.ok_or_else(|| Error::invalid("streamKey", no_key))?;
            let rtmp = build_rtmp_url(platform, key.expose_secret(), url.as_deref())?;
            self.check_reach(actor, url_field, url.as_deref()).await?;
            (platform, rtmp)
        };
        let mut targets = vec![primary];
        for (i, d) in req.destinations.iter().enumerate() {
            let url = build_rtmp_url(
                d.platform,
                d.stream_key.expose_secret(),
                d.custom_rtmp_url.as_deref(),
            )
            .map_err(|e| within(&format!("destinations[{i}]"), e))?;
            self.check_reach(
                actor,
                &format!("destinations[{i}].customRtmpUrl"),
                d.custom_rtmp_url.as_deref(),
            )
            .await?;
            targets.push((d.platform, url));
        }
        if req.dry_run {
            targets = dry_run_targets(targets)?;
        }
        if targets.len() > MAX_DESTINATIONS {
            return Err(Error::invalid(
                "destinations",
                format!("at most {MAX_DESTINATIONS} destinations per stream"),
            ));
        }
        for (i, (_, url)) in targets.iter().enumerate() {
            if targets[..i].iter().any(|(_, other)| other == url) {
                return Err(Error::invalid(
                    "destinations",
                    "lists the same destination twice",
                ));
            }
        }
        Ok(targets)
    }
}

impl StreamingService {
    /// An encrypted key goes only to the destination it was stored with: the platform's
    /// own ingest, or, with `customRtmpUrl`, the URL stored beside this very ciphertext in
    /// the entity's credentials. Anything else is `FORBIDDEN` (a caller who holds a
    /// ciphertext must not learn the key by pointing it at its own server).
    async fn check_sealed_destination(
        &self,
        entity: &Entity,
        platform: Platform,
        sealed: &str,
        req: &StartStreamRequest,
    ) -> Result<()> {
        let Some(custom) = req
            .custom_rtmp_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
        else {
            return Ok(());
        };
        let wanted = validate_ingest_url(custom)?;
        let stored = self.inner.store.get_credential(entity).await?;
        let same_destination = stored.is_some_and(|c| {
            c.platform == platform
                && c.encrypted_key.as_deref() == Some(sealed)
                && c.custom_rtmp_url.as_deref() == Some(wanted.as_str())
        });
        if same_destination {
            Ok(())
        } else {
            Err(Error::forbidden(
                "an encrypted stream key is only sent to the destination it was stored with",
            ))
        }
    }
}

/// Who is streamed, checked against who asks.
fn resolve_entity(actor: &Actor, req: &StartStreamRequest) -> Result<Entity> {
    match actor {
        Actor::User(uid) => {
            if req.stream_type == Some(StreamType::Agent) || req.agent_id.is_some() {
                return Err(Error::forbidden(
                    "users may only start their own user streams",
                ));
            }
            if req.user_id.as_ref().is_some_and(|u| u != uid) {
                return Err(Error::forbidden("cannot start a stream for another user"));
            }
            Entity::user(uid)
        }
        Actor::Agent(aid) => {
            if req.stream_type == Some(StreamType::User) || req.user_id.is_some() {
                return Err(Error::forbidden(
                    "agent API keys may only start agent streams",
                ));
            }
            if req.agent_id.as_ref().is_some_and(|a| a != aid) {
                return Err(Error::forbidden("cannot start a stream for another agent"));
            }
            Entity::agent(aid)
        }
        Actor::Internal => {
            let inferred = req.stream_type.or(match (&req.agent_id, &req.user_id) {
                (Some(_), None) => Some(StreamType::Agent),
                (None, Some(_)) => Some(StreamType::User),
                _ => None,
            });
            match inferred {
                Some(StreamType::Agent) => {
                    Entity::agent(req.agent_id.as_deref().ok_or_else(|| {
                        Error::invalid("agentId", "is required for agent streams")
                    })?)
                }
                Some(StreamType::User) => Entity::user(
                    req.user_id
                        .as_deref()
                        .ok_or_else(|| Error::invalid("userId", "is required for user streams"))?,
                ),
                None => Err(Error::invalid("streamType", "is required (user or agent)")),
            }
        }
    }
}

/// Every target as its platform's test stream (`INVALID_INPUT` naming `dryRun` for a
/// platform that has none).
pub(super) fn dry_run_targets(
    targets: Vec<(Platform, RtmpUrl)>,
) -> Result<Vec<(Platform, RtmpUrl)>> {
    targets
        .into_iter()
        .map(|(platform, url)| Ok((platform, url.dry_run(platform)?)))
        .collect()
}

/// The channel of each target (primary first): the request's, else (primary) the stored
/// credentials' when the platform matches; checked per platform.
fn target_channels(
    req: &StartStreamRequest,
    stored: Option<&PlatformCredential>,
    targets: &[(Platform, RtmpUrl)],
) -> Result<Vec<Option<String>>> {
    let primary = match (&req.channel, stored) {
        (Some(c), _) => Some(Destination::channel_for("channel", targets[0].0, c)?),
        (None, Some(cred)) if cred.platform == targets[0].0 => cred.channel.clone(),
        _ => None,
    };
    let mut channels = vec![primary];
    for (i, d) in req.destinations.iter().enumerate() {
        channels.push(
            d.channel
                .as_deref()
                .map(|c| {
                    Destination::channel_for(&format!("destinations[{i}].channel"), d.platform, c)
                })
                .transpose()?,
        );
    }
    Ok(channels)
}
