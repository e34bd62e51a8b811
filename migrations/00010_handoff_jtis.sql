-- +goose Up

-- The ids (jti) of hand-off tokens already used at /start, so a token works
-- once. A row is kept until its token has expired (expires_at includes the
-- clock-skew leeway); after that the token is refused for its age anyway,
-- and the row is pruned.
CREATE TABLE handoff_jtis (
    jti        text        PRIMARY KEY CHECK (length(jti) BETWEEN 1 AND 200),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX handoff_jtis_expires ON handoff_jtis (expires_at);

-- +goose Down
DROP TABLE handoff_jtis;
