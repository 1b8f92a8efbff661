-- SCIM groups: the groups an org's IdP pushes, whose members are the org's SCIM users
-- and whose names `group_roles` maps to roles.
CREATE TABLE jit_scim_groups (
    -- The SCIM id; an identity column never hands a number out twice.
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org              TEXT    NOT NULL,
    display_name     TEXT    NOT NULL,
    -- `display_name` case-folded: unique per org.
    display_name_key TEXT    NOT NULL,
    external_id      TEXT,
    version          BIGINT  NOT NULL CHECK (version > 0),
    -- Unix microseconds.
    created_at       BIGINT  NOT NULL,
    updated_at       BIGINT  NOT NULL
);

CREATE UNIQUE INDEX jit_scim_groups_org_name ON jit_scim_groups (org, display_name_key);
CREATE UNIQUE INDEX jit_scim_groups_org_external_id
    ON jit_scim_groups (org, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX jit_scim_groups_org_id ON jit_scim_groups (org, id);

-- A row per member: a PATCH adds and removes rows, never rewrites the group.
CREATE TABLE jit_scim_group_members (
    group_id BIGINT NOT NULL REFERENCES jit_scim_groups (id) ON DELETE CASCADE,
    user_id  BIGINT NOT NULL REFERENCES jit_scim_users (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);

-- A user's groups: the roles they map to, and a deleted user leaving them.
CREATE INDEX jit_scim_group_members_user ON jit_scim_group_members (user_id);

-- A SCIM user's resource as the IdP last wrote it (JSON): the attributes no column holds
-- read back as they were written.
ALTER TABLE jit_scim_users ADD COLUMN resource TEXT;
