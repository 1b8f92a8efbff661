-- What org admins did (the admin pages' audit log), and the one-time owner links that
-- open an org's admin pages before its SSO works.

CREATE TABLE jit_admin_events (
    -- An identity column: ids only grow, so newest first is by id.
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org     TEXT    NOT NULL,
    actor   TEXT    NOT NULL,
    -- Unix microseconds.
    at      BIGINT  NOT NULL,
    -- The action and its details, as `jit_provisioning::AdminAction` serialises them.
    action  TEXT    NOT NULL
);

CREATE INDEX jit_admin_events_by_org ON jit_admin_events (org, id);

CREATE TABLE jit_owner_links (
    -- The SHA-256 of the token, in hex: the token itself is only in the link.
    token_hash  TEXT    PRIMARY KEY,
    org         TEXT    NOT NULL,
    -- Unix microseconds.
    created_at  BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL
);
