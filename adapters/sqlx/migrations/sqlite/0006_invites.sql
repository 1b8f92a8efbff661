-- Invites to join an org, which the person accepts at their next SSO sign-in, and how
-- each membership came to be.

CREATE TABLE jit_invites (
    -- AUTOINCREMENT: an id is never handed out twice, so a revoked invite's id cannot
    -- accept a newer invite.
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    org             TEXT    NOT NULL,
    role            TEXT    NOT NULL,
    -- Who is invited: an existing account, or whoever signs in with the email.
    invitee_account INTEGER REFERENCES jit_accounts (id) ON DELETE CASCADE,
    -- The email as the admin typed it, and folded by the adapter
    -- (`jit_provisioning::email_key`) for the look-ups.
    email           TEXT,
    email_key       TEXT,
    -- The IdP identity the invite is bound to, if the admin knows it: then only a sign-in
    -- as that identity accepts it.
    bound_issuer    TEXT,
    bound_subject   TEXT,
    invited_by      TEXT    NOT NULL,
    -- Unix microseconds: one order on both backends, for every instant an invite names.
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    CONSTRAINT jit_invites_one_invitee
        CHECK ((invitee_account IS NULL) <> (email IS NULL)
               AND (email IS NULL) = (email_key IS NULL)),
    CONSTRAINT jit_invites_whole_identity
        CHECK ((bound_issuer IS NULL) = (bound_subject IS NULL))
);

-- An org's open invites, oldest first; and the three ways a sign-in finds its invites.
CREATE INDEX jit_invites_org_created ON jit_invites (org, created_at);
CREATE INDEX jit_invites_org_account ON jit_invites (org, invitee_account);
CREATE INDEX jit_invites_org_email_key ON jit_invites (org, email_key);
CREATE INDEX jit_invites_org_bound ON jit_invites (org, bound_issuer, bound_subject);

-- How each membership came to be: `jit` (created with its account by a sign-in),
-- `invite` (added by accepting an invite), `hand` (anything else: an admin, a script,
-- and every membership from before this migration).
ALTER TABLE jit_memberships ADD COLUMN joined TEXT NOT NULL DEFAULT 'hand'
    CHECK (joined IN ('jit', 'invite', 'hand'));

-- An org's members, and its admins counted before one is demoted or removed.
CREATE INDEX jit_memberships_org_role ON jit_memberships (org, role);
