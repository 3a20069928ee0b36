//! What happens during a stream: lobby links, agent decisions, game events, viewers.

use serde_json::Value;

use super::{
    Actor, AgentDecisions, AgentDecisionsQuery, DecisionInput, EventInput, RecordedActivity,
    SessionStatusView, StreamingService,
};
use crate::error::{Error, Result};
use crate::json;
use crate::session::{
    check_text as text, validate_id, Activity, ActivityKind, DecisionData, Entity, EventData,
    SessionId, StreamSession, StreamType,
};

/// Longest reasoning text kept, in characters.
const MAX_REASONING_CHARS: usize = 4_000;
/// Longest description / short text, in characters.
const MAX_TEXT_CHARS: usize = 1_000;
/// Largest `parameters` / `metadata` JSON, in bytes.
const MAX_JSON_BYTES: usize = 16 * 1024;
/// Most activities returned by one read.
const MAX_FEED_READ: usize = 100;

impl StreamingService {
    /// Shows `lobby_id` on the session's overlay (`None` clears it).
    pub async fn link_lobby(
        &self,
        actor: &Actor,
        session_id: &SessionId,
        lobby_id: Option<&str>,
    ) -> Result<SessionStatusView> {
        self.inner.limits.call(actor)?;
        if let Some(lobby) = lobby_id {
            validate_id("lobbyId", lobby)?;
        }
        actor.authorize(&self.load(session_id).await?)?;
        let lobby = lobby_id.map(str::to_owned);
        self.modify(session_id, |s| {
            if s.status.is_terminal() {
                return Err(Error::conflict("session is over"));
            }
            s.current_lobby_id = lobby.clone();
            Ok(())
        })
        .await
        .map(|s| self.view(&s))
    }

    /// Records an agent decision into its (active) session: shown on the overlay and
    /// counted into `decisionsLogged`.
    pub async fn record_decision(
        &self,
        actor: &Actor,
        input: DecisionInput,
    ) -> Result<RecordedActivity> {
        self.inner.limits.call(actor)?;
        let session = self
            .target_session(actor, input.session_id.as_ref(), input.agent_id.as_deref())
            .await?;
        if session.entity.stream_type != StreamType::Agent {
            return Err(Error::invalid(
                "sessionId",
                "decisions belong to agent streams",
            ));
        }
        text("gameId", &input.game_id, 128)?;
        text("phase", &input.phase, 64)?;
        text("action", &input.action, 200)?;
        text("reasoning", &input.reasoning, MAX_REASONING_CHARS)?;
        if let Some(result) = &input.result {
            text("result", result, MAX_TEXT_CHARS)?;
        }
        small_json("parameters", input.parameters.as_ref())?;
        let data = DecisionData {
            game_id: input.game_id,
            turn_number: input.turn_number,
            phase: input.phase,
            action: input.action,
            reasoning: input.reasoning,
            parameters: input.parameters,
            execution_time_ms: input.execution_time_ms,
            result: input.result,
        };
        self.record(&session.id, ActivityKind::Decision, json::to_value(&data)?)
            .await
    }

    /// Records a game event into the caller's (active) session: shown in the overlay's
    /// ticker and counted into `eventsRecorded`.
    pub async fn record_event(&self, actor: &Actor, input: EventInput) -> Result<RecordedActivity> {
        self.inner.limits.call(actor)?;
        let session = self
            .target_session(actor, input.session_id.as_ref(), input.agent_id.as_deref())
            .await?;
        text("gameId", &input.game_id, 128)?;
        if let Some(lobby) = &input.lobby_id {
            validate_id("lobbyId", lobby)?;
        }
        if input.event_type.is_empty()
            || input.event_type.len() > 64
            || !input
                .event_type
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit())
        {
            return Err(Error::invalid(
                "eventType",
                "must be 1-64 characters of a-z, 0-9 and _",
            ));
        }
        text("description", &input.description, MAX_TEXT_CHARS)?;
        if let Some(name) = &input.player_username {
            text("playerUsername", name, 100)?;
        }
        small_json("metadata", input.metadata.as_ref())?;
        let data = EventData {
            game_id: input.game_id,
            turn_number: input.turn_number,
            event_type: input.event_type,
            description: input.description,
            lobby_id: input.lobby_id,
            player_username: input.player_username,
            metadata: input.metadata,
        };
        self.record(&session.id, ActivityKind::Event, json::to_value(&data)?)
            .await
    }

    /// Sets the current viewer count (the peak is kept).
    pub async fn update_viewer_count(
        &self,
        actor: &Actor,
        session_id: &SessionId,
        viewers: u64,
    ) -> Result<SessionStatusView> {
        self.inner.limits.call(actor)?;
        actor.authorize(&self.load(session_id).await?)?;
        let session = self
            .inner
            .store
            .set_viewer_count(session_id, viewers)
            .await?;
        // Kept over time too, as the primary destination's count.
        if let Some(primary) = session.destinations.iter().find(|d| d.primary) {
            let sample = crate::session::ViewerSample {
                session_id: session.id.clone(),
                destination_id: primary.id.clone(),
                platform: primary.platform,
                at: self.now(),
                viewers,
            };
            self.inner.store.record_viewer_samples(&[sample]).await?;
        }
        self.session_changed(session_id);
        Ok(self.view(&session))
    }

    /// The newest decisions or events of a session (at most 100), newest first, for its
    /// owner or internal callers.
    pub async fn recent_activity(
        &self,
        actor: &Actor,
        session_id: &SessionId,
        kind: ActivityKind,
        limit: usize,
    ) -> Result<Vec<Activity>> {
        self.inner.limits.call(actor)?;
        actor.authorize(&self.load(session_id).await?)?;
        self.inner
            .store
            .recent_activity(session_id, kind, limit.min(MAX_FEED_READ))
            .await
    }

    /// What happened to a session, oldest first (at most
    /// [`MAX_TIMELINE_ENTRIES`](crate::session::MAX_TIMELINE_ENTRIES)), for its owner or
    /// internal callers.
    pub async fn session_timeline(
        &self,
        actor: &Actor,
        session_id: &SessionId,
    ) -> Result<Vec<crate::session::TimelineEntry>> {
        self.inner.limits.call(actor)?;
        actor.authorize(&self.load(session_id).await?)?;
        self.inner
            .store
            .timeline(session_id, crate::session::MAX_TIMELINE_ENTRIES)
            .await
    }

    /// A session's viewer counts as the platforms reported them, oldest first (at most
    /// [`MAX_VIEWER_SAMPLES`](crate::session::MAX_VIEWER_SAMPLES)), for its owner or
    /// internal callers.
    pub async fn session_viewer_samples(
        &self,
        actor: &Actor,
        session_id: &SessionId,
    ) -> Result<Vec<crate::session::ViewerSample>> {
        self.inner.limits.call(actor)?;
        actor.authorize(&self.load(session_id).await?)?;
        self.inner
            .store
            .viewer_samples(session_id, crate::session::MAX_VIEWER_SAMPLES)
            .await
    }

    /// An agent's recent decisions (the product's `GET /api/agents/decisions`): from the
    /// named session, else the agent's active session, else its newest; only `gameId`'s
    /// oldest first when given, otherwise newest first.
    pub async fn agent_decisions(
        &self,
        actor: &Actor,
        query: AgentDecisionsQuery,
    ) -> Result<AgentDecisions> {
        self.inner.limits.call(actor)?;
        let limit = query.limit.unwrap_or(50);
        if limit == 0 || limit > super::MAX_RECENT_ACTIVITY {
            return Err(Error::invalid(
                "limit",
                format!("must be between 1 and {}", super::MAX_RECENT_ACTIVITY),
            ));
        }
        if let Some(game) = &query.game_id {
            text("gameId", game, 128)?;
        }
        let session = match (&query.session_id, &query.agent_id, actor) {
            (Some(id), _, _) => Some(self.load(id).await?),
            (None, agent, _) => {
                let entity = match (agent, actor) {
                    (Some(agent), _) => Entity::agent(agent)?,
                    (None, Actor::Agent(own)) => Entity::agent(own)?,
                    _ => return Err(Error::invalid("agentId", "is required")),
                };
                if !actor.may_act_for(&entity) {
                    return Err(Error::forbidden("cannot read another agent's decisions"));
                }
                match self.inner.store.active_session(&entity).await? {
                    Some(active) => Some(active),
                    None => self
                        .inner
                        .store
                        .list_sessions(&crate::store::SessionQuery {
                            entity: Some(entity),
                            limit: 1,
                            ..Default::default()
                        })
                        .await?
                        .sessions
                        .into_iter()
                        .next(),
                }
            }
        };
        let Some(session) = session else {
            return Ok(AgentDecisions {
                session_id: None,
                decisions: Vec::new(),
            });
        };
        actor.authorize(&session)?;
        let mut decisions = self
            .inner
            .store
            .recent_activity(&session.id, ActivityKind::Decision, MAX_FEED_READ)
            .await?;
        if let Some(game) = &query.game_id {
            decisions.retain(|d| d.data.get("gameId").and_then(Value::as_str) == Some(game));
            decisions.reverse();
        }
        decisions.truncate(limit as usize);
        Ok(AgentDecisions {
            session_id: Some(session.id),
            decisions,
        })
    }

    async fn record(
        &self,
        id: &SessionId,
        kind: ActivityKind,
        data: Value,
    ) -> Result<RecordedActivity> {
        let activity = Activity {
            kind,
            at: self.now(),
            data,
        };
        let session = self.inner.store.record_activity(id, &activity).await?;
        self.session_changed(id);
        Ok(RecordedActivity {
            success: true,
            session_id: session.id,
            decisions_logged: session.decisions_logged,
            events_recorded: session.events_recorded,
        })
    }

    /// The session an activity is for: the given id, else the caller's (or the named
    /// agent's) active session. The caller must own it.
    async fn target_session(
        &self,
        actor: &Actor,
        session_id: Option<&SessionId>,
        agent_id: Option<&str>,
    ) -> Result<StreamSession> {
        let session = match (session_id, agent_id) {
            (Some(id), _) => self.load(id).await?,
            (None, Some(agent)) => {
                let entity = Entity::agent(agent)?;
                if !actor.may_act_for(&entity) {
                    return Err(Error::forbidden("cannot record for another agent"));
                }
                self.inner
                    .store
                    .active_session(&entity)
                    .await?
                    .ok_or_else(|| Error::not_found("active session"))?
            }
            (None, None) => {
                let entity = actor
                    .entity()
                    .ok_or_else(|| Error::invalid("sessionId", "is required (or agentId)"))?;
                self.inner
                    .store
                    .active_session(&entity)
                    .await?
                    .ok_or_else(|| Error::not_found("active session"))?
            }
        };
        actor.authorize(&session)?;
        if session.status.is_terminal() {
            return Err(Error::conflict("session is over"));
        }
        Ok(session)
    }
}

/// Bounds free-form JSON.
fn small_json(field: &str, value: Option<&Value>) -> Result<()> {
    match value {
        Some(v) if serde_json::to_vec(v).map_or(true, |b| b.len() > MAX_JSON_BYTES) => {
            Err(Error::invalid(
                field,
                format!("must be at most {MAX_JSON_BYTES} bytes of JSON"),
            ))
        }
        _ => Ok(()),
    }
}
