-- ltcg-streaming: the spectator view of each lobby's game, shown by every overlay linked to it.

CREATE TABLE IF NOT EXISTS streaming_game_states (
    lobby_id   TEXT    NOT NULL PRIMARY KEY,
    updated_at INTEGER NOT NULL,
    data       TEXT    NOT NULL
) WITHOUT ROWID;
