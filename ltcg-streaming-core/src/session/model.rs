//! Session data: ids, statuses, the entity that streams, the session record and its stats.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use aes_gcm::aead::rand_core::RngCore;
use aes_gcm::aead::OsRng;
use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize};

use super::destination::Destination;
use super::game_state::MatchResult;
use super::overlay::OverlayConfig;
use crate::error::{Error, Result};
use crate::platform::Platform;

/// Longest id accepted for sessions, users, agents and lobbies.
pub const MAX_ID_LEN: usize = 128;

/// Checks a session or lobby id: 1–128 characters of `[A-Za-z0-9_-]` (URL-safe, so it can
/// travel unescaped in the overlay URL). The error names `field`. User and agent ids follow
/// [`validate_entity_id`].
pub fn validate_id(field: &str, id: &str) -> Result<()> {
    check_id(
        field,
        id,
        |b| b == b'_' || b == b'-',
        "may contain only letters, digits, '_' and '-'",
    )
}

/// Checks a user or agent id: 1–128 characters of `A-Z a-z 0-9 _ - . : @ + |`, which
/// covers the identity formats products issue (`did:privy:…`, e-mail-like `a.b+c@x.com`,
/// `auth0|…`) and nothing that needs escaping in HTML, JSON or logs (no whitespace, control
/// characters, quotes or markup). The error names `field` and does not quote the id. Entity
/// ids never appear in a URL path; in a query string `+`, `:`, `@` and `|` are
/// percent-encoded like any other reserved character.
pub fn validate_entity_id(field: &str, id: &str) -> Result<()> {
    check_id(
        field,
        id,
        |b| matches!(b, b'_' | b'-' | b'.' | b':' | b'@' | b'+' | b'|'),
        "may contain only letters, digits and '_', '-', '.', ':', '@', '+', '|'",
    )
}

/// 1–[`MAX_ID_LEN`] bytes, each an ASCII letter or digit or one `punctuation` allows.
fn check_id(field: &str, id: &str, punctuation: fn(u8) -> bool, charset: &str) -> Result<()> {
    if id.is_empty() {
        return Err(Error::invalid(field, "is required"));
    }
    if id.len() > MAX_ID_LEN {
        return Err(Error::invalid(
            field,
            format!("must be at most {MAX_ID_LEN} characters"),
        ));
    }
    if !id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || punctuation(b))
    {
        return Err(Error::invalid(field, charset));
    }
    Ok(())
}

/// A session id: `ses_` followed by 26 random base-32 characters when we make it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct SessionId(String);

/// A fresh random id: `prefix` followed by 26 base-32 characters (130 bits from the OS
/// random source), so ids never repeat across runs or machines. Session ids, the local and
/// memory backends' egress ids and the local egress's event ids come from here.
pub(crate) fn random_id(prefix: &str) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
    let mut bytes = [0u8; 17];
    OsRng.fill_bytes(&mut bytes);
    let mut id = String::with_capacity(prefix.len() + 26);
    id.push_str(prefix);
    // 26 characters × 5 bits = 130 bits drawn from 136 random bits.
    let mut acc: u32 = 0;
    let mut bits = 0;
    let mut chars = 0;
    for b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 && chars < 26 {
            bits -= 5;
            id.push(ALPHABET[((acc >> bits) & 31) as usize] as char);
            chars += 1;
        }
    }
    id
}

impl SessionId {
    /// A fresh random id (128 bits of entropy).
    pub fn generate() -> Self {
        SessionId(random_id("ses_"))
    }

    /// Wraps an existing id after checking it (see [`validate_id`]).
    pub fn parse(id: &str) -> Result<Self> {
        validate_id("sessionId", id)?;
        Ok(SessionId(id.to_owned()))
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for SessionId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        SessionId::parse(s)
    }
}

/// A plain string, inlined where it is used.
impl JsonSchema for SessionId {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "SessionId".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        String::json_schema(generator)
    }
}

impl<'de> Deserialize<'de> for SessionId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        SessionId::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Whose stream it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StreamType {
    /// A human user streaming their games.
    User,
    /// An AI agent streaming its games.
    Agent,
}

impl StreamType {
    /// `"user"` or `"agent"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            StreamType::User => "user",
            StreamType::Agent => "agent",
        }
    }
}

impl fmt::Display for StreamType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StreamType {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim() {
            "user" => Ok(StreamType::User),
            "agent" => Ok(StreamType::Agent),
            _ => Err(Error::invalid(
                "streamType",
                "must be \"user\" or \"agent\"",
            )),
        }
    }
}

/// The user or agent a session or credential belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Entity {
    /// `user` or `agent`.
    pub stream_type: StreamType,
    /// The user id or agent id.
    pub entity_id: String,
}

impl Entity {
    /// A user, after checking the id (field `userId`, see [`validate_entity_id`]).
    pub fn user(id: &str) -> Result<Self> {
        validate_entity_id("userId", id)?;
        Ok(Self {
            stream_type: StreamType::User,
            entity_id: id.to_owned(),
        })
    }

    /// An agent, after checking the id (field `agentId`, see [`validate_entity_id`]).
    pub fn agent(id: &str) -> Result<Self> {
        validate_entity_id("agentId", id)?;
        Ok(Self {
            stream_type: StreamType::Agent,
            entity_id: id.to_owned(),
        })
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.stream_type, self.entity_id)
    }
}

/// Session status, with the product's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SessionStatus {
    /// The session row exists; the egress start call has not returned yet.
    Initializing,
    /// The egress exists and is starting.
    Pending,
    /// The egress is active: the stream is on air.
    Live,
    /// Finished normally (terminal).
    Ended,
    /// Failed (terminal).
    Error,
}

impl SessionStatus {
    /// `"initializing"`, `"pending"`, `"live"`, `"ended"` or `"error"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Initializing => "initializing",
            SessionStatus::Pending => "pending",
            SessionStatus::Live => "live",
            SessionStatus::Ended => "ended",
            SessionStatus::Error => "error",
        }
    }

    /// `ended` and `error` never change again.
    pub const fn is_terminal(self) -> bool {
        matches!(self, SessionStatus::Ended | SessionStatus::Error)
    }

    /// Not terminal: the session counts as the entity's active session.
    pub const fn is_active(self) -> bool {
        !self.is_terminal()
    }

    /// Position in the lifecycle; a status never moves to a lower rank.
    pub const fn rank(self) -> u8 {
        match self {
            SessionStatus::Initializing => 0,
            SessionStatus::Pending => 1,
            SessionStatus::Live => 2,
            SessionStatus::Ended | SessionStatus::Error => 3,
        }
    }
}

impl fmt::Display for SessionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SessionStatus {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim() {
            "initializing" => Ok(SessionStatus::Initializing),
            "pending" => Ok(SessionStatus::Pending),
            "live" => Ok(SessionStatus::Live),
            "ended" => Ok(SessionStatus::Ended),
            "error" => Ok(SessionStatus::Error),
            _ => Err(Error::invalid(
                "status",
                "must be one of initializing, pending, live, ended, error",
            )),
        }
    }
}

/// What an ended session did; computed once, when it becomes terminal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionStats {
    /// Milliseconds on air: from `startedAt` to `endedAt`, 0 if it never went live.
    pub duration: i64,
    /// Agent decisions recorded during the session.
    pub decisions_logged: u64,
    /// Game events recorded during the session.
    pub events_recorded: u64,
    /// Highest viewer count reported.
    pub peak_viewer_count: u64,
}

/// One streaming session: a web page rendered by an egress and pushed to a platform.
///
/// Serialized with the seed's camelCase names. It holds no secret: stream keys live only
/// encrypted in the credential store and the egress request, never here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StreamSession {
    /// The session id.
    #[serde(rename = "sessionId")]
    pub id: SessionId,
    /// Who streams.
    #[serde(flatten)]
    pub entity: Entity,
    /// Display name of the user or agent, when the caller gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_name: Option<String>,
    /// Picture of the user or agent (http/https), shown in the picture-in-picture when
    /// the overlay settings name no profile picture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_avatar_url: Option<String>,
    /// The primary destination platform.
    pub platform: Platform,
    /// Title shown on the overlay.
    pub stream_title: String,
    /// Lifecycle status.
    pub status: SessionStatus,
    /// The egress rendering this session, once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub egress_id: Option<String>,
    /// Overlay settings.
    pub overlay_config: OverlayConfig,
    /// The game lobby currently shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_lobby_id: Option<String>,
    /// The RTMP outputs (primary first).
    #[serde(default)]
    pub destinations: Vec<Destination>,
    /// The last match played on this stream (drives the match-over scene).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_match: Option<MatchResult>,
    /// A test stream that no viewer sees (Twitch `bandwidthtest`); analytics can leave it out.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
    /// Created, Unix ms.
    pub created_at: i64,
    /// Last changed, Unix ms.
    pub updated_at: i64,
    /// First went live, Unix ms (set once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<i64>,
    /// Became terminal, Unix ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<i64>,
    /// Why it ended, a word such as `manual` or `egress_complete`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_reason: Option<String>,
    /// What went wrong, for `error` sessions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// The egress start call failed ambiguously (timeout, unavailable): the reconciler must
    /// adopt or stop whatever egress it may have created.
    #[serde(default)]
    pub start_uncertain: bool,
    /// Current viewer count.
    #[serde(default)]
    pub viewer_count: u64,
    /// Highest viewer count seen.
    #[serde(default)]
    pub peak_viewer_count: u64,
    /// Agent decisions recorded so far.
    #[serde(default)]
    pub decisions_logged: u64,
    /// Game events recorded so far.
    #[serde(default)]
    pub events_recorded: u64,
    /// Final stats, set when the session becomes terminal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<SessionStats>,
    /// Optimistic-concurrency version, incremented by every stored change.
    #[serde(default)]
    pub version: u64,
}

/// What a new session needs.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSession {
    /// Who streams.
    pub entity: Entity,
    /// Display name of the user or agent.
    pub entity_name: Option<String>,
    /// Picture of the user or agent (http/https).
    pub entity_avatar_url: Option<String>,
    /// The primary destination platform.
    pub platform: Platform,
    /// Title; empty means `LTCG Live`.
    pub stream_title: String,
    /// Overlay settings (already merged over the defaults).
    pub overlay_config: OverlayConfig,
    /// Lobby to show from the start.
    pub lobby_id: Option<String>,
    /// The outputs (primary first).
    pub destinations: Vec<Destination>,
    /// A test stream that no viewer sees.
    pub dry_run: bool,
}

/// Default title when none is given.
pub const DEFAULT_STREAM_TITLE: &str = "LTCG Live";
/// Longest stream title accepted, in characters.
pub const MAX_TITLE_CHARS: usize = 200;

impl StreamSession {
    /// A fresh `initializing` session created at `now_ms`, after checking the inputs.
    pub fn create(new: NewSession, now_ms: i64) -> Result<Self> {
        let title = new.stream_title.trim();
        if title.chars().count() > MAX_TITLE_CHARS {
            return Err(Error::invalid(
                "streamTitle",
                format!("must be at most {MAX_TITLE_CHARS} characters"),
            ));
        }
        if title.chars().any(char::is_control) {
            return Err(Error::invalid(
                "streamTitle",
                "must not contain control characters",
            ));
        }
        if let Some(lobby) = &new.lobby_id {
            validate_id("lobbyId", lobby)?;
        }
        let entity_name = match new.entity_name.as_deref().map(str::trim) {
            Some(name)
                if name.chars().count() > MAX_TITLE_CHARS || name.chars().any(char::is_control) =>
            {
                return Err(Error::invalid(
                    "entityName",
                    format!("must be at most {MAX_TITLE_CHARS} printable characters"),
                ))
            }
            Some("") | None => None,
            Some(name) => Some(name.to_owned()),
        };
        new.overlay_config.validate()?;
        let entity_avatar_url = match new.entity_avatar_url.as_deref().map(str::trim) {
            Some("") | None => None,
            Some(url) => {
                super::overlay::check_http_url("entityAvatarUrl", url)?;
                Some(url.to_owned())
            }
        };
        Ok(Self {
            id: SessionId::generate(),
            entity: new.entity,
            entity_name,
            entity_avatar_url,
            platform: new.platform,
            stream_title: if title.is_empty() {
                DEFAULT_STREAM_TITLE.to_owned()
            } else {
                title.to_owned()
            },
            status: SessionStatus::Initializing,
            egress_id: None,
            overlay_config: new.overlay_config,
            current_lobby_id: new.lobby_id,
            destinations: new.destinations,
            last_match: None,
            dry_run: new.dry_run,
            created_at: now_ms,
            updated_at: now_ms,
            started_at: None,
            ended_at: None,
            end_reason: None,
            error_message: None,
            start_uncertain: false,
            viewer_count: 0,
            peak_viewer_count: 0,
            decisions_logged: 0,
            events_recorded: 0,
            stats: None,
            version: 0,
        })
    }

    /// Milliseconds on air at `now_ms`: from `startedAt` to `endedAt` (or `now_ms` while
    /// live); 0 if it never went live; never negative.
    pub fn duration_ms(&self, now_ms: i64) -> i64 {
        match self.started_at {
            Some(start) => (self.ended_at.unwrap_or(now_ms) - start).max(0),
            None => 0,
        }
    }

    /// The stats as they stand at `now_ms`.
    pub fn stats_at(&self, now_ms: i64) -> SessionStats {
        SessionStats {
            duration: self.duration_ms(now_ms),
            decisions_logged: self.decisions_logged,
            events_recorded: self.events_recorded,
            peak_viewer_count: self.peak_viewer_count,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_valid_and_distinct() {
        let a = SessionId::generate();
        let b = SessionId::generate();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 30);
        assert!(SessionId::parse(a.as_str()).is_ok());
    }

    #[test]
    fn ids_are_checked() {
        for bad in ["", "a b", "a/b", "a?b", "é", &"x".repeat(129)] {
            let err = SessionId::parse(bad).unwrap_err();
            assert!(err.to_string().contains("sessionId"), "{bad:?}");
        }
        assert!(serde_json::from_str::<SessionId>("\"a&b\"").is_err());
        assert!(Entity::agent("j97agent").is_ok());
        assert!(Entity::user("").unwrap_err().to_string().contains("userId"));
    }

    #[test]
    fn ranks_order_the_lifecycle() {
        use SessionStatus::*;
        assert!(Initializing.rank() < Pending.rank());
        assert!(Pending.rank() < Live.rank());
        assert!(Live.rank() < Ended.rank());
        assert_eq!(Ended.rank(), Error.rank());
        for s in [Initializing, Pending, Live, Ended, Error] {
            assert_eq!(s.as_str().parse::<SessionStatus>().unwrap(), s);
        }
    }
}
