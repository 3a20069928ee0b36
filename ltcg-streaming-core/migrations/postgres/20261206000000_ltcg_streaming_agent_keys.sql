-- ltcg-streaming: agents' API keys, stored as Argon2id hashes under their public prefix.
CREATE TABLE streaming_agent_keys (
    prefix TEXT PRIMARY KEY,
    agent_id TEXT NOT NULL,
    -- PHC string ($argon2id$...); the key itself is never stored.
    hash TEXT NOT NULL,
    label TEXT,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX streaming_agent_keys_by_agent ON streaming_agent_keys (agent_id, created_at);
