//! A [`SessionStore`] written in JavaScript (e.g. backed by Convex mutations).
//!
//! Any object with the store's methods is accepted wherever a store is. The methods mirror
//! the Rust trait in camelCase and take and return the core's camelCase JSON shapes; they
//! may be `async` or plain. Each becomes a weak threadsafe function (it never keeps Node
//! alive), called from the service's tokio tasks and awaited there, so the store only runs
//! while the JavaScript thread is free: drive it through the Promise-returning API.
//!
//! | method | arguments | resolves to |
//! |---|---|---|
//! | `insertSession` | `session` | `{ created, session }` |
//! | `getSession` | `sessionId` | `session \| null` |
//! | `findByEgress` | `egressId` | `session \| null` |
//! | `activeSession` | `entity` | `session \| null` |
//! | `updateSession` | `session` | `session` |
//! | `listSessions` | `query` | `{ sessions, nextCursor }` |
//! | `recordActivity` | `sessionId, activity` | `session` |
//! | `recentActivity` | `sessionId, kind, limit` | `activity[]` |
//! | `setViewerCount` | `sessionId, viewers` | `session` |
//! | `claimEvent` | `eventId, nowMs` | `boolean` |
//! | `releaseEvent` | `eventId` | anything |
//! | `putCredential` | `credential` | anything |
//! | `getCredential` | `entity` | `credential \| null` |
//! | `deleteCredential` | `entity` | `boolean` |
//!
//! A method reports the contract's outcomes by throwing an error whose `code` is
//! `CONFLICT` (stale `version`, terminal session), `NOT_FOUND` (unknown session),
//! `INVALID_INPUT` (bad cursor) or `STORE` (the backing store failed; retryable). Any other
//! exception becomes `EXTERNAL` with the exception as `cause`; a result of the wrong shape
//! becomes `EXTERNAL` naming the method and the field.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use ltcg_streaming_core::session::{Activity, ActivityKind};
use ltcg_streaming_core::store::{Insert, PlatformCredential, SessionPage, SessionQuery};
use ltcg_streaming_core::{Entity, Error, Result, SessionId, SessionStore, StreamSession};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::ThreadsafeFunction;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::js_error;
use crate::json::{parse, to_json};

/// Wraps `store[name]` into `async (args) => outcome`: `{ value }` on success, `{ code,
/// message, field }` for an error carrying one of the codes a store may report; any other
/// exception rejects unchanged. Calling through `store[name]` keeps `this` bound.
const ADAPTER: &str = r#"(store, name) => async (args) => {
  try {
    return { value: await store[name](...args) };
  } catch (error) {
    const code = error !== null && typeof error === "object" ? error.code : undefined;
    if (code === "CONFLICT" || code === "NOT_FOUND" || code === "INVALID_INPUT" || code === "STORE") {
      const field = typeof error.field === "string" ? error.field : null;
      return { code, message: String(error.message ?? ""), field };
    }
    throw error;
  }
}"#;

/// One adapted store method: called with the argument array, resolves to the outcome.
type StoreFn = ThreadsafeFunction<Value, Promise<Value>, Value, Status, false, true>;

/// [`ADAPTER`] as a function of the store and a method name.
type Adapter<'env> =
    Function<'env, FnArgs<(Object<'env>, &'static str)>, Function<'env, Value, Promise<Value>>>;

/// The store methods, in [`Op::ALL`] order.
#[derive(Debug, Clone, Copy)]
enum Op {
    InsertSession,
    GetSession,
    FindByEgress,
    ActiveSession,
    UpdateSession,
    ListSessions,
    RecordActivity,
    RecentActivity,
    SetViewerCount,
    ClaimEvent,
    ReleaseEvent,
    PutCredential,
    GetCredential,
    DeleteCredential,
}

impl Op {
    /// Every method, in declaration order (the index of each is its discriminant).
    const ALL: [Op; 14] = [
        Op::InsertSession,
        Op::GetSession,
        Op::FindByEgress,
        Op::ActiveSession,
        Op::UpdateSession,
        Op::ListSessions,
        Op::RecordActivity,
        Op::RecentActivity,
        Op::SetViewerCount,
        Op::ClaimEvent,
        Op::ReleaseEvent,
        Op::PutCredential,
        Op::GetCredential,
        Op::DeleteCredential,
    ];

    /// The JavaScript method name.
    const fn name(self) -> &'static str {
        match self {
            Op::InsertSession => "insertSession",
            Op::GetSession => "getSession",
            Op::FindByEgress => "findByEgress",
            Op::ActiveSession => "activeSession",
            Op::UpdateSession => "updateSession",
            Op::ListSessions => "listSessions",
            Op::RecordActivity => "recordActivity",
            Op::RecentActivity => "recentActivity",
            Op::SetViewerCount => "setViewerCount",
            Op::ClaimEvent => "claimEvent",
            Op::ReleaseEvent => "releaseEvent",
            Op::PutCredential => "putCredential",
            Op::GetCredential => "getCredential",
            Op::DeleteCredential => "deleteCredential",
        }
    }
}

/// What the adapter resolves to.
#[derive(Deserialize)]
struct Outcome {
    #[serde(default)]
    value: Value,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: String,
    #[serde(default)]
    field: Option<String>,
}

/// `insertSession`'s result.
#[derive(Deserialize)]
struct Inserted {
    created: bool,
    session: StreamSession,
}

/// A JavaScript object implementing the store's methods.
pub(crate) struct JsSessionStore {
    methods: Vec<StoreFn>,
}

impl fmt::Debug for JsSessionStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsSessionStore").finish_non_exhaustive()
    }
}

impl JsSessionStore {
    /// Adapts `store`. Throws `INVALID_INPUT` (field `store`) naming the first missing method.
    pub(crate) fn new(env: &Env, store: Object) -> napi::Result<Self> {
        for op in Op::ALL {
            let method: Unknown = store.get_named_property(op.name())?;
            if method.get_type()? != ValueType::Function {
                let missing = Error::invalid(
                    "store",
                    format!(
                        "has no {}() method; see the SessionStore interface",
                        op.name()
                    ),
                );
                return Err(js_error(env, missing));
            }
        }
        let adapt: Adapter = env.run_script(ADAPTER)?;
        let methods = Op::ALL
            .iter()
            .map(|op| {
                adapt
                    .call(FnArgs::from((store, op.name())))?
                    .build_threadsafe_function()
                    .callee_handled::<false>()
                    .weak::<true>()
                    .build()
            })
            .collect::<napi::Result<_>>()?;
        Ok(Self { methods })
    }

    /// Calls `op` with `args` and reads its result as a `T`.
    async fn call<T: DeserializeOwned>(&self, op: Op, args: Value) -> Result<T> {
        let name = op.name();
        let method = &self.methods[op as usize];
        let outcome = match method.call_async_catch(args).await {
            Ok(promise) => promise.await,
            Err(err) => Err(err),
        }
        .map_err(|err| Error::External {
            message: format!("JS store {name}() failed: {}", err.reason),
            source: Arc::new(err),
        })?;
        let outcome: Outcome = parse(name, outcome).map_err(|err| bad_value(name, err))?;
        match outcome.code.as_deref() {
            None => parse(name, outcome.value).map_err(|err| bad_value(name, err)),
            Some("CONFLICT") => Err(Error::conflict(outcome.message)),
            Some("NOT_FOUND") => Err(Error::not_found("session")),
            Some("INVALID_INPUT") => Err(Error::invalid(
                outcome.field.unwrap_or_else(|| "store".to_owned()),
                outcome.message,
            )),
            // `STORE`, the last code ADAPTER passes through.
            Some(_) => Err(Error::Store {
                message: format!("JS store {name}(): {}", outcome.message),
            }),
        }
    }
}

/// The error for a result of the wrong shape.
fn bad_value(name: &str, err: Error) -> Error {
    Error::External {
        message: format!("JS store {name}() returned an invalid value: {err}"),
        source: Arc::new(err),
    }
}

#[async_trait]
impl SessionStore for JsSessionStore {
    async fn insert_session(&self, session: &StreamSession) -> Result<Insert> {
        let inserted: Inserted = self
            .call(Op::InsertSession, json!([to_json(session)?]))
            .await?;
        Ok(if inserted.created {
            Insert::Created(inserted.session)
        } else {
            Insert::Existing(inserted.session)
        })
    }

    async fn get_session(&self, id: &SessionId) -> Result<Option<StreamSession>> {
        self.call(Op::GetSession, json!([id])).await
    }

    async fn find_by_egress(&self, egress_id: &str) -> Result<Option<StreamSession>> {
        self.call(Op::FindByEgress, json!([egress_id])).await
    }

    async fn active_session(&self, entity: &Entity) -> Result<Option<StreamSession>> {
        self.call(Op::ActiveSession, json!([entity])).await
    }

    async fn update_session(&self, session: &StreamSession) -> Result<StreamSession> {
        self.call(Op::UpdateSession, json!([to_json(session)?]))
            .await
    }

    async fn list_sessions(&self, query: &SessionQuery) -> Result<SessionPage> {
        let query = json!({
            "entity": query.entity,
            "status": query.status,
            "activeOnly": query.active_only,
            "cursor": query.cursor,
            "limit": query.page_size(),
        });
        self.call(Op::ListSessions, json!([query])).await
    }

    async fn record_activity(&self, id: &SessionId, activity: &Activity) -> Result<StreamSession> {
        self.call(Op::RecordActivity, json!([id, to_json(activity)?]))
            .await
    }

    async fn recent_activity(
        &self,
        id: &SessionId,
        kind: ActivityKind,
        limit: usize,
    ) -> Result<Vec<Activity>> {
        self.call(Op::RecentActivity, json!([id, kind, limit]))
            .await
    }

    async fn set_viewer_count(&self, id: &SessionId, viewers: u64) -> Result<StreamSession> {
        self.call(Op::SetViewerCount, json!([id, viewers])).await
    }

    async fn claim_event(&self, event_id: &str, now_ms: i64) -> Result<bool> {
        self.call(Op::ClaimEvent, json!([event_id, now_ms])).await
    }

    async fn release_event(&self, event_id: &str) -> Result<()> {
        self.call::<Value>(Op::ReleaseEvent, json!([event_id]))
            .await
            .map(drop)
    }

    async fn put_credential(&self, credential: &PlatformCredential) -> Result<()> {
        self.call::<Value>(Op::PutCredential, json!([to_json(credential)?]))
            .await
            .map(drop)
    }

    async fn get_credential(&self, entity: &Entity) -> Result<Option<PlatformCredential>> {
        self.call(Op::GetCredential, json!([entity])).await
    }

    async fn delete_credential(&self, entity: &Entity) -> Result<bool> {
        self.call(Op::DeleteCredential, json!([entity])).await
    }
}
