-- An account holds at most one identity per issuer: two subjects of one IdP racing to
-- take over an account by its email cannot both be linked. Fails on a database that
-- already holds such pairs; the error names the index, and the rows are the app's to
-- sort out (nothing is deleted here).
CREATE UNIQUE INDEX jit_identities_account_issuer_unique ON jit_identities (account_id, issuer);

-- Assertion ids seen, shared by every app server: a captured SAML response signs in once.
-- `expires_at` is in Unix seconds; its index lets expired ids be swept by range.
CREATE TABLE jit_assertion_ids (
    issuer     TEXT    NOT NULL,
    id         TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    CONSTRAINT jit_assertion_ids_pkey PRIMARY KEY (issuer, id)
);

CREATE INDEX jit_assertion_ids_expires_at ON jit_assertion_ids (expires_at);
