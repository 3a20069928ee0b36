//! Who is calling: every service call takes an [`Actor`].

use std::fmt;

use crate::error::{Error, Result};
use crate::session::{validate_entity_id, Entity, StreamSession, StreamType};

/// The authenticated caller of a service method. Internal callers may do everything; users
/// and agents act only for themselves ([`Actor::authorize`], [`Actor::require_internal`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Actor {
    /// Trusted server-side code (the app's own backend, cron jobs): may do everything.
    Internal,
    /// A signed-in user: only their own user sessions and credentials.
    User(String),
    /// An AI agent (API key bound to an agent): only its own agent sessions and credentials.
    Agent(String),
}

impl Actor {
    /// [`Actor::Internal`].
    pub fn internal() -> Self {
        Actor::Internal
    }

    /// A user, after checking the id.
    pub fn user(id: &str) -> Result<Self> {
        validate_entity_id("userId", id)?;
        Ok(Actor::User(id.to_owned()))
    }

    /// An agent, after checking the id.
    pub fn agent(id: &str) -> Result<Self> {
        validate_entity_id("agentId", id)?;
        Ok(Actor::Agent(id.to_owned()))
    }

    /// The entity this actor is, if it is a user or an agent.
    pub fn entity(&self) -> Option<Entity> {
        match self {
            Actor::Internal => None,
            Actor::User(id) => Some(Entity {
                stream_type: StreamType::User,
                entity_id: id.clone(),
            }),
            Actor::Agent(id) => Some(Entity {
                stream_type: StreamType::Agent,
                entity_id: id.clone(),
            }),
        }
    }

    /// Whether the actor may act for `entity`.
    pub fn may_act_for(&self, entity: &Entity) -> bool {
        match self {
            Actor::Internal => true,
            _ => self.entity().as_ref() == Some(entity),
        }
    }

    /// `Ok` when the actor may change `session`, else [`Error::Forbidden`].
    pub fn authorize(&self, session: &StreamSession) -> Result<()> {
        if self.may_act_for(&session.entity) {
            Ok(())
        } else {
            Err(Error::forbidden("this session belongs to someone else"))
        }
    }

    /// `Ok` for [`Actor::Internal`], else [`Error::Forbidden`].
    pub fn require_internal(&self) -> Result<()> {
        match self {
            Actor::Internal => Ok(()),
            _ => Err(Error::forbidden("only internal callers may do this")),
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Internal => f.write_str("internal"),
            Actor::User(id) => write!(f, "user:{id}"),
            Actor::Agent(id) => write!(f, "agent:{id}"),
        }
    }
}
