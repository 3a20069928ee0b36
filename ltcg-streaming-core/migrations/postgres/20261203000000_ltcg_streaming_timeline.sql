-- ltcg-streaming: what happened to each session, in order (the audit trail).

CREATE TABLE streaming_timeline (
    seq        BIGSERIAL PRIMARY KEY,
    session_id TEXT   NOT NULL,
    at         BIGINT NOT NULL,
    kind       TEXT   NOT NULL,
    status     TEXT   NOT NULL,
    cause      TEXT   NOT NULL
);

CREATE INDEX streaming_timeline_session ON streaming_timeline (session_id, seq);
