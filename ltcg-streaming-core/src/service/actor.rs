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

    /// Whose sessions a listing (or analytics) by this actor covers: for internal callers
    /// the entity asked for (`streamType` with `entityId`) or everyone; for users and
    /// agents themselves, and asking for anyone else is `FORBIDDEN`.
    pub fn visible_entity(
        &self,
        stream_type: Option<StreamType>,
        entity_id: Option<&str>,
    ) -> Result<Option<Entity>> {
        let requested = match (stream_type, entity_id) {
            (Some(StreamType::User), Some(id)) => Some(Entity::user(id)?),
            (Some(StreamType::Agent), Some(id)) => Some(Entity::agent(id)?),
            (None, Some(_)) => {
                return Err(Error::invalid("streamType", "is required with entityId"))
            }
            (_, None) => None,
        };
        match (self.entity(), requested) {
            (None, requested) => Ok(requested),
            (Some(own), Some(requested)) if own != requested => Err(Error::forbidden(
                "cannot see another user's or agent's sessions",
            )),
            (Some(own), _) => Ok(Some(own)),
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
