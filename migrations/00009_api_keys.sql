-- +goose Up

-- Keys the vendor's product uses on /api/v1. Only the key's SHA-256 is
-- kept; prefix is the short public part of the key, for lookup and for
-- telling keys apart in the dashboard. A revoked key is kept for the record.
CREATE TABLE api_keys (
    id           bigserial   PRIMARY KEY,
    name         text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    prefix       text        NOT NULL UNIQUE,
    key_hash     bytea       NOT NULL,
    created_by   bigint      REFERENCES staff (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);

-- One Idempotency-Key of one API key: the request it was first sent with
-- (a hash of its body) and, once answered, the answer a retry gets again.
-- status is NULL while the first request is still being answered.
CREATE TABLE api_idempotency (
    api_key_id   bigint      NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    key          text        NOT NULL,
    request_hash bytea       NOT NULL,
    status       integer,
    response     bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (api_key_id, key)
);

-- +goose Down
DROP TABLE api_idempotency;
DROP TABLE api_keys;
