-- SCIM users: the people an org's IdP provisions ahead of their first sign-in, each
-- with the account it signs in to; deleted ones kept as tombstones.
CREATE TABLE jit_scim_users (
    -- The SCIM id. AUTOINCREMENT never hands a number out twice, so an id is never reused.
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org              TEXT    NOT NULL,
    account_id       BIGINT  NOT NULL REFERENCES jit_accounts (id) ON DELETE CASCADE,
    user_name        TEXT    NOT NULL,
    -- `user_name` case-folded: unique per org among live users.
    user_name_key    TEXT    NOT NULL,
    external_id      TEXT,
    -- The identity the user pre-links.
    issuer           TEXT    NOT NULL,
    subject          TEXT    NOT NULL,
    active           BOOLEAN NOT NULL,
    -- A tombstone: gone from reads, kept for what a re-creation restores.
    deleted          BOOLEAN NOT NULL DEFAULT FALSE,
    given_name       TEXT,
    family_name      TEXT,
    display_name     TEXT,
    -- The emails, the primary first, as a JSON array.
    emails           TEXT    NOT NULL DEFAULT '[]',
    -- The role the creation granted at the org, given back on restoring.
    provisioned_role TEXT,
    -- Set while deprovisioned: what deprovisioning took (the role, how it was joined,
    -- whether the account was disabled), given back on restoring.
    taken            BOOLEAN NOT NULL DEFAULT FALSE,
    taken_role       TEXT,
    taken_joined     TEXT,
    taken_disabled   BOOLEAN NOT NULL DEFAULT FALSE,
    version          BIGINT  NOT NULL CHECK (version > 0),
    -- Unix microseconds.
    created_at       BIGINT  NOT NULL,
    updated_at       BIGINT  NOT NULL
);

CREATE UNIQUE INDEX jit_scim_users_org_user_name_key
    ON jit_scim_users (org, user_name_key) WHERE NOT deleted;
CREATE UNIQUE INDEX jit_scim_users_org_external_id
    ON jit_scim_users (org, external_id) WHERE NOT deleted AND external_id IS NOT NULL;
CREATE INDEX jit_scim_users_org_identity ON jit_scim_users (org, issuer, subject);
CREATE INDEX jit_scim_users_org_id ON jit_scim_users (org, id);

-- Each user's emails by `email_key`: the `emails` filter.
CREATE TABLE jit_scim_user_emails (
    user_id   BIGINT  NOT NULL REFERENCES jit_scim_users (id) ON DELETE CASCADE,
    org       TEXT    NOT NULL,
    email_key TEXT    NOT NULL
);
CREATE INDEX jit_scim_user_emails_org_key ON jit_scim_user_emails (org, email_key);
CREATE INDEX jit_scim_user_emails_user ON jit_scim_user_emails (user_id);

-- Identities the org's IdP deprovisioned and did not restore since.
CREATE TABLE jit_deprovisioned (
    org     TEXT    NOT NULL,
    issuer  TEXT    NOT NULL,
    subject TEXT    NOT NULL,
    -- Unix microseconds.
    deprovisioned_at BIGINT NOT NULL,
    deprovisioned_by TEXT NOT NULL CHECK (deprovisioned_by IN ('deactivated', 'deleted')),
    PRIMARY KEY (org, issuer, subject)
);

-- Memberships may be joined by SCIM too.
ALTER TABLE jit_memberships DROP CONSTRAINT jit_memberships_joined_check;
ALTER TABLE jit_memberships ADD CONSTRAINT jit_memberships_joined_check
    CHECK (joined IN ('jit', 'invite', 'hand', 'scim'));
