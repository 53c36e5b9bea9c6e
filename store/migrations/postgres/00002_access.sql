-- Who may call the platform, on PostgreSQL: the users of organizations and their API keys. It
-- mirrors migrations/sqlite version for version. Times are BIGINT unix microseconds UTC;
-- a NULL disabled_at or revoked_at means "not yet". Secrets are never stored: password_hash is
-- an argon2id string, hash the hex SHA-256 of a key's secret.

-- +goose Up
CREATE TABLE users (
	id            TEXT PRIMARY KEY,
	org_id        TEXT NOT NULL,
	email         TEXT NOT NULL UNIQUE,
	name          TEXT NOT NULL,
	role          TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	created_at    BIGINT NOT NULL,
	disabled_at   BIGINT
);
-- Users lists an organization's users by (created_at, id).
CREATE INDEX users_org ON users (org_id, created_at, id);

CREATE TABLE api_keys (
	id         TEXT PRIMARY KEY,
	org_id     TEXT NOT NULL,
	role       TEXT NOT NULL,
	name       TEXT NOT NULL,
	hash       TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	created_by TEXT NOT NULL,
	revoked_at BIGINT
);
-- APIKeys lists an organization's keys by (created_at, id).
CREATE INDEX api_keys_org ON api_keys (org_id, created_at, id);

-- +goose Down
DROP TABLE api_keys;
DROP TABLE users;
