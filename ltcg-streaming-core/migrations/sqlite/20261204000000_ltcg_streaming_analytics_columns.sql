-- ltcg-streaming: what analytics sums, in columns of the session row (written with it), and
-- a covering index on them, so that a time range is summed from the index alone instead of
-- each session's JSON and its viewer samples.

-- The UTC day of created_at (days since 1970-01-01, floored).
ALTER TABLE streaming_sessions ADD COLUMN created_day INTEGER NOT NULL DEFAULT 0;
ALTER TABLE streaming_sessions ADD COLUMN platform TEXT NOT NULL DEFAULT '';
ALTER TABLE streaming_sessions ADD COLUMN dry_run INTEGER NOT NULL DEFAULT 0;
ALTER TABLE streaming_sessions ADD COLUMN duration_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE streaming_sessions ADD COLUMN end_reason TEXT;
-- The session's viewer samples rolled up: viewers summed, and readings (distinct times).
ALTER TABLE streaming_sessions ADD COLUMN viewer_sum INTEGER NOT NULL DEFAULT 0;
ALTER TABLE streaming_sessions ADD COLUMN viewer_readings INTEGER NOT NULL DEFAULT 0;

UPDATE streaming_sessions SET
    created_day = (created_at - (((created_at % 86400000) + 86400000) % 86400000)) / 86400000,
    platform = COALESCE(json_extract(data, '$.platform'), ''),
    dry_run = COALESCE(json_extract(data, '$.dryRun'), 0),
    duration_ms = COALESCE(json_extract(data, '$.stats.duration'), 0),
    end_reason = json_extract(data, '$.endReason'),
    viewer_sum = (SELECT COALESCE(SUM(viewers), 0) FROM streaming_viewer_samples v
                  WHERE v.session_id = streaming_sessions.id),
    viewer_readings = (SELECT COUNT(DISTINCT at) FROM streaming_viewer_samples v
                       WHERE v.session_id = streaming_sessions.id);

CREATE INDEX streaming_sessions_analytics ON streaming_sessions (
    created_at, dry_run, stream_type, entity_id, status, created_day, platform, end_reason,
    duration_ms, peak_viewer_count, decisions_logged, events_recorded, viewer_sum,
    viewer_readings
);
