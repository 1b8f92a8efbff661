-- Orgs as records (the org directory): each org's whole SSO config as JSON, its version
-- and who wrote that version when; and the history of every write, whose key is the
-- change mark the app servers follow to drop what changed from their caches.

CREATE TABLE jit_orgs (
    -- The org's id, as in its URLs: byte order (BINARY), as the listing pages it.
    id         TEXT    PRIMARY KEY,
    -- The id lower-cased by the adapter: the handle search's ranges (`ids_under`).
    folded     TEXT    NOT NULL,
    -- The org's `OrgConfig`, as JSON.
    config     TEXT    NOT NULL,
    -- 1 for the first write, one more for each write after; a write names the version it
    -- expects, and changes nothing when the org has moved on.
    version    INTEGER NOT NULL CHECK (version > 0),
    -- RFC 3339, to the microsecond.
    updated_at TEXT    NOT NULL,
    updated_by TEXT    NOT NULL
);

CREATE INDEX jit_orgs_folded ON jit_orgs (folded);

CREATE TABLE jit_org_history (
    -- The change mark. AUTOINCREMENT never hands a number out twice, and a write takes
    -- its number holding the database's write lock (`BEGIN IMMEDIATE`), so the marks
    -- follow the order in which the writes commit.
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id  TEXT    NOT NULL,
    version INTEGER NOT NULL,
    at      TEXT    NOT NULL,
    actor   TEXT    NOT NULL,
    -- The write's `FieldChange`s, as a JSON array.
    changes TEXT    NOT NULL,
    CONSTRAINT jit_org_history_org_version_unique UNIQUE (org_id, version)
);
