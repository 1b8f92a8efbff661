-- Accounts, the SSO identities linked to them and their org memberships.

CREATE TABLE jit_accounts (
    id           BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    handle       TEXT        NOT NULL,
    -- The handle lower-cased by the adapter: the case-insensitive uniqueness key.
    -- Byte order ("C"), so that the unique index also serves the range scans that find
    -- a stem's `-N` suffixes, whatever the database's collation.
    handle_key   TEXT        COLLATE "C" NOT NULL,
    email        TEXT,
    -- The email lower-cased by the adapter, for case-insensitive look-ups.
    email_key    TEXT,
    disabled     BOOLEAN     NOT NULL DEFAULT FALSE,
    -- Accounts made outside SSO usually have one; the adapter writes FALSE for JIT ones.
    has_password BOOLEAN     NOT NULL DEFAULT TRUE,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT jit_accounts_handle_key_unique UNIQUE (handle_key)
);

CREATE INDEX jit_accounts_email_key ON jit_accounts (email_key);

CREATE TABLE jit_identities (
    -- Link order, so an account's identities come back in the order they were linked.
    id         BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id BIGINT      NOT NULL REFERENCES jit_accounts (id) ON DELETE CASCADE,
    issuer     TEXT        NOT NULL,
    subject    TEXT        NOT NULL,
    linked_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT jit_identities_issuer_subject_unique UNIQUE (issuer, subject)
);

CREATE INDEX jit_identities_account_id ON jit_identities (account_id);

CREATE TABLE jit_memberships (
    account_id BIGINT NOT NULL REFERENCES jit_accounts (id) ON DELETE CASCADE,
    org        TEXT   NOT NULL,
    role       TEXT   NOT NULL,
    CONSTRAINT jit_memberships_pkey PRIMARY KEY (account_id, org)
);
