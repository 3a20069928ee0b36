//! [`Actor`]: who is calling.

use ltcg_streaming_core::Actor as CoreActor;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::error::OrThrow;

/// The authenticated caller of a service method. Users and agents change only their own
/// sessions and credentials (status reads follow the `statusReads` option); `internal` (the
/// app's own backend, cron jobs) may do all.
#[derive(Debug)]
#[napi]
pub struct Actor {
    pub(crate) inner: CoreActor,
}

#[napi]
impl Actor {
    /// Trusted server-side code.
    #[napi(factory)]
    pub fn internal() -> Self {
        Self {
            inner: CoreActor::Internal,
        }
    }

    /// A signed-in user. Throws `INVALID_INPUT` (field `userId`) for a malformed id.
    #[napi(factory)]
    pub fn user(env: &Env, user_id: String) -> Result<Self> {
        CoreActor::user(&user_id)
            .map(|inner| Self { inner })
            .or_throw(env)
    }

    /// An AI agent. Throws `INVALID_INPUT` (field `agentId`) for a malformed id.
    #[napi(factory)]
    pub fn agent(env: &Env, agent_id: String) -> Result<Self> {
        CoreActor::agent(&agent_id)
            .map(|inner| Self { inner })
            .or_throw(env)
    }

    /// `internal`, `user` or `agent`.
    #[napi(getter, ts_return_type = "'internal' | 'user' | 'agent'")]
    pub fn kind(&self) -> &'static str {
        match self.inner {
            CoreActor::Internal => "internal",
            CoreActor::User(_) => "user",
            CoreActor::Agent(_) => "agent",
        }
    }

    /// The user or agent id; `null` for `internal`.
    #[napi(getter)]
    pub fn id(&self) -> Option<String> {
        match &self.inner {
            CoreActor::Internal => None,
            CoreActor::User(id) | CoreActor::Agent(id) => Some(id.clone()),
        }
    }

    /// `internal`, `user:<id>` or `agent:<id>`.
    #[napi(js_name = "toString")]
    pub fn to_js_string(&self) -> String {
        self.inner.to_string()
    }
}
