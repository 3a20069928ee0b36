-- ltcg-streaming: the spectator view of each lobby's game, shown by every overlay linked to it.

CREATE TABLE streaming_game_states (
    lobby_id   TEXT   NOT NULL PRIMARY KEY,
    updated_at BIGINT NOT NULL,
    data       JSON   NOT NULL
);
