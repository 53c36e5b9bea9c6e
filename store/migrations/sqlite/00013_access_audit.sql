-- The audit of account administration, on SQLite. It mirrors migrations/postgres version for version.
-- Times are INTEGER unix microseconds UTC.
--
-- access_audit is append-only: one row per change to a credential (a user added, disabled,
-- enabled, their password reset or changed; an API key issued or revoked), written in the same
-- transaction as the change, so a change is never without its record nor a record without its
-- change. org_id is the organization whose credential changed; actor_* who did it; target the
-- user's or key's ID; detail what an operator reads (an email and role, a key's name and role).
-- No row holds a password, a hash or a key's secret.

-- +goose Up
CREATE TABLE access_audit (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	org_id     TEXT NOT NULL,
	at         INTEGER NOT NULL,
	actor_role TEXT NOT NULL,
	actor_org  TEXT NOT NULL,
	actor_id   TEXT NOT NULL,
	action     TEXT NOT NULL,
	target     TEXT NOT NULL,
	detail     TEXT NOT NULL
) STRICT;
-- AccessAudit lists an organization's records newest first.
CREATE INDEX access_audit_org ON access_audit (org_id, id);

-- +goose Down
DROP TABLE access_audit;
