-- ltcg-streaming: sessions, their activity feeds, processed webhook ids, platform credentials.
--
-- A session is stored as its full JSON (`data`) plus the columns the store queries on. The
-- counters and `version` live only in their own columns (they are overlaid on the JSON when
-- read), so a compare-and-swap update of `data` can never overwrite a counter.
--
-- Ids use the "C" collation so that keyset pagination orders them bytewise, exactly like
-- the cursor comparison of the library (and independently of the database's locale).

CREATE TABLE streaming_sessions (
    id                TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    stream_type       TEXT   NOT NULL CHECK (stream_type IN ('user', 'agent')),
    entity_id         TEXT   NOT NULL,
    status            TEXT   NOT NULL
                      CHECK (status IN ('initializing', 'pending', 'live', 'ended', 'error')),
    egress_id         TEXT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    version           BIGINT NOT NULL,
    viewer_count      BIGINT NOT NULL DEFAULT 0,
    peak_viewer_count BIGINT NOT NULL DEFAULT 0,
    decisions_logged  BIGINT NOT NULL DEFAULT 0,
    events_recorded   BIGINT NOT NULL DEFAULT 0,
    data              JSON   NOT NULL
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
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id TEXT COLLATE "C" NOT NULL
               REFERENCES streaming_sessions (id) ON DELETE CASCADE,
    kind       TEXT   NOT NULL CHECK (kind IN ('decision', 'event')),
    at         BIGINT NOT NULL,
    data       JSON   NOT NULL
);

-- Newest-first feed per session and kind.
CREATE INDEX streaming_activities_feed ON streaming_activities (session_id, kind, id);

CREATE TABLE streaming_processed_events (
    event_id   TEXT   NOT NULL PRIMARY KEY,
    claimed_at BIGINT NOT NULL
);

CREATE TABLE streaming_credentials (
    stream_type TEXT   NOT NULL CHECK (stream_type IN ('user', 'agent')),
    entity_id   TEXT   NOT NULL,
    updated_at  BIGINT NOT NULL,
    data        JSON   NOT NULL,
    PRIMARY KEY (stream_type, entity_id)
);
