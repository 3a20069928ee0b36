-- ltcg-streaming: sessions, their activity feeds, processed webhook ids, platform credentials.
--
-- A session is stored as its full JSON (`data`) plus the columns the store queries on. The
-- counters and `version` live only in their own columns (they are overlaid on the JSON when
-- read), so a compare-and-swap update of `data` can never overwrite a counter.

CREATE TABLE streaming_sessions (
    id                TEXT    NOT NULL PRIMARY KEY,
    stream_type       TEXT    NOT NULL CHECK (stream_type IN ('user', 'agent')),
    entity_id         TEXT    NOT NULL,
    status            TEXT    NOT NULL
                      CHECK (status IN ('initializing', 'pending', 'live', 'ended', 'error')),
    egress_id         TEXT,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    version           INTEGER NOT NULL,
    viewer_count      INTEGER NOT NULL DEFAULT 0,
    peak_viewer_count INTEGER NOT NULL DEFAULT 0,
    decisions_logged  INTEGER NOT NULL DEFAULT 0,
    events_recorded   INTEGER NOT NULL DEFAULT 0,
    data              TEXT    NOT NULL
);

-- At most one active (non-terminal) session per entity: the race-free guard of inserts.
CREATE UNIQUE INDEX streaming_sessions_one_active
    ON streaming_sessions (stream_type, entity_id)
    WHERE status NOT IN ('ended', 'error');

-- Newest-first listing (keyset pagination on (created_at, id)).
CREATE INDEX streaming_sessions_newest ON streaming_sessions (created_at, id);
CREATE INDEX streaming_sessions_entity
    ON streaming_sessions (stream_type, entity_id, created_at, id);
CREATE INDEX streaming_sessions_status ON streaming_sessions (status, created_at, id);
CREATE INDEX streaming_sessions_egress
    ON streaming_sessions (egress_id)
    WHERE egress_id IS NOT NULL;

CREATE TABLE streaming_activities (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT    NOT NULL REFERENCES streaming_sessions (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL CHECK (kind IN ('decision', 'event')),
    at         INTEGER NOT NULL,
    data       TEXT    NOT NULL
);

-- Newest-first feed per session and kind.
CREATE INDEX streaming_activities_feed ON streaming_activities (session_id, kind, id);

CREATE TABLE streaming_processed_events (
    event_id   TEXT    NOT NULL PRIMARY KEY,
    claimed_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE streaming_credentials (
    stream_type TEXT    NOT NULL CHECK (stream_type IN ('user', 'agent')),
    entity_id   TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL,
    data        TEXT    NOT NULL,
    PRIMARY KEY (stream_type, entity_id)
) WITHOUT ROWID;
