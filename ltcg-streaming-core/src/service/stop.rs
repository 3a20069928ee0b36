//! Stopping streams and reading their status.

use std::collections::BTreeMap;

use super::{
    Actor, ListSessionsRequest, Preview, SessionList, SessionStatusView, StatusReads,
    StopStreamRequest, StopStreamResponse, StreamingService,
};
use crate::error::{Error, Result};
use crate::session::{end_reason, Entity, SessionEvent, SessionId, StreamSession};
use crate::store::SessionQuery;

impl StreamingService {
    /// Stops a session, or every active session of an agent. Idempotent: sessions that
    /// already ended are reported in `alreadyEndedSessionIds`. The egress is stopped and
    /// the stats are frozen.
    ///
    /// With neither `sessionId` nor `agentId`, a user or agent stops its own active
    /// sessions.
    #[tracing::instrument(name = "stop_stream", skip_all, fields(actor = %actor, session_id = tracing::field::Empty))]
    pub async fn stop_stream(
        &self,
        actor: &Actor,
        req: StopStreamRequest,
    ) -> Result<StopStreamResponse> {
        if let Some(id) = &req.session_id {
            tracing::Span::current().record("session_id", tracing::field::display(id));
        }
        let result = self.stop_once(actor, req).await;
        if let Err(e) = &result {
            crate::telemetry::failed("stop", e);
        }
        result
    }

    /// [`Self::stop_stream`] without the metrics.
    async fn stop_once(&self, actor: &Actor, req: StopStreamRequest) -> Result<StopStreamResponse> {
        self.inner.limits.call(actor)?;
        let reason = end_reason::caller_reason(req.reason.as_deref())?;
        let targets: Vec<StreamSession> = match (&req.session_id, &req.agent_id) {
            (Some(id), _) => {
                let session = self.load(id).await?;
                actor.authorize(&session)?;
                vec![session]
            }
            (None, Some(agent_id)) => {
                let entity = Entity::agent(agent_id)?;
                if !actor.may_act_for(&entity) {
                    return Err(Error::forbidden("cannot stop another agent's streams"));
                }
                self.active_sessions_of(entity).await?
            }
            (None, None) => match actor.entity() {
                Some(entity) => self.active_sessions_of(entity).await?,
                None => return Err(Error::invalid("sessionId", "is required (or agentId)")),
            },
        };
        if targets.is_empty() {
            return Err(Error::not_found("active session"));
        }
        let mut stopped = Vec::new();
        let mut already = Vec::new();
        let mut stats_by_session = BTreeMap::new();
        for target in &targets {
            let t = self
                .apply_to(
                    target.clone(),
                    &SessionEvent::Stop {
                        reason: reason.clone(),
                    },
                    None,
                )
                .await?;
            if t.changed {
                stopped.push(target.id.clone());
            } else {
                already.push(target.id.clone());
            }
            if let Some(stats) = t.session.stats {
                stats_by_session.insert(target.id.to_string(), stats);
            }
        }
        let already_ended = stopped.is_empty();
        Ok(StopStreamResponse {
            success: true,
            session_id: stopped.first().or(already.first()).cloned(),
            stats: (targets.len() == 1)
                .then(|| stats_by_session.values().next().copied())
                .flatten(),
            message: if already_ended {
                "Session already ended".into()
            } else {
                format!("Stopped {} session(s)", stopped.len())
            },
            stopped_session_ids: stopped,
            already_ended_session_ids: already,
            already_ended,
            stats_by_session,
        })
    }

    /// The public status of a session (no secrets). Who may read it follows
    /// [`StatusReads`]: any authenticated caller by default; with [`StatusReads::Owner`]
    /// another user's or agent's session is `NOT_FOUND`.
    pub async fn get_status(
        &self,
        actor: &Actor,
        session_id: &SessionId,
    ) -> Result<SessionStatusView> {
        self.inner.limits.call(actor)?;
        let session = self.load(session_id).await?;
        if self.inner.status_reads == StatusReads::Owner && !actor.may_act_for(&session.entity) {
            return Err(Error::not_found("session"));
        }
        Ok(self.view(&session))
    }

    /// The latest picture of a live session's stream, for its owner or internal callers
    /// (another user's or agent's session is `NOT_FOUND`, whatever [`StatusReads`] says: a
    /// picture shows more than a status): the egress's own when it makes thumbnails (a
    /// local render), otherwise the platform's preview image of the channel (primary
    /// destination first); `None` when there is neither (yet), or the session has ended.
    pub async fn thumbnail(
        &self,
        actor: &Actor,
        session_id: &SessionId,
    ) -> Result<Option<Preview>> {
        self.inner.limits.call(actor)?;
        let session = self.load(session_id).await?;
        if !actor.may_act_for(&session.entity) {
            return Err(Error::not_found("session"));
        }
        if !session.status.is_active() {
            return Ok(None);
        }
        if let Some(egress) = &session.egress_id {
            if let Some(picture) = self.inner.egress.thumbnail(egress).await? {
                return Ok(Some(Preview::Picture(picture)));
            }
        }
        let mut active: Vec<_> = session
            .destinations
            .iter()
            .filter(|d| d.status == crate::session::DestinationStatus::Active)
            .collect();
        active.sort_by_key(|d| !d.primary);
        Ok(active
            .into_iter()
            .find_map(|d| d.preview_url.clone())
            .map(Preview::Platform))
    }

    /// Sessions, newest first, one page at a time. Users and agents see only their own.
    pub async fn list_sessions(
        &self,
        actor: &Actor,
        req: ListSessionsRequest,
    ) -> Result<SessionList> {
        self.inner.limits.call(actor)?;
        let entity = actor.visible_entity(req.stream_type, req.entity_id.as_deref())?;
        let page = self
            .inner
            .store
            .list_sessions(&SessionQuery {
                entity,
                status: req.status,
                active_only: req.active,
                platform: req.platform,
                created_from: req.since,
                created_before: req.until,
                cursor: req.cursor,
                limit: req.limit.unwrap_or(0),
            })
            .await?;
        let now = self.now();
        let sessions: Vec<_> = page
            .sessions
            .iter()
            .map(|s| SessionStatusView::of(s, now))
            .collect();
        Ok(SessionList {
            count: sessions.len(),
            sessions,
            next_cursor: page.next_cursor,
        })
    }

    /// The status of a session `actor` may act for (its owner, or internal callers), and
    /// `None` for anyone else's or a missing one: for feeds pushed to a caller (the
    /// dashboard's events), which must not reveal other callers' sessions whatever
    /// [`StatusReads`] says. Not rate limited: the server pushes it, the caller asks once.
    pub async fn owned_status(
        &self,
        actor: &Actor,
        session_id: &SessionId,
    ) -> Result<Option<SessionStatusView>> {
        Ok(self
            .inner
            .store
            .get_session(session_id)
            .await?
            .filter(|s| actor.may_act_for(&s.entity))
            .map(|s| SessionStatusView::of(&s, self.now())))
    }

    /// Every active session of `entity` (all pages).
    async fn active_sessions_of(&self, entity: Entity) -> Result<Vec<StreamSession>> {
        self.all_sessions(SessionQuery {
            entity: Some(entity),
            active_only: true,
            ..SessionQuery::default()
        })
        .await
    }
}
