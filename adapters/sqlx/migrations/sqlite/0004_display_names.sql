-- The person's given and family names as the IdP sent them at the account's creation,
-- for the app to show. NULL when the IdP sent none; rows made before keep NULL.
ALTER TABLE jit_accounts ADD COLUMN given_name TEXT;
ALTER TABLE jit_accounts ADD COLUMN family_name TEXT;
