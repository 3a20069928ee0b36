-- ltcg-streaming: named, expiring leases, so that replicas sharing this database agree on
-- who runs the reconciler's pass and who renders a local stream.
CREATE TABLE streaming_leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    -- Unix milliseconds; the lease may be taken by another holder from then on.
    expires_at BIGINT NOT NULL
);
