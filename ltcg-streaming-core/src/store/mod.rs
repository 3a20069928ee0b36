//! Where sessions, their activity feeds, stored platform credentials, the game state of
//! each lobby and processed webhook ids live.
//!
//! [`SessionStore`] is an object-safe async trait (`Arc<dyn SessionStore>`). Backends:
//! [`MemoryStore`] (always), `SqliteStore` (feature `sqlite`), `PostgresStore` (feature
//! `postgres`), and [`host::HostStore`], through which the bindings accept stores written in
//! Python and JavaScript. Every backend must
//! pass the [`conformance`] suite (feature `conformance`).
//!
//! Contract highlights (the suite checks each):
//! - At most one active (non-terminal) session per entity, enforced race-free by
//!   [`SessionStore::insert_session`].
//! - [`SessionStore::update_session`] is a compare-and-swap on `version`: no update is lost.
//! - [`SessionStore::claim_lease`] gives a named lease to one holder at a time, even when
//!   replicas race for it.
//! - Counters (`decisionsLogged`, `eventsRecorded`, `viewerCount`, `peakViewerCount`) change
//!   only through [`SessionStore::record_activity`] and [`SessionStore::set_viewer_count`],
//!   which also bump `version`, so stats frozen by a CAS update are never stale.

pub mod agent_keys;
pub mod analytics;
#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
pub mod host;
mod lease;
mod memory;
mod metered;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod sql;
#[cfg(feature = "sqlite")]
mod sqlite;

use std::fmt::Debug;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use self::agent_keys::{AgentKey, AgentKeyStore, AgentKeyView};
pub use self::analytics::{AnalyticsFilter, AnalyticsGroup, GroupTotals};
pub use self::lease::{Lease, MAX_LEASE_NAME_BYTES};
pub use self::memory::MemoryStore;
pub(crate) use self::metered::MeteredStore;
#[cfg(feature = "postgres")]
pub use self::postgres::PostgresStore;
#[cfg(feature = "sqlite")]
pub use self::sqlite::SqliteStore;
use crate::error::Result;
use crate::platform::{IngestUrl, Platform};
use crate::session::{
    Activity, ActivityKind, Entity, OverlayConfigPatch, SessionId, SessionStatus, StoredGameState,
    StreamSession, TimelineEntry, ViewerSample,
};

/// Default page size of [`SessionStore::list_sessions`].
pub const DEFAULT_PAGE_SIZE: usize = 50;
/// Largest page size of [`SessionStore::list_sessions`].
pub const MAX_PAGE_SIZE: usize = 500;

/// The page size a `limit` asks for: 0 means [`DEFAULT_PAGE_SIZE`]; at most
/// [`MAX_PAGE_SIZE`].
pub(crate) fn page_size(limit: usize) -> usize {
    match limit {
        0 => DEFAULT_PAGE_SIZE,
        n => n.min(MAX_PAGE_SIZE),
    }
}

/// Outcome of [`SessionStore::insert_session`].
#[derive(Debug, Clone, PartialEq)]
pub enum Insert {
    /// The session was stored (with `version` 1).
    Created(StreamSession),
    /// The entity already has an active session; nothing was written.
    Existing(StreamSession),
}

/// Filters and position for [`SessionStore::list_sessions`]. Results are newest first
/// (by `createdAt`, then id).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionQuery {
    /// Only this entity's sessions.
    pub entity: Option<Entity>,
    /// Only sessions with this status.
    pub status: Option<SessionStatus>,
    /// Only non-terminal sessions.
    pub active_only: bool,
    /// Only sessions whose primary platform is this one.
    pub platform: Option<Platform>,
    /// Only sessions created at or after, Unix ms.
    pub created_from: Option<i64>,
    /// Only sessions created before, Unix ms.
    pub created_before: Option<i64>,
    /// Continue after this cursor (from a previous page's `next_cursor`).
    pub cursor: Option<String>,
    /// Page size; 0 means [`DEFAULT_PAGE_SIZE`]; capped at [`MAX_PAGE_SIZE`].
    pub limit: usize,
}

impl SessionQuery {
    /// The effective page size.
    pub fn page_size(&self) -> usize {
        page_size(self.limit)
    }

    /// Whether `session` passes the filters (not the cursor).
    pub fn matches(&self, session: &StreamSession) -> bool {
        self.entity.as_ref().is_none_or(|e| *e == session.entity)
            && self.status.is_none_or(|s| s == session.status)
            && (!self.active_only || session.status.is_active())
            && self.platform.is_none_or(|p| p == session.platform)
            && self.created_from.is_none_or(|t| session.created_at >= t)
            && self.created_before.is_none_or(|t| session.created_at < t)
    }
}

/// One page of sessions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionPage {
    /// The sessions, newest first.
    pub sessions: Vec<StreamSession>,
    /// The cursor of the next page (pass it as the query's `cursor`); none on the last page.
    pub next_cursor: Option<String>,
}

/// Position of a session in the newest-first order, as an opaque cursor string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// `createdAt` of the last session returned.
    pub created_at: i64,
    /// Id of the last session returned.
    pub id: String,
}

impl Cursor {
    /// The cursor after `session`.
    pub fn after(session: &StreamSession) -> Self {
        Self {
            created_at: session.created_at,
            id: session.id.as_str().to_owned(),
        }
    }

    /// Encodes as `<createdAt>.<id>`.
    pub fn encode(&self) -> String {
        format!("{}.{}", self.created_at, self.id)
    }

    /// Decodes a cursor; the error names `cursor`.
    pub fn decode(cursor: &str) -> Result<Self> {
        let bad = || crate::Error::invalid("cursor", "is not a cursor returned by this API");
        let (at, id) = cursor.split_once('.').ok_or_else(bad)?;
        let created_at = at.parse().map_err(|_| bad())?;
        crate::session::validate_id("cursor", id).map_err(|_| bad())?;
        Ok(Self {
            created_at,
            id: id.to_owned(),
        })
    }

    /// Whether `session` comes after this cursor in newest-first order.
    pub fn is_before(&self, session: &StreamSession) -> bool {
        (session.created_at, session.id.as_str()) < (self.created_at, self.id.as_str())
    }
}

/// A user's or agent's stored streaming credentials (the seed's `streamingPlatforms`).
///
/// The stream key is stored only encrypted; reads through the service return
/// `hasStreamKey`, never the key or the ciphertext.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlatformCredential {
    /// Whose credentials.
    #[serde(flatten)]
    pub entity: Entity,
    /// The platform.
    pub platform: Platform,
    /// The stream key, encrypted by the key vault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypted_key: Option<String>,
    /// A custom ingest URL (required for custom platforms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_rtmp_url: Option<IngestUrl>,
    /// Start streaming automatically when this agent's game starts.
    pub auto_start: bool,
    /// Streaming is switched on for this entity (default `true`; `configure-agent` with
    /// `enabled: false` turns it off and auto-start with it).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Keep the stream live between games (default `true`).
    #[serde(default = "yes")]
    pub keep_alive: bool,
    /// Overlay settings used by streams started from these credentials (voice track,
    /// visual mode, profile picture); the start request's own settings win.
    #[serde(default, skip_serializing_if = "OverlayConfigPatch::is_empty")]
    pub overlay: OverlayConfigPatch,
    /// The channel whose viewers are counted (Twitch login, YouTube video id, Kick slug).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Last changed, Unix ms.
    pub updated_at: i64,
}

fn yes() -> bool {
    true
}

/// Storage for the streaming service. See the module docs for the contract.
#[async_trait]
pub trait SessionStore: Send + Sync + Debug {
    /// Stores a new session unless its entity already has an active session, atomically
    /// (two concurrent inserts for one entity: exactly one is `Created`). The stored copy
    /// has `version` 1 and is returned.
    async fn insert_session(&self, session: &StreamSession) -> Result<Insert>;

    /// A session by id.
    async fn get_session(&self, id: &SessionId) -> Result<Option<StreamSession>>;

    /// The session whose `egressId` is `egress_id`.
    async fn find_by_egress(&self, egress_id: &str) -> Result<Option<StreamSession>>;

    /// The entity's active (non-terminal) session.
    async fn active_session(&self, entity: &Entity) -> Result<Option<StreamSession>>;

    /// Writes `session` if the stored `version` equals `session.version`, and returns the
    /// stored copy with `version + 1`. Counters are not written (the stored ones are kept
    /// and returned). [`crate::Error::Conflict`] when the version differs,
    /// [`crate::Error::NotFound`] when the session does not exist.
    async fn update_session(&self, session: &StreamSession) -> Result<StreamSession>;

    /// [`Self::update_session`], then, if it was written, [`Self::append_timeline`] of
    /// `entries`: the service records a lifecycle change this way. Stores that can do both
    /// in one round trip do (PostgreSQL: one statement, so both happen or neither). The
    /// default calls the two in turn; the change is already written when its timeline
    /// append fails, so that failure is logged, not returned.
    async fn update_session_noting(
        &self,
        session: &StreamSession,
        entries: &[TimelineEntry],
    ) -> Result<StreamSession> {
        let saved = self.update_session(session).await?;
        if !entries.is_empty() {
            if let Err(e) = self.append_timeline(entries).await {
                tracing::warn!(session = %session.id, error = %e, "could not append to the session timeline");
            }
        }
        Ok(saved)
    }

    /// Sessions matching `query`, newest first, one page at a time.
    async fn list_sessions(&self, query: &SessionQuery) -> Result<SessionPage>;

    /// Appends `activity` to an active session's feed and increments its counter
    /// (`decisionsLogged` or `eventsRecorded`) and `version`, atomically. Returns the
    /// updated session. [`crate::Error::Conflict`] when the session is terminal.
    async fn record_activity(&self, id: &SessionId, activity: &Activity) -> Result<StreamSession>;

    /// The newest `limit` activities of one kind, newest first.
    async fn recent_activity(
        &self,
        id: &SessionId,
        kind: ActivityKind,
        limit: usize,
    ) -> Result<Vec<Activity>>;

    /// Sets an active session's `viewerCount`, raises `peakViewerCount` to it if higher,
    /// bumps `version`, atomically. [`crate::Error::Conflict`] when terminal.
    async fn set_viewer_count(&self, id: &SessionId, viewers: u64) -> Result<StreamSession>;

    /// Claims a webhook event id for processing: `true` the first time, `false` after.
    async fn claim_event(&self, event_id: &str, now_ms: i64) -> Result<bool>;

    /// Releases a claimed event id (its processing failed; a retry may claim it again).
    async fn release_event(&self, event_id: &str) -> Result<()>;

    /// Forgets event ids claimed before `claimed_before_ms` (LiveKit's retries of them are
    /// long over) and returns how many. The built-in stores implement it; the default keeps
    /// everything and returns 0. [`crate::StreamingService::reconcile`] calls it.
    async fn prune_events(&self, claimed_before_ms: i64) -> Result<u64> {
        let _ = claimed_before_ms;
        Ok(0)
    }

    /// Claims the lease `name` for `holder` until `now_ms + ttl_ms`, atomically: taken when
    /// nobody holds it or its holder's lease lapsed (`expiresAt <= now_ms`), renewed when
    /// `holder` already holds it. Returns the lease as stored afterwards: when another holder
    /// keeps it, that holder's lease (compare [`Lease::holder`]).
    async fn claim_lease(
        &self,
        name: &str,
        holder: &str,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<Lease>;

    /// Gives up `holder`'s lease `name`; `true` if it held it (another holder's lease is
    /// left alone).
    async fn release_lease(&self, name: &str, holder: &str) -> Result<bool>;

    /// Creates or replaces the entity's credentials.
    async fn put_credential(&self, credential: &PlatformCredential) -> Result<()>;

    /// The entity's credentials.
    async fn get_credential(&self, entity: &Entity) -> Result<Option<PlatformCredential>>;

    /// Deletes the entity's credentials; `true` if there were any.
    async fn delete_credential(&self, entity: &Entity) -> Result<bool>;

    /// Stored credentials in (`streamType`, `entityId`) order, byte-wise, those strictly
    /// after `after` when given; at most `limit` (0 means [`DEFAULT_PAGE_SIZE`], capped at
    /// [`MAX_PAGE_SIZE`]). Key rotation pages through every credential with it. Every
    /// store of this crate has it and the conformance suite requires it; the default (for
    /// stores written before it existed) refuses with [`Error::InvalidInput`] naming `store`.
    async fn list_credentials(
        &self,
        after: Option<&Entity>,
        limit: usize,
    ) -> Result<Vec<PlatformCredential>> {
        let _ = (after, limit);
        Err(crate::error::Error::invalid(
            "store",
            "this store cannot list credentials (SessionStore::list_credentials)",
        ))
    }

    /// Creates or replaces the game state of `state.state.lobbyId`.
    async fn put_game_state(&self, state: &StoredGameState) -> Result<()>;

    /// The game state of a lobby.
    async fn get_game_state(&self, lobby_id: &str) -> Result<Option<StoredGameState>>;

    /// Appends viewer samples; a sample for the same session, destination and time
    /// replaces the one stored.
    async fn record_viewer_samples(&self, samples: &[ViewerSample]) -> Result<()>;

    /// A session's samples, oldest first (then by destination id), at most `limit`
    /// (capped at [`MAX_VIEWER_SAMPLES`](crate::session::MAX_VIEWER_SAMPLES)).
    async fn viewer_samples(
        &self,
        session_id: &SessionId,
        limit: usize,
    ) -> Result<Vec<ViewerSample>>;

    /// Appends entries to their sessions' timelines, in order.
    async fn append_timeline(&self, entries: &[TimelineEntry]) -> Result<()>;

    /// A session's timeline, oldest first (in the order appended), at most `limit`
    /// (capped at [`MAX_TIMELINE_ENTRIES`](crate::session::MAX_TIMELINE_ENTRIES)).
    async fn timeline(&self, session_id: &SessionId, limit: usize) -> Result<Vec<TimelineEntry>>;

    /// The sums analytics needs, per group of the sessions `filter` selects, in key order.
    /// The default reads every session in the range and its samples
    /// ([`analytics::scan`]); the SQL stores aggregate in the database.
    async fn analytics(&self, filter: &AnalyticsFilter) -> Result<Vec<GroupTotals>> {
        analytics::scan(self, filter).await
    }
}

/// Implements [`SessionStore`] for a wrapper by calling every method on `$target` (an
/// expression of `self`), through `$call!(name, call)`, which awaits `call` (and may time
/// it). The method list is kept once, here.
macro_rules! delegate_session_store {
    ([$($generics:tt)*] $wrapper:ty, |$this:ident| $target:expr, $call:ident) => {
        delegate_session_store!(@impl [$($generics)*] $wrapper, $this, $target, $call,
            insert_session(session: &StreamSession) -> Insert;
            get_session(id: &SessionId) -> Option<StreamSession>;
            find_by_egress(egress_id: &str) -> Option<StreamSession>;
            active_session(entity: &Entity) -> Option<StreamSession>;
            update_session(session: &StreamSession) -> StreamSession;
            update_session_noting(session: &StreamSession, entries: &[TimelineEntry]) -> StreamSession;
            list_sessions(query: &SessionQuery) -> SessionPage;
            record_activity(id: &SessionId, activity: &Activity) -> StreamSession;
            recent_activity(id: &SessionId, kind: ActivityKind, limit: usize) -> Vec<Activity>;
            set_viewer_count(id: &SessionId, viewers: u64) -> StreamSession;
            claim_event(event_id: &str, now_ms: i64) -> bool;
            release_event(event_id: &str) -> ();
            prune_events(claimed_before_ms: i64) -> u64;
            claim_lease(name: &str, holder: &str, now_ms: i64, ttl_ms: i64) -> Lease;
            release_lease(name: &str, holder: &str) -> bool;
            put_credential(credential: &PlatformCredential) -> ();
            get_credential(entity: &Entity) -> Option<PlatformCredential>;
            delete_credential(entity: &Entity) -> bool;
            list_credentials(after: Option<&Entity>, limit: usize) -> Vec<PlatformCredential>;
            put_game_state(state: &StoredGameState) -> ();
            get_game_state(lobby_id: &str) -> Option<StoredGameState>;
            record_viewer_samples(samples: &[ViewerSample]) -> ();
            viewer_samples(session_id: &SessionId, limit: usize) -> Vec<ViewerSample>;
            append_timeline(entries: &[TimelineEntry]) -> ();
            timeline(session_id: &SessionId, limit: usize) -> Vec<TimelineEntry>;
            analytics(filter: &AnalyticsFilter) -> Vec<GroupTotals>;
        );
    };
    (@impl [$($generics:tt)*] $wrapper:ty, $this:ident, $target:expr, $call:ident,
        $($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        #[async_trait]
        impl<$($generics)*> SessionStore for $wrapper {
            $(
                async fn $name(&self, $($arg: $ty),*) -> Result<$ret> {
                    let $this = self;
                    $call!($name, ($target).$name($($arg),*))
                }
            )*
        }
    };
}
pub(crate) use delegate_session_store;

/// Awaits a delegated store call as it is.
macro_rules! plain_call {
    ($name:ident, $call:expr) => {
        $call.await
    };
}

delegate_session_store!([T: SessionStore + ?Sized] std::sync::Arc<T>, |this| **this, plain_call);
delegate_session_store!([T: SessionStore + ?Sized] Box<T>, |this| **this, plain_call);
