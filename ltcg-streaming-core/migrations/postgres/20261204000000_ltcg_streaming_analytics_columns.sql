-- ltcg-streaming: what analytics sums, in columns of the session row (written with it), and
-- a covering index on them, so that a time range is summed by an index-only scan instead of
-- reading each session's JSON and its viewer samples.

ALTER TABLE streaming_sessions
    -- The UTC day of created_at (days since 1970-01-01, floored).
    ADD COLUMN created_day BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN platform TEXT NOT NULL DEFAULT '',
    ADD COLUMN dry_run BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN duration_ms BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN end_reason TEXT,
    -- The session's viewer samples rolled up: viewers summed, and readings (distinct times).
    ADD COLUMN viewer_sum BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN viewer_readings BIGINT NOT NULL DEFAULT 0;

UPDATE streaming_sessions SET
    created_day = floor(created_at / 86400000.0)::bigint,
    platform = COALESCE(data->>'platform', ''),
    dry_run = COALESCE((data->>'dryRun')::boolean, FALSE),
    duration_ms = COALESCE((data->'stats'->>'duration')::bigint, 0),
    end_reason = data->>'endReason';

UPDATE streaming_sessions s SET viewer_sum = r.total, viewer_readings = r.readings
FROM (SELECT session_id, SUM(viewers)::bigint AS total, COUNT(DISTINCT at) AS readings
      FROM streaming_viewer_samples GROUP BY session_id) r
WHERE s.id = r.session_id;

CREATE INDEX streaming_sessions_analytics ON streaming_sessions (created_at)
    INCLUDE (dry_run, stream_type, entity_id, status, created_day, platform, end_reason, duration_ms,
             peak_viewer_count, decisions_logged, events_recorded, viewer_sum, viewer_readings);
