-- Orgs as records (the org directory): each org's whole SSO config as JSON, its version
-- and who wrote that version when; and the history of every write, whose key is the
-- change mark the app servers follow to drop what changed from their caches.

CREATE TABLE jit_orgs (
    -- The org's id, as in its URLs. Byte order ("C"), as the listing pages it, whatever
    -- the database's collation.
    id         TEXT        COLLATE "C" PRIMARY KEY,
    -- The id lower-cased by the adapter: the handle search's ranges (`ids_under`), in
    -- byte order so that the index serves them.
    folded     TEXT        COLLATE "C" NOT NULL,
    -- The org's `OrgConfig`, as JSON text (kept as written).
    config     TEXT        NOT NULL,
    -- 1 for the first write, one more for each write after; a write names the version it
    -- expects, and changes nothing when the org has moved on.
    version    BIGINT      NOT NULL CHECK (version > 0),
    updated_at TIMESTAMPTZ NOT NULL,
    updated_by TEXT        NOT NULL
);

CREATE INDEX jit_orgs_folded ON jit_orgs (folded);

CREATE TABLE jit_org_history (
    -- The change mark. A write takes its number holding a transaction-level advisory lock
    -- that every org write takes, and keeps the lock until it has committed, so the marks
    -- follow the order in which the writes commit (a sequence alone hands out numbers in
    -- the order the writes start).
    seq     BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id  TEXT        COLLATE "C" NOT NULL,
    version BIGINT      NOT NULL,
    at      TIMESTAMPTZ NOT NULL,
    actor   TEXT        NOT NULL,
    -- The write's `FieldChange`s, as a JSON array.
    changes TEXT        NOT NULL,
    CONSTRAINT jit_org_history_org_version_unique UNIQUE (org_id, version)
);
