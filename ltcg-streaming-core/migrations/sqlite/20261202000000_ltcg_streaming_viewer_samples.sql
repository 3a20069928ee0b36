-- ltcg-streaming: viewer counts over time, one row per destination per reading.

CREATE TABLE IF NOT EXISTS streaming_viewer_samples (
    session_id     TEXT    NOT NULL,
    at             INTEGER NOT NULL,
    destination_id TEXT    NOT NULL,
    platform       TEXT    NOT NULL,
    viewers        INTEGER NOT NULL,
    PRIMARY KEY (session_id, at, destination_id)
) WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS streaming_viewer_samples_at ON streaming_viewer_samples (at);
