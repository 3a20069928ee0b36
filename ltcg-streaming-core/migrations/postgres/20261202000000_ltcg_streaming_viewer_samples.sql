-- ltcg-streaming: viewer counts over time, one row per destination per reading.

CREATE TABLE streaming_viewer_samples (
    session_id     TEXT   NOT NULL,
    at             BIGINT NOT NULL,
    destination_id TEXT   NOT NULL,
    platform       TEXT   NOT NULL,
    viewers        BIGINT NOT NULL,
    PRIMARY KEY (session_id, at, destination_id)
);

CREATE INDEX streaming_viewer_samples_at ON streaming_viewer_samples (at);
