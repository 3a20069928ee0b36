//! [`HostStore`]: the one [`SessionStore`] over a store written in a host language (Python,
//! JavaScript, ...).
//!
//! A binding implements only [`HostCall`]: "call method M of the host object with these JSON
//! arguments and give me its JSON result". Everything else is here, once: the method table
//! with each method's snake_case and camelCase name, the JSON shape of every argument and
//! result (the core's camelCase serde shapes), and what the host's errors mean.
//!
//! | method | arguments | result |
//! |---|---|---|
//! | `insert_session` / `insertSession` | `session` | `{ created, session }` |
//! | `get_session` / `getSession` | `sessionId` | `session \| null` |
//! | `find_by_egress` / `findByEgress` | `egressId` | `session \| null` |
//! | `active_session` / `activeSession` | `entity` | `session \| null` |
//! | `update_session` / `updateSession` | `session` | `session` |
//! | `list_sessions` / `listSessions` | `query` (`entity`, `status`, `activeOnly`, `platform`, `createdFrom`, `createdBefore`, `cursor`, `limit`) | `{ sessions, nextCursor }` |
//! | `record_activity` / `recordActivity` | `sessionId, activity` | `session` |
//! | `recent_activity` / `recentActivity` | `sessionId, kind, limit` | `activity[]` |
//! | `set_viewer_count` / `setViewerCount` | `sessionId, viewers` | `session` |
//! | `claim_event` / `claimEvent` | `eventId, nowMs` | `boolean` |
//! | `release_event` / `releaseEvent` | `eventId` | anything |
//! | `prune_events` / `pruneEvents` (optional) | `claimedBeforeMs` | number of ids forgotten |
//! | `claim_lease` / `claimLease` | `name, holder, nowMs, ttlMs` | `lease` (`name`, `holder`, `expiresAt`) as stored afterwards |
//! | `release_lease` / `releaseLease` | `name, holder` | `boolean` |
//! | `put_credential` / `putCredential` | `credential` | anything |
//! | `get_credential` / `getCredential` | `entity` | `credential \| null` |
//! | `delete_credential` / `deleteCredential` | `entity` | `boolean` |
//! | `list_credentials` / `listCredentials` (optional: key rotation needs it) | `after` (`entity \| null`), `limit` | `credential[]` in (`streamType`, `entityId`) order, byte-wise, strictly after `after` |
//! | `put_game_state` / `putGameState` | `gameState` (`state`, `updatedAt`) | anything |
//! | `get_game_state` / `getGameState` | `lobbyId` | `gameState \| null` |
//! | `record_viewer_samples` / `recordViewerSamples` | `samples` (`viewerSample[]`) | anything |
//! | `viewer_samples` / `viewerSamples` | `sessionId, limit` | `viewerSample[]`, oldest first |
//! | `append_timeline` / `appendTimeline` | `entries` (`timelineEntry[]`) | anything |
//! | `timeline` / `timeline` | `sessionId, limit` | `timelineEntry[]`, in the order appended |
//! | `insert_agent_key` / `insertAgentKey` (optional, with the three below: agent keys) | `agentKey` (`prefix`, `agentId`, `hash`, `label`, `createdAt`, `revokedAt`) | `boolean`: `false` when the prefix is taken (nothing written) |
//! | `agent_key` / `agentKey` | `prefix` | `agentKey \| null` |
//! | `revoke_agent_key` / `revokeAgentKey` | `prefix, nowMs` | `agentKey \| null` as stored afterwards (`revokedAt` set once, kept on a second revocation) |
//! | `list_agent_keys` / `listAgentKeys` | `agentId \| null` | `agentKey[]`, oldest first |
//!
//! A store with the four agent-key methods is also an [`AgentKeyStore`]: it keeps the
//! agents' API keys that [`crate::agent_keys::AgentKeys`] makes and checks (only their hashes).
//!
//! A host method reports the contract's outcomes by raising an error whose code is one of
//! [`HOST_ERROR_CODES`] (`CONFLICT` for a stale `version` or a terminal session,
//! `NOT_FOUND`, `INVALID_INPUT` for a bad cursor, `STORE` when its backing store failed);
//! the binding turns such an error into the core's with [`Error::from_code`]. Any other
//! failure travels as [`Error::External`] with the host's own exception as its source. A
//! result of the wrong shape is `EXTERNAL` naming the method and the field.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::agent_keys::check_prefix;
use super::lease::{check_claim, check_name};
use super::{
    page_size, AgentKey, AgentKeyStore, Insert, Lease, PlatformCredential, SessionPage,
    SessionQuery, SessionStore,
};
use crate::error::{Error, ErrorCode, Result};
use crate::json;
use crate::platform::Platform;
use crate::session::{
    Activity, ActivityKind, Entity, SessionId, SessionStatus, StoredGameState, StreamSession,
    TimelineEntry, ViewerSample, MAX_TIMELINE_ENTRIES, MAX_VIEWER_SAMPLES,
};

/// The error codes a host store may raise to report an outcome of the contract.
pub const HOST_ERROR_CODES: [ErrorCode; 4] = [
    ErrorCode::Conflict,
    ErrorCode::NotFound,
    ErrorCode::InvalidInput,
    ErrorCode::Store,
];

/// The methods of a store, as a host object names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreMethod {
    /// [`SessionStore::insert_session`]
    InsertSession,
    /// [`SessionStore::get_session`]
    GetSession,
    /// [`SessionStore::find_by_egress`]
    FindByEgress,
    /// [`SessionStore::active_session`]
    ActiveSession,
    /// [`SessionStore::update_session`]
    UpdateSession,
    /// [`SessionStore::list_sessions`]
    ListSessions,
    /// [`SessionStore::record_activity`]
    RecordActivity,
    /// [`SessionStore::recent_activity`]
    RecentActivity,
    /// [`SessionStore::set_viewer_count`]
    SetViewerCount,
    /// [`SessionStore::claim_event`]
    ClaimEvent,
    /// [`SessionStore::release_event`]
    ReleaseEvent,
    /// [`SessionStore::prune_events`] (optional: without it, event ids are kept)
    PruneEvents,
    /// [`SessionStore::claim_lease`]
    ClaimLease,
    /// [`SessionStore::release_lease`]
    ReleaseLease,
    /// [`SessionStore::put_credential`]
    PutCredential,
    /// [`SessionStore::get_credential`]
    GetCredential,
    /// [`SessionStore::delete_credential`]
    DeleteCredential,
    /// [`SessionStore::list_credentials`] (optional: without it, stored keys cannot be
    /// rotated)
    ListCredentials,
    /// [`SessionStore::put_game_state`]
    PutGameState,
    /// [`SessionStore::get_game_state`]
    GetGameState,
    /// [`SessionStore::record_viewer_samples`]
    RecordViewerSamples,
    /// [`SessionStore::viewer_samples`]
    ViewerSamples,
    /// [`SessionStore::append_timeline`]
    AppendTimeline,
    /// [`SessionStore::timeline`]
    Timeline,
    /// [`AgentKeyStore::insert_agent_key`] (optional, as are the other agent-key methods)
    InsertAgentKey,
    /// [`AgentKeyStore::agent_key`]
    AgentKey,
    /// [`AgentKeyStore::revoke_agent_key`]
    RevokeAgentKey,
    /// [`AgentKeyStore::list_agent_keys`]
    ListAgentKeys,
}

impl StoreMethod {
    /// Every method, in declaration order.
    pub const ALL: [StoreMethod; 28] = [
        StoreMethod::InsertSession,
        StoreMethod::GetSession,
        StoreMethod::FindByEgress,
        StoreMethod::ActiveSession,
        StoreMethod::UpdateSession,
        StoreMethod::ListSessions,
        StoreMethod::RecordActivity,
        StoreMethod::RecentActivity,
        StoreMethod::SetViewerCount,
        StoreMethod::ClaimEvent,
        StoreMethod::ReleaseEvent,
        StoreMethod::PruneEvents,
        StoreMethod::ClaimLease,
        StoreMethod::ReleaseLease,
        StoreMethod::PutCredential,
        StoreMethod::GetCredential,
        StoreMethod::DeleteCredential,
        StoreMethod::ListCredentials,
        StoreMethod::PutGameState,
        StoreMethod::GetGameState,
        StoreMethod::RecordViewerSamples,
        StoreMethod::ViewerSamples,
        StoreMethod::AppendTimeline,
        StoreMethod::Timeline,
        StoreMethod::InsertAgentKey,
        StoreMethod::AgentKey,
        StoreMethod::RevokeAgentKey,
        StoreMethod::ListAgentKeys,
    ];

    /// The methods that make a store an [`AgentKeyStore`] (all or none).
    pub const AGENT_KEYS: [StoreMethod; 4] = [
        StoreMethod::InsertAgentKey,
        StoreMethod::AgentKey,
        StoreMethod::RevokeAgentKey,
        StoreMethod::ListAgentKeys,
    ];

    /// The Python name, e.g. `insert_session`.
    pub const fn snake_name(self) -> &'static str {
        self.names().0
    }

    /// The JavaScript name, e.g. `insertSession`.
    pub const fn camel_name(self) -> &'static str {
        self.names().1
    }

    /// Whether a host store must have it (`prune_events`, `list_credentials` and the
    /// agent-key methods are optional).
    pub const fn required(self) -> bool {
        !matches!(
            self,
            StoreMethod::PruneEvents
                | StoreMethod::ListCredentials
                | StoreMethod::InsertAgentKey
                | StoreMethod::AgentKey
                | StoreMethod::RevokeAgentKey
                | StoreMethod::ListAgentKeys
        )
    }

    const fn names(self) -> (&'static str, &'static str) {
        match self {
            StoreMethod::InsertSession => ("insert_session", "insertSession"),
            StoreMethod::GetSession => ("get_session", "getSession"),
            StoreMethod::FindByEgress => ("find_by_egress", "findByEgress"),
            StoreMethod::ActiveSession => ("active_session", "activeSession"),
            StoreMethod::UpdateSession => ("update_session", "updateSession"),
            StoreMethod::ListSessions => ("list_sessions", "listSessions"),
            StoreMethod::RecordActivity => ("record_activity", "recordActivity"),
            StoreMethod::RecentActivity => ("recent_activity", "recentActivity"),
            StoreMethod::SetViewerCount => ("set_viewer_count", "setViewerCount"),
            StoreMethod::ClaimEvent => ("claim_event", "claimEvent"),
            StoreMethod::ReleaseEvent => ("release_event", "releaseEvent"),
            StoreMethod::PruneEvents => ("prune_events", "pruneEvents"),
            StoreMethod::ClaimLease => ("claim_lease", "claimLease"),
            StoreMethod::ReleaseLease => ("release_lease", "releaseLease"),
            StoreMethod::PutCredential => ("put_credential", "putCredential"),
            StoreMethod::GetCredential => ("get_credential", "getCredential"),
            StoreMethod::DeleteCredential => ("delete_credential", "deleteCredential"),
            StoreMethod::ListCredentials => ("list_credentials", "listCredentials"),
            StoreMethod::PutGameState => ("put_game_state", "putGameState"),
            StoreMethod::GetGameState => ("get_game_state", "getGameState"),
            StoreMethod::RecordViewerSamples => ("record_viewer_samples", "recordViewerSamples"),
            StoreMethod::ViewerSamples => ("viewer_samples", "viewerSamples"),
            StoreMethod::AppendTimeline => ("append_timeline", "appendTimeline"),
            StoreMethod::Timeline => ("timeline", "timeline"),
            StoreMethod::InsertAgentKey => ("insert_agent_key", "insertAgentKey"),
            StoreMethod::AgentKey => ("agent_key", "agentKey"),
            StoreMethod::RevokeAgentKey => ("revoke_agent_key", "revokeAgentKey"),
            StoreMethod::ListAgentKeys => ("list_agent_keys", "listAgentKeys"),
        }
    }
}

/// What a binding implements: calls into the host object.
#[async_trait]
pub trait HostCall: Send + Sync {
    /// Calls `method` of the host object with `args` (JSON values in the core's shapes) and
    /// returns its JSON result. A host error with one of [`HOST_ERROR_CODES`] is returned as
    /// [`Error::from_code`] makes it; any other failure as [`Error::External`].
    async fn call(&self, method: StoreMethod, args: Vec<Value>) -> Result<Value>;
}

/// A [`SessionStore`] over a host object. See the module docs for the protocol.
pub struct HostStore {
    host: Box<dyn HostCall>,
    name: String,
    method_name: fn(StoreMethod) -> &'static str,
    prunes: bool,
    lists_credentials: bool,
    keeps_agent_keys: bool,
}

impl fmt::Debug for HostStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HostStore({})", self.name)
    }
}

/// What `insert_session` returns.
#[derive(Deserialize, JsonSchema)]
#[serde(expecting = "an object with created and session")]
#[schemars(rename = "InsertResult")]
pub(crate) struct Inserted {
    /// `false` when the entity already has an active session (then nothing was written).
    created: bool,
    /// The stored session (`version` 1), or the entity's active one.
    session: StreamSession,
}

/// The argument of `list_sessions`: filters and position; results are newest first.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "SessionQuery")]
pub(crate) struct ListQuery {
    /// Only this entity's sessions.
    entity: Option<Entity>,
    /// Only sessions with this status.
    status: Option<SessionStatus>,
    /// Only non-terminal sessions.
    active_only: bool,
    /// Only sessions whose primary `platform` is this one.
    platform: Option<Platform>,
    /// Only sessions created at or after, Unix ms.
    created_from: Option<i64>,
    /// Only sessions created before, Unix ms.
    created_before: Option<i64>,
    /// A `nextCursor` from a previous page; one the store did not make is `INVALID_INPUT`.
    cursor: Option<String>,
    /// Page size (1 to 500).
    limit: usize,
}

impl HostStore {
    /// A store over `host`, an object called `name` (its class, for messages) whose methods
    /// `has` says exist. [`Error::InvalidInput`] (field `store`) names every required method
    /// it lacks, by `method_name` (the host language's spelling), and the agent-key methods
    /// it lacks when it has some of them but not all.
    pub fn new(
        host: impl HostCall + 'static,
        name: impl Into<String>,
        has: impl Fn(StoreMethod) -> bool,
        method_name: fn(StoreMethod) -> &'static str,
    ) -> Result<Self> {
        let name = name.into();
        let missing: Vec<&str> = StoreMethod::ALL
            .into_iter()
            .filter(|m| m.required() && !has(*m))
            .map(method_name)
            .collect();
        if !missing.is_empty() {
            return Err(Error::invalid(
                "store",
                format!(
                    "{name} is not a session store: it lacks {}",
                    missing.join(", ")
                ),
            ));
        }
        let agent_key_methods: Vec<&str> = StoreMethod::AGENT_KEYS
            .into_iter()
            .filter(|m| !has(*m))
            .map(method_name)
            .collect();
        if !agent_key_methods.is_empty() && agent_key_methods.len() < StoreMethod::AGENT_KEYS.len()
        {
            return Err(Error::invalid(
                "store",
                format!(
                    "{name} has some of the agent-key methods but lacks {}",
                    agent_key_methods.join(", ")
                ),
            ));
        }
        Ok(Self {
            prunes: has(StoreMethod::PruneEvents),
            lists_credentials: has(StoreMethod::ListCredentials),
            keeps_agent_keys: agent_key_methods.is_empty(),
            host: Box::new(host),
            name,
            method_name,
        })
    }

    /// Whether the host object has the agent-key methods (so that this is an
    /// [`AgentKeyStore`] that works).
    pub fn keeps_agent_keys(&self) -> bool {
        self.keeps_agent_keys
    }

    /// `INVALID_INPUT` (field `store`, naming the methods) unless the host keeps agent keys.
    pub fn require_agent_keys(&self) -> Result<()> {
        if self.keeps_agent_keys {
            return Ok(());
        }
        let methods: Vec<&str> = StoreMethod::AGENT_KEYS
            .into_iter()
            .map(self.method_name)
            .collect();
        Err(Error::invalid(
            "store",
            format!(
                "{} keeps no agent keys: it lacks {}",
                self.name,
                methods.join(", ")
            ),
        ))
    }

    /// `Store.method`, in the host language's spelling.
    fn qualified(&self, method: StoreMethod) -> String {
        format!("{}.{}", self.name, (self.method_name)(method))
    }

    /// Calls `method` on the host; a `STORE` failure says which method failed.
    async fn raw(&self, method: StoreMethod, args: Vec<Value>) -> Result<Value> {
        self.host.call(method, args).await.map_err(|e| match e {
            Error::Store { message } => Error::Store {
                message: format!("{}: {message}", self.qualified(method)),
            },
            other => other,
        })
    }

    /// Calls `method` and reads its result as a `T` (extra fields are tolerated).
    async fn call<T: DeserializeOwned>(&self, method: StoreMethod, args: Vec<Value>) -> Result<T> {
        let value = self.raw(method, args).await?;
        json::value_lenient("result", value).map_err(|err| {
            let detail = match &err {
                Error::InvalidInput { field, reason } if field == "result" => format!(": {reason}"),
                Error::InvalidInput { field, reason } => format!(" at {field}: {reason}"),
                other => format!(": {other}"),
            };
            Error::External {
                message: format!(
                    "{} returned an invalid value{detail}",
                    self.qualified(method)
                ),
                source: Arc::new(err),
            }
        })
    }

    /// Calls `method` for its effect only.
    async fn call_unit(&self, method: StoreMethod, args: Vec<Value>) -> Result<()> {
        self.raw(method, args).await.map(drop)
    }
}

/// `value` as a JSON argument.
fn arg<T: Serialize>(value: &T) -> Result<Value> {
    json::to_value(value)
}

#[async_trait]
impl SessionStore for HostStore {
    async fn insert_session(&self, session: &StreamSession) -> Result<Insert> {
        let out: Inserted = self
            .call(StoreMethod::InsertSession, vec![arg(session)?])
            .await?;
        Ok(if out.created {
            Insert::Created(out.session)
        } else {
            Insert::Existing(out.session)
        })
    }

    async fn get_session(&self, id: &SessionId) -> Result<Option<StreamSession>> {
        self.call(StoreMethod::GetSession, vec![arg(id)?]).await
    }

    async fn find_by_egress(&self, egress_id: &str) -> Result<Option<StreamSession>> {
        self.call(StoreMethod::FindByEgress, vec![egress_id.into()])
            .await
    }

    async fn active_session(&self, entity: &Entity) -> Result<Option<StreamSession>> {
        self.call(StoreMethod::ActiveSession, vec![arg(entity)?])
            .await
    }

    async fn update_session(&self, session: &StreamSession) -> Result<StreamSession> {
        self.call(StoreMethod::UpdateSession, vec![arg(session)?])
            .await
    }

    async fn list_sessions(&self, query: &SessionQuery) -> Result<SessionPage> {
        let query = ListQuery {
            entity: query.entity.clone(),
            status: query.status,
            active_only: query.active_only,
            platform: query.platform,
            created_from: query.created_from,
            created_before: query.created_before,
            cursor: query.cursor.clone(),
            limit: query.page_size(),
        };
        self.call(StoreMethod::ListSessions, vec![arg(&query)?])
            .await
    }

    async fn record_activity(&self, id: &SessionId, activity: &Activity) -> Result<StreamSession> {
        let args = vec![arg(id)?, arg(activity)?];
        self.call(StoreMethod::RecordActivity, args).await
    }

    async fn recent_activity(
        &self,
        id: &SessionId,
        kind: ActivityKind,
        limit: usize,
    ) -> Result<Vec<Activity>> {
        let args = vec![arg(id)?, kind.as_str().into(), limit.into()];
        self.call(StoreMethod::RecentActivity, args).await
    }

    async fn set_viewer_count(&self, id: &SessionId, viewers: u64) -> Result<StreamSession> {
        let args = vec![arg(id)?, viewers.into()];
        self.call(StoreMethod::SetViewerCount, args).await
    }

    async fn claim_event(&self, event_id: &str, now_ms: i64) -> Result<bool> {
        let args = vec![event_id.into(), now_ms.into()];
        self.call(StoreMethod::ClaimEvent, args).await
    }

    async fn release_event(&self, event_id: &str) -> Result<()> {
        self.call_unit(StoreMethod::ReleaseEvent, vec![event_id.into()])
            .await
    }

    async fn prune_events(&self, claimed_before_ms: i64) -> Result<u64> {
        if !self.prunes {
            return Ok(0);
        }
        self.call(StoreMethod::PruneEvents, vec![claimed_before_ms.into()])
            .await
    }

    async fn claim_lease(
        &self,
        name: &str,
        holder: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<Lease> {
        check_claim(name, holder, ttl_ms)?;
        let args = vec![name.into(), holder.into(), now_ms.into(), ttl_ms.into()];
        self.call(StoreMethod::ClaimLease, args).await
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<bool> {
        check_name(name)?;
        self.call(StoreMethod::ReleaseLease, vec![name.into(), holder.into()])
            .await
    }

    async fn put_credential(&self, credential: &PlatformCredential) -> Result<()> {
        self.call_unit(StoreMethod::PutCredential, vec![arg(credential)?])
            .await
    }

    async fn get_credential(&self, entity: &Entity) -> Result<Option<PlatformCredential>> {
        self.call(StoreMethod::GetCredential, vec![arg(entity)?])
            .await
    }

    async fn delete_credential(&self, entity: &Entity) -> Result<bool> {
        self.call(StoreMethod::DeleteCredential, vec![arg(entity)?])
            .await
    }

    async fn list_credentials(
        &self,
        after: Option<&Entity>,
        limit: usize,
    ) -> Result<Vec<PlatformCredential>> {
        if !self.lists_credentials {
            return Err(Error::invalid(
                "store",
                format!(
                    "{} lacks {}, which listing credentials (key rotation) needs",
                    self.name,
                    (self.method_name)(StoreMethod::ListCredentials)
                ),
            ));
        }
        let args = vec![arg(&after)?, page_size(limit).into()];
        self.call(StoreMethod::ListCredentials, args).await
    }

    async fn put_game_state(&self, state: &StoredGameState) -> Result<()> {
        self.call_unit(StoreMethod::PutGameState, vec![arg(state)?])
            .await
    }

    async fn get_game_state(&self, lobby_id: &str) -> Result<Option<StoredGameState>> {
        self.call(StoreMethod::GetGameState, vec![lobby_id.into()])
            .await
    }

    async fn record_viewer_samples(&self, samples: &[ViewerSample]) -> Result<()> {
        if samples.is_empty() {
            return Ok(());
        }
        self.call_unit(StoreMethod::RecordViewerSamples, vec![arg(&samples)?])
            .await
    }

    async fn viewer_samples(
        &self,
        session_id: &SessionId,
        limit: usize,
    ) -> Result<Vec<ViewerSample>> {
        let limit = limit.min(MAX_VIEWER_SAMPLES);
        let mut samples: Vec<ViewerSample> = self
            .call(
                StoreMethod::ViewerSamples,
                vec![arg(session_id)?, Value::from(limit)],
            )
            .await?;
        samples.truncate(limit);
        Ok(samples)
    }

    async fn append_timeline(&self, entries: &[TimelineEntry]) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        self.call_unit(StoreMethod::AppendTimeline, vec![arg(&entries)?])
            .await
    }

    async fn timeline(&self, session_id: &SessionId, limit: usize) -> Result<Vec<TimelineEntry>> {
        let limit = limit.min(MAX_TIMELINE_ENTRIES);
        let mut entries: Vec<TimelineEntry> = self
            .call(
                StoreMethod::Timeline,
                vec![arg(session_id)?, Value::from(limit)],
            )
            .await?;
        entries.truncate(limit);
        Ok(entries)
    }
}

#[async_trait]
impl AgentKeyStore for HostStore {
    async fn insert_agent_key(&self, key: &AgentKey) -> Result<bool> {
        self.require_agent_keys()?;
        check_prefix(&key.prefix)?;
        self.call(StoreMethod::InsertAgentKey, vec![arg(key)?])
            .await
    }

    async fn agent_key(&self, prefix: &str) -> Result<Option<AgentKey>> {
        self.require_agent_keys()?;
        check_prefix(prefix)?;
        self.call(StoreMethod::AgentKey, vec![prefix.into()]).await
    }

    async fn revoke_agent_key(&self, prefix: &str, now_ms: i64) -> Result<Option<AgentKey>> {
        self.require_agent_keys()?;
        check_prefix(prefix)?;
        let args = vec![prefix.into(), now_ms.into()];
        self.call(StoreMethod::RevokeAgentKey, args).await
    }

    async fn list_agent_keys(&self, agent_id: Option<&str>) -> Result<Vec<AgentKey>> {
        self.require_agent_keys()?;
        self.call(StoreMethod::ListAgentKeys, vec![agent_id.into()])
            .await
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_method_has_both_names() {
        let (mut snake, mut camel) = (
            std::collections::HashSet::new(),
            std::collections::HashSet::new(),
        );
        for m in StoreMethod::ALL {
            assert!(snake.insert(m.snake_name()));
            assert!(camel.insert(m.camel_name()));
            assert!(m
                .snake_name()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '_'));
            assert!(!m.camel_name().contains('_'));
        }
        assert_eq!(snake.len(), StoreMethod::ALL.len());
        assert_eq!(camel.len(), StoreMethod::ALL.len());
        assert_eq!(StoreMethod::ALL.iter().filter(|m| !m.required()).count(), 6);
        assert!(StoreMethod::AGENT_KEYS.iter().all(|m| !m.required()));
    }

    struct Nothing;

    #[async_trait]
    impl HostCall for Nothing {
        async fn call(&self, _: StoreMethod, _: Vec<Value>) -> Result<Value> {
            Ok(Value::Null)
        }
    }

    #[test]
    fn a_host_object_lacking_methods_is_refused_naming_them() {
        let err = HostStore::new(
            Nothing,
            "DictStore",
            |m| m != StoreMethod::GetSession && m != StoreMethod::ClaimEvent,
            StoreMethod::snake_name,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid store: DictStore is not a session store: it lacks get_session, claim_event"
        );
        let without_prune = HostStore::new(
            Nothing,
            "S",
            |m| m != StoreMethod::PruneEvents,
            StoreMethod::camel_name,
        );
        assert!(without_prune.is_ok());
    }

    #[tokio::test]
    async fn agent_key_methods_come_all_together_or_not_at_all() {
        let partial = HostStore::new(
            Nothing,
            "JsStore",
            |m| m != StoreMethod::RevokeAgentKey && m != StoreMethod::ListAgentKeys,
            StoreMethod::camel_name,
        )
        .unwrap_err();
        assert_eq!(
            partial.to_string(),
            "invalid store: JsStore has some of the agent-key methods but lacks revokeAgentKey, listAgentKeys"
        );
        let without = HostStore::new(
            Nothing,
            "JsStore",
            |m| !StoreMethod::AGENT_KEYS.contains(&m),
            StoreMethod::camel_name,
        )
        .unwrap();
        assert!(!without.keeps_agent_keys());
        let err = without.agent_key("ltcg_abcdefg").await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidInput);
        assert!(
            err.to_string().contains(
                "JsStore keeps no agent keys: it lacks insertAgentKey, agentKey, revokeAgentKey, listAgentKeys"
            ),
            "{err}"
        );
        let with = HostStore::new(Nothing, "JsStore", |_| true, StoreMethod::camel_name).unwrap();
        assert!(with.keeps_agent_keys());
        assert_eq!(with.agent_key("ltcg_abcdefg").await.unwrap(), None);
        let bad_prefix = with.agent_key("not a prefix").await.unwrap_err();
        assert_eq!(bad_prefix.code(), ErrorCode::InvalidInput);
    }

    #[tokio::test]
    async fn a_result_of_the_wrong_shape_names_method_and_field() {
        struct Bad;
        #[async_trait]
        impl HostCall for Bad {
            async fn call(&self, _: StoreMethod, _: Vec<Value>) -> Result<Value> {
                Ok(json!({"created": "yes", "session": {}}))
            }
        }
        let store = HostStore::new(Bad, "Bad", |_| true, StoreMethod::snake_name).unwrap();
        let entity = Entity {
            stream_type: crate::session::StreamType::Agent,
            entity_id: "agent_shape".into(),
        };
        let session = crate::store::conformance::sample_session(&entity, 1);
        let err = store.insert_session(&session).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::External);
        assert!(
            err.to_string()
                .starts_with("Bad.insert_session returned an invalid value at created"),
            "{err}"
        );
    }
}
