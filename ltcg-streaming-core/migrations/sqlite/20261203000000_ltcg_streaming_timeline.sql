-- ltcg-streaming: what happened to each session, in order (the audit trail).

CREATE TABLE IF NOT EXISTS streaming_timeline (
    seq        INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    session_id TEXT    NOT NULL,
    at         INTEGER NOT NULL,
    kind       TEXT    NOT NULL,
    status     TEXT    NOT NULL,
    cause      TEXT    NOT NULL
);

CREATE INDEX IF NOT EXISTS streaming_timeline_session ON streaming_timeline (session_id, seq);
