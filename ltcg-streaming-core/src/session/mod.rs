//! Sessions: the data model, overlay settings, egress statuses and the pure state machine.

mod activity;
mod destination;
mod egress_status;
mod game_state;
mod machine;
mod model;
mod overlay;
mod scene;
mod text;
mod timeline;
mod viewer_sample;

pub use self::activity::{Activity, ActivityKind, DecisionData, EventData};
pub use self::destination::{Destination, DestinationStatus};
pub use self::egress_status::EgressStatus;
pub use self::game_state::{
    CardPosition, CardZone, FieldCard, GameState, MatchOutcome, MatchResult, PlayerSide,
    PlayerView, StoredGameState, DEFAULT_MATCH_SUMMARY, MAX_SUMMARY_CHARS,
};
pub use self::machine::{end_reason, transition, SessionEvent, Transition};
pub(crate) use self::model::random_id;
pub use self::model::{
    validate_entity_id, validate_id, Entity, NewSession, SessionId, SessionStats, SessionStatus,
    StreamSession, StreamType, DEFAULT_STREAM_TITLE, MAX_ID_LEN, MAX_TITLE_CHARS,
};
pub(crate) use self::overlay::check_http_url;
pub use self::overlay::{
    OverlayConfig, OverlayConfigPatch, PlayerVisualMode, Theme, WebcamPosition, WebcamSize,
};
pub use self::scene::{scene_at, Scene, SceneAt, DEFAULT_MATCH_OVER_HOLD_MS, MATCH_OVER_HOLD_MS};
pub(crate) use self::text::check_text;
pub use self::timeline::{TimelineEntry, TimelineKind, MAX_TIMELINE_ENTRIES};
pub use self::viewer_sample::{ViewerSample, MAX_VIEWER_SAMPLES};
