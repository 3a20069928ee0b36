//! The spectator view of a game, set per lobby and drawn by the overlay of every session
//! showing that lobby: turn, phase, both players and the cards on their field.
//!
//! Everything is bounded (names, counts, cards per zone), so one view is at most a few KiB.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::model::{validate_entity_id, validate_id};
use super::text::check_text;
use crate::error::{Error, Result};

/// Longest player or card name, in characters.
const MAX_NAME_CHARS: usize = 64;
/// Longest phase name, in characters.
const MAX_PHASE_CHARS: usize = 32;
/// Most cards in one zone of one player's field.
const MAX_CARDS_PER_ZONE: usize = 5;
/// Largest life-point value accepted.
const MAX_LIFE_POINTS: i64 = 1_000_000;
/// Largest attack or defense value accepted.
const MAX_STAT: u32 = 99_999;
/// Largest hand, deck or graveyard count accepted.
const MAX_PILE: u32 = 999;
/// Largest turn number accepted.
const MAX_TURN: u32 = 100_000;

/// Which player's turn it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PlayerSide {
    /// The lobby's host.
    Host,
    /// The host's opponent.
    Opponent,
}

/// Where a card lies on the field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CardZone {
    /// The monster zone (default).
    #[default]
    Monster,
    /// The spell and trap zone.
    SpellTrap,
}

/// Battle position of a card on the field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CardPosition {
    /// Upright (default).
    #[default]
    Attack,
    /// Sideways.
    Defense,
}

/// One card on a player's field. A face-down card's name and stats are never drawn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FieldCard {
    /// Card name (required unless `faceDown`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Attack points (monsters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attack: Option<u32>,
    /// Defense points (monsters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defense: Option<u32>,
    /// Attack or defense position.
    #[serde(default)]
    pub position: CardPosition,
    /// Set face down.
    #[serde(default)]
    pub face_down: bool,
    /// Monster zone or spell/trap zone.
    #[serde(default)]
    pub zone: CardZone,
}

/// One player as spectators see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlayerView {
    /// The player's user or agent id, matched against the streaming entity so that its
    /// display name replaces `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub player_id: Option<String>,
    /// Display name.
    pub name: String,
    /// Life points.
    pub life_points: i64,
    /// Cards in hand.
    #[serde(default)]
    pub hand_count: u32,
    /// Cards left in the deck.
    #[serde(default)]
    pub deck_count: u32,
    /// Cards in the graveyard.
    #[serde(default)]
    pub graveyard_count: u32,
    /// Cards on the field, at most five per zone.
    #[serde(default)]
    pub field: Vec<FieldCard>,
}

/// The spectator view of one lobby's game (`update_game_state`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GameState {
    /// The lobby the game is played in.
    pub lobby_id: String,
    /// The game.
    pub game_id: String,
    /// Current turn, from 1.
    pub turn_number: u32,
    /// Current phase (e.g. `main1`, `battle`).
    pub phase: String,
    /// Whose turn it is.
    pub active_player: PlayerSide,
    /// The lobby's host.
    pub host: PlayerView,
    /// The host's opponent.
    pub opponent: PlayerView,
}

impl GameState {
    /// Checks every bound; the error names the field (e.g. `host.field[2].name`).
    pub fn validate(&self) -> Result<()> {
        validate_id("lobbyId", &self.lobby_id)?;
        validate_id("gameId", &self.game_id)?;
        if self.turn_number > MAX_TURN {
            return Err(Error::invalid(
                "turnNumber",
                format!("must be at most {MAX_TURN}"),
            ));
        }
        check_text("phase", &self.phase, MAX_PHASE_CHARS)?;
        self.host.validate("host")?;
        self.opponent.validate("opponent")
    }

    /// The two players with their side.
    pub fn players(&self) -> [(PlayerSide, &PlayerView); 2] {
        [
            (PlayerSide::Host, &self.host),
            (PlayerSide::Opponent, &self.opponent),
        ]
    }

    /// Shows `display_name` for the player who is `entity_id` (the streaming user or
    /// agent); when neither player is, for the host, as the product does.
    pub fn name_player(&mut self, entity_id: &str, display_name: &str) {
        let opponent_is_entity = self.opponent.player_id.as_deref() == Some(entity_id)
            && self.host.player_id.as_deref() != Some(entity_id);
        let player = if opponent_is_entity {
            &mut self.opponent
        } else {
            &mut self.host
        };
        player.name = display_name.to_owned();
    }
}

impl PlayerView {
    fn validate(&self, at: &str) -> Result<()> {
        if let Some(id) = &self.player_id {
            validate_entity_id(&format!("{at}.playerId"), id)?;
        }
        check_text(&format!("{at}.name"), &self.name, MAX_NAME_CHARS)?;
        if !(-MAX_LIFE_POINTS..=MAX_LIFE_POINTS).contains(&self.life_points) {
            return Err(Error::invalid(
                format!("{at}.lifePoints"),
                format!("must be between -{MAX_LIFE_POINTS} and {MAX_LIFE_POINTS}"),
            ));
        }
        for (field, count) in [
            ("handCount", self.hand_count),
            ("deckCount", self.deck_count),
            ("graveyardCount", self.graveyard_count),
        ] {
            if count > MAX_PILE {
                return Err(Error::invalid(
                    format!("{at}.{field}"),
                    format!("must be at most {MAX_PILE}"),
                ));
            }
        }
        for zone in [CardZone::Monster, CardZone::SpellTrap] {
            if self.field.iter().filter(|c| c.zone == zone).count() > MAX_CARDS_PER_ZONE {
                return Err(Error::invalid(
                    format!("{at}.field"),
                    format!("holds at most {MAX_CARDS_PER_ZONE} cards per zone"),
                ));
            }
        }
        for (i, card) in self.field.iter().enumerate() {
            card.validate(&format!("{at}.field[{i}]"))?;
        }
        Ok(())
    }
}

impl FieldCard {
    fn validate(&self, at: &str) -> Result<()> {
        match &self.name {
            Some(name) => check_text(&format!("{at}.name"), name, MAX_NAME_CHARS)?,
            None if !self.face_down => {
                return Err(Error::invalid(
                    format!("{at}.name"),
                    "is required for a face-up card",
                ))
            }
            None => {}
        }
        for (field, value) in [("attack", self.attack), ("defense", self.defense)] {
            if value.is_some_and(|v| v > MAX_STAT) {
                return Err(Error::invalid(
                    format!("{at}.{field}"),
                    format!("must be at most {MAX_STAT}"),
                ));
            }
        }
        Ok(())
    }

    /// The card as spectators may see it: a face-down card keeps only its place.
    pub fn spectated(&self) -> FieldCard {
        if self.face_down {
            FieldCard {
                name: None,
                attack: None,
                defense: None,
                ..self.clone()
            }
        } else {
            self.clone()
        }
    }
}

/// A lobby's game state as stored, with when it was set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StoredGameState {
    /// The view.
    pub state: GameState,
    /// Set, Unix ms.
    pub updated_at: i64,
}

/// How a match ended, for the match-over scene.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MatchOutcome {
    /// The streamer won.
    Win,
    /// The streamer lost.
    Loss,
    /// Nobody won.
    Draw,
    /// Not known (default).
    #[default]
    Unknown,
}

/// The last match of a session (`record_match_result`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MatchResult {
    /// When the match ended, Unix ms.
    pub ended_at: i64,
    /// How it ended.
    pub result: MatchOutcome,
    /// One line for viewers (default `Match over.`).
    pub summary: String,
}

/// Summary shown when none is given.
pub const DEFAULT_MATCH_SUMMARY: &str = "Match over.";
/// Longest match summary, in characters.
pub const MAX_SUMMARY_CHARS: usize = 200;

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> GameState {
        serde_json::from_value(serde_json::json!({
            "lobbyId": "lobby_1", "gameId": "game_1", "turnNumber": 3, "phase": "battle",
            "activePlayer": "host",
            "host": {"playerId": "agent_1", "name": "host_user", "lifePoints": 8000,
                     "handCount": 4, "deckCount": 30, "graveyardCount": 1,
                     "field": [{"name": "Ember Drake", "attack": 1800, "defense": 1200},
                               {"faceDown": true, "zone": "spell-trap"}]},
            "opponent": {"name": "rival", "lifePoints": 6500}
        }))
        .unwrap()
    }

    #[test]
    fn a_full_view_is_valid() {
        sample().validate().unwrap();
    }

    #[test]
    fn every_bound_names_its_field() {
        type Break = fn(&mut GameState);
        let cases: Vec<(Break, &str)> = vec![
            (|g| g.lobby_id = "a b".into(), "lobbyId"),
            (|g| g.phase = String::new(), "phase"),
            (|g| g.turn_number = MAX_TURN + 1, "turnNumber"),
            (|g| g.host.name = "x".repeat(65), "host.name"),
            (
                |g| g.opponent.life_points = MAX_LIFE_POINTS + 1,
                "opponent.lifePoints",
            ),
            (|g| g.host.deck_count = 1000, "host.deckCount"),
            (|g| g.host.field[0].name = None, "host.field[0].name"),
            (
                |g| g.host.field[0].attack = Some(100_000),
                "host.field[0].attack",
            ),
            (|g| g.host.player_id = Some("a b".into()), "host.playerId"),
            (
                |g| g.opponent.field = vec![g.host.field[0].clone(); 6],
                "opponent.field",
            ),
        ];
        for (break_it, field) in cases {
            let mut g = sample();
            break_it(&mut g);
            let err = g.validate().unwrap_err();
            assert!(
                err.to_string().starts_with(&format!("invalid {field}:")),
                "{field}: {err}"
            );
        }
    }

    #[test]
    fn the_streamer_is_named_on_their_own_side() {
        let mut g = sample();
        g.opponent.player_id = Some("agent_2".into());
        g.name_player("agent_2", "Blaze");
        assert_eq!(
            (g.host.name.as_str(), g.opponent.name.as_str()),
            ("host_user", "Blaze")
        );
        let mut g = sample();
        g.name_player("nobody", "Blaze");
        assert_eq!(
            g.host.name, "Blaze",
            "no match: the host, as the product does"
        );
    }

    #[test]
    fn face_down_cards_hide_name_and_stats() {
        let card = FieldCard {
            name: Some("Secret".into()),
            attack: Some(1),
            defense: Some(2),
            position: CardPosition::Defense,
            face_down: true,
            zone: CardZone::Monster,
        };
        let seen = card.spectated();
        assert_eq!((seen.name, seen.attack, seen.defense), (None, None, None));
        assert_eq!(seen.position, CardPosition::Defense);
    }

    #[test]
    fn unknown_fields_are_refused() {
        let mut json = serde_json::to_value(sample()).unwrap();
        json["host"]["mana"] = 3.into();
        assert!(serde_json::from_value::<GameState>(json).is_err());
    }
}
