//! [`MemoryStore`]: everything in process memory, behind one lock.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use tokio::sync::RwLock;

use super::agent_keys::{check_prefix, AgentKey, AgentKeyStore};
use super::lease::{check_claim, check_name};
use super::{
    page_size, Cursor, Insert, Lease, PlatformCredential, SessionPage, SessionQuery, SessionStore,
};
use crate::error::{Error, Result};
use crate::session::{
    Activity, ActivityKind, Entity, SessionId, StoredGameState, StreamSession, TimelineEntry,
    ViewerSample, MAX_TIMELINE_ENTRIES, MAX_VIEWER_SAMPLES,
};

/// Most activities kept per session and kind (older ones are dropped; counters keep
/// counting).
const FEED_CAPACITY: usize = 1_000;

#[derive(Debug, Default)]
struct State {
    sessions: HashMap<SessionId, StreamSession>,
    /// Newest-first order: (createdAt, id) ascending, iterated in reverse.
    order: BTreeMap<(i64, SessionId), ()>,
    active: HashMap<Entity, SessionId>,
    by_egress: HashMap<String, SessionId>,
    feeds: HashMap<(SessionId, ActivityKind), Vec<Activity>>,
    /// Claimed event ids and when they were claimed.
    events: HashMap<String, i64>,
    credentials: HashMap<Entity, PlatformCredential>,
    leases: HashMap<String, Lease>,
    agent_keys: BTreeMap<String, AgentKey>,
    games: HashMap<String, StoredGameState>,
    /// Per session: (time, destination id) → viewers.
    samples: HashMap<SessionId, BTreeMap<(i64, String), ViewerSample>>,
    timelines: HashMap<SessionId, Vec<TimelineEntry>>,
}

/// A [`SessionStore`] in process memory: fast, exact, and gone when the process exits.
/// For tests, development and single-process tools.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: RwLock<State>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl State {
    fn index(&mut self, session: &StreamSession) {
        if let Some(egress) = &session.egress_id {
            self.by_egress.insert(egress.clone(), session.id.clone());
        }
        if session.status.is_terminal() && self.active.get(&session.entity) == Some(&session.id) {
            self.active.remove(&session.entity);
        }
    }

    fn active_mut(&mut self, id: &SessionId) -> Result<&mut StreamSession> {
        let session = self
            .sessions
            .get_mut(id)
            .ok_or_else(|| Error::not_found("session"))?;
        if session.status.is_terminal() {
            return Err(Error::conflict("session is over"));
        }
        Ok(session)
    }
}

#[async_trait]
impl SessionStore for MemoryStore {
    async fn insert_session(&self, session: &StreamSession) -> Result<Insert> {
        let mut state = self.state.write().await;
        if let Some(existing) = state.active.get(&session.entity) {
            return Ok(Insert::Existing(state.sessions[existing].clone()));
        }
        if state.sessions.contains_key(&session.id) {
            return Err(Error::conflict("session id already exists"));
        }
        let mut stored = session.clone();
        stored.version = 1;
        if stored.status.is_active() {
            state
                .active
                .insert(stored.entity.clone(), stored.id.clone());
        }
        state
            .order
            .insert((stored.created_at, stored.id.clone()), ());
        state.index(&stored);
        state.sessions.insert(stored.id.clone(), stored.clone());
        Ok(Insert::Created(stored))
    }

    async fn get_session(&self, id: &SessionId) -> Result<Option<StreamSession>> {
        Ok(self.state.read().await.sessions.get(id).cloned())
    }

    async fn find_by_egress(&self, egress_id: &str) -> Result<Option<StreamSession>> {
        let state = self.state.read().await;
        Ok(state
            .by_egress
            .get(egress_id)
            .and_then(|id| state.sessions.get(id))
            .cloned())
    }

    async fn active_session(&self, entity: &Entity) -> Result<Option<StreamSession>> {
        let state = self.state.read().await;
        Ok(state
            .active
            .get(entity)
            .and_then(|id| state.sessions.get(id))
            .cloned())
    }

    async fn update_session(&self, session: &StreamSession) -> Result<StreamSession> {
        let mut state = self.state.write().await;
        let stored = state
            .sessions
            .get(&session.id)
            .ok_or_else(|| Error::not_found("session"))?;
        if stored.version != session.version {
            return Err(Error::conflict("session was changed concurrently"));
        }
        let mut next = session.clone();
        next.viewer_count = stored.viewer_count;
        next.peak_viewer_count = stored.peak_viewer_count;
        next.decisions_logged = stored.decisions_logged;
        next.events_recorded = stored.events_recorded;
        next.version = stored.version + 1;
        state.index(&next);
        state.sessions.insert(next.id.clone(), next.clone());
        Ok(next)
    }

    async fn list_sessions(&self, query: &SessionQuery) -> Result<SessionPage> {
        let cursor = query.cursor.as_deref().map(Cursor::decode).transpose()?;
        let size = query.page_size();
        let state = self.state.read().await;
        let mut sessions = Vec::with_capacity(size.min(64));
        let mut more = false;
        for (_, id) in state.order.keys().rev() {
            let session = &state.sessions[id];
            if cursor.as_ref().is_some_and(|c| !c.is_before(session)) || !query.matches(session) {
                continue;
            }
            if sessions.len() == size {
                more = true;
                break;
            }
            sessions.push(session.clone());
        }
        let next_cursor = more
            .then(|| sessions.last().map(|s| Cursor::after(s).encode()))
            .flatten();
        Ok(SessionPage {
            sessions,
            next_cursor,
        })
    }

    async fn record_activity(&self, id: &SessionId, activity: &Activity) -> Result<StreamSession> {
        let mut state = self.state.write().await;
        let session = state.active_mut(id)?;
        match activity.kind {
            ActivityKind::Decision => session.decisions_logged += 1,
            ActivityKind::Event => session.events_recorded += 1,
        }
        session.version += 1;
        let updated = session.clone();
        let feed = state.feeds.entry((id.clone(), activity.kind)).or_default();
        feed.push(activity.clone());
        if feed.len() > FEED_CAPACITY {
            feed.drain(..feed.len() - FEED_CAPACITY);
        }
        Ok(updated)
    }

    async fn recent_activity(
        &self,
        id: &SessionId,
        kind: ActivityKind,
        limit: usize,
    ) -> Result<Vec<Activity>> {
        let state = self.state.read().await;
        Ok(state
            .feeds
            .get(&(id.clone(), kind))
            .map(|feed| feed.iter().rev().take(limit).cloned().collect())
            .unwrap_or_default())
    }

    async fn set_viewer_count(&self, id: &SessionId, viewers: u64) -> Result<StreamSession> {
        let mut state = self.state.write().await;
        let session = state.active_mut(id)?;
        session.viewer_count = viewers;
        session.peak_viewer_count = session.peak_viewer_count.max(viewers);
        session.version += 1;
        Ok(session.clone())
    }

    async fn claim_event(&self, event_id: &str, now_ms: i64) -> Result<bool> {
        let mut state = self.state.write().await;
        if state.events.contains_key(event_id) {
            return Ok(false);
        }
        state.events.insert(event_id.to_owned(), now_ms);
        Ok(true)
    }

    async fn release_event(&self, event_id: &str) -> Result<()> {
        self.state.write().await.events.remove(event_id);
        Ok(())
    }

    async fn prune_events(&self, claimed_before_ms: i64) -> Result<u64> {
        let mut state = self.state.write().await;
        let before = state.events.len();
        state.events.retain(|_, at| *at >= claimed_before_ms);
        Ok((before - state.events.len()) as u64)
    }

    async fn claim_lease(
        &self,
        name: &str,
        holder: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<Lease> {
        check_claim(name, holder, ttl_ms)?;
        let mut state = self.state.write().await;
        let lease = state
            .leases
            .entry(name.to_owned())
            .or_insert_with(|| Lease {
                name: name.to_owned(),
                holder: holder.to_owned(),
                expires_at: i64::MIN,
            });
        if lease.can_be_taken(holder, now_ms) {
            lease.holder = holder.to_owned();
            lease.expires_at = now_ms.saturating_add(ttl_ms);
        }
        Ok(lease.clone())
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<bool> {
        check_name(name)?;
        let mut state = self.state.write().await;
        let held = state.leases.get(name).is_some_and(|l| l.holder == holder);
        if held {
            state.leases.remove(name);
        }
        Ok(held)
    }

    async fn put_credential(&self, credential: &PlatformCredential) -> Result<()> {
        self.state
            .write()
            .await
            .credentials
            .insert(credential.entity.clone(), credential.clone());
        Ok(())
    }

    async fn get_credential(&self, entity: &Entity) -> Result<Option<PlatformCredential>> {
        Ok(self.state.read().await.credentials.get(entity).cloned())
    }

    async fn delete_credential(&self, entity: &Entity) -> Result<bool> {
        Ok(self
            .state
            .write()
            .await
            .credentials
            .remove(entity)
            .is_some())
    }

    async fn list_credentials(
        &self,
        after: Option<&Entity>,
        limit: usize,
    ) -> Result<Vec<PlatformCredential>> {
        let state = self.state.read().await;
        let order = |e: &Entity| (e.stream_type.as_str(), e.entity_id.clone());
        let after = after.map(order);
        let mut page: Vec<&PlatformCredential> = state
            .credentials
            .values()
            .filter(|c| after.as_ref().is_none_or(|a| order(&c.entity) > *a))
            .collect();
        page.sort_by_key(|c| order(&c.entity));
        Ok(page.into_iter().take(page_size(limit)).cloned().collect())
    }

    async fn put_game_state(&self, state: &StoredGameState) -> Result<()> {
        self.state
            .write()
            .await
            .games
            .insert(state.state.lobby_id.clone(), state.clone());
        Ok(())
    }

    async fn get_game_state(&self, lobby_id: &str) -> Result<Option<StoredGameState>> {
        Ok(self.state.read().await.games.get(lobby_id).cloned())
    }

    async fn record_viewer_samples(&self, samples: &[ViewerSample]) -> Result<()> {
        let mut state = self.state.write().await;
        for s in samples {
            state
                .samples
                .entry(s.session_id.clone())
                .or_default()
                .insert((s.at, s.destination_id.clone()), s.clone());
        }
        Ok(())
    }

    async fn viewer_samples(
        &self,
        session_id: &SessionId,
        limit: usize,
    ) -> Result<Vec<ViewerSample>> {
        Ok(self
            .state
            .read()
            .await
            .samples
            .get(session_id)
            .map(|all| {
                all.values()
                    .take(limit.min(MAX_VIEWER_SAMPLES))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn append_timeline(&self, entries: &[TimelineEntry]) -> Result<()> {
        let mut state = self.state.write().await;
        for e in entries {
            state
                .timelines
                .entry(e.session_id.clone())
                .or_default()
                .push(e.clone());
        }
        Ok(())
    }

    async fn timeline(&self, session_id: &SessionId, limit: usize) -> Result<Vec<TimelineEntry>> {
        Ok(self
            .state
            .read()
            .await
            .timelines
            .get(session_id)
            .map(|all| {
                all.iter()
                    .take(limit.min(MAX_TIMELINE_ENTRIES))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }
}

#[async_trait]
impl AgentKeyStore for MemoryStore {
    async fn insert_agent_key(&self, key: &AgentKey) -> Result<bool> {
        check_prefix(&key.prefix)?;
        let mut state = self.state.write().await;
        if state.agent_keys.contains_key(&key.prefix) {
            return Ok(false);
        }
        state.agent_keys.insert(key.prefix.clone(), key.clone());
        Ok(true)
    }

    async fn agent_key(&self, prefix: &str) -> Result<Option<AgentKey>> {
        Ok(self.state.read().await.agent_keys.get(prefix).cloned())
    }

    async fn revoke_agent_key(&self, prefix: &str, now_ms: i64) -> Result<Option<AgentKey>> {
        let mut state = self.state.write().await;
        Ok(state.agent_keys.get_mut(prefix).map(|key| {
            key.revoked_at.get_or_insert(now_ms);
            key.clone()
        }))
    }

    async fn list_agent_keys(&self, agent_id: Option<&str>) -> Result<Vec<AgentKey>> {
        let state = self.state.read().await;
        let mut keys: Vec<AgentKey> = state
            .agent_keys
            .values()
            .filter(|key| agent_id.is_none_or(|agent| key.agent_id == agent))
            .cloned()
            .collect();
        keys.sort_by(|a, b| (a.created_at, &a.prefix).cmp(&(b.created_at, &b.prefix)));
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::session_store_conformance!(async { MemoryStore::new() });

    #[tokio::test]
    async fn agent_keys_conform() {
        let result = crate::store::conformance::agent_keys(&MemoryStore::new()).await;
        assert_eq!(result, Ok(()));
    }
}
