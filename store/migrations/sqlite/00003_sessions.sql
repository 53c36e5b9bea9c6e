-- Web portal sessions on SQLite (alexedwards/scs through store.Sessions). It mirrors
-- migrations/postgres version for version. token is what the session cookie carries (or its
-- hash, when the session manager hashes tokens); data is the session manager's encoded values;
-- expiry is INTEGER unix microseconds UTC, after which the row is dead and swept.

-- +goose Up
CREATE TABLE sessions (
	token  TEXT PRIMARY KEY,
	data   BLOB NOT NULL,
	expiry INTEGER NOT NULL
) STRICT;
-- The sweep deletes by expiry.
CREATE INDEX sessions_expiry ON sessions (expiry);

-- +goose Down
DROP TABLE sessions;
