-- ltcg-streaming: finding a session by egress id reads one index entry.
--
-- `find_by_egress` asks for the newest session with an egress id. With an index on
-- (egress_id) alone, PostgreSQL's generic plan for the prepared statement walks the
-- newest-first index backwards and filters every row; ordering the egress index the same
-- way lets the lookup stop at its first entry.

DROP INDEX streaming_sessions_egress;
CREATE INDEX streaming_sessions_egress
    ON streaming_sessions (egress_id, created_at DESC, id DESC)
    WHERE egress_id IS NOT NULL;
