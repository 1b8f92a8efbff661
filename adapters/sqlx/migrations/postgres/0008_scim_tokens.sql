-- The bearer tokens that open an org's SCIM endpoints. A revoked token's row is
-- deleted; its id is never given again.

CREATE TABLE jit_scim_tokens (
    -- An identity column: an id is never given again, so a revoked token's id never
    -- names a later one.
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org           TEXT    NOT NULL,
    -- The SHA-256 of the token, in hex: the token itself was shown once and is kept
    -- nowhere.
    token_hash    TEXT    NOT NULL,
    label         TEXT    NOT NULL,
    -- The token's last 4 hex digits, to tell tokens apart.
    hint          TEXT    NOT NULL,
    -- Unix microseconds.
    created_at    BIGINT  NOT NULL,
    -- Unix microseconds, written at most once a minute; NULL if never used.
    last_used_at  BIGINT
);

CREATE UNIQUE INDEX jit_scim_tokens_token_hash ON jit_scim_tokens (token_hash);

CREATE INDEX jit_scim_tokens_by_org ON jit_scim_tokens (org, created_at, id);
