-- Login throttling and the admin's credential commands, on PostgreSQL. It mirrors
-- migrations/sqlite version for version. Times are BIGINT unix microseconds UTC.
--
-- login_throttles holds one row per subject that failed to log in: an account (the lower-cased
-- email, whether or not a user has it) or a client address. A login attempt updates its rows
-- first, which on PostgreSQL locks them until commit, so concurrent attempts on one subject are
-- counted one after the other. locked_until is 0 when the subject was never locked; strikes
-- counts the lockouts in a row (each one longer); updated_at is the last attempt, for the sweep.
--
-- login_failures holds one row per attempt and subject that has not (yet) succeeded: an attempt
-- is recorded before its password is checked and removed when it succeeds, so a burst of
-- concurrent guesses cannot pass the limit. Rows older than the window are dead and swept.
--
-- access_commands makes the admin's credential commands idempotent: a form's key, what it did
-- (kind) and to what (target). Only commands without an ID of their own to derive from the key
-- (a password reset) are recorded here.

-- +goose Up
CREATE TABLE login_throttles (
	scope        TEXT NOT NULL CHECK (scope IN ('account', 'client')),
	subject      TEXT NOT NULL,
	locked_until BIGINT NOT NULL DEFAULT 0,
	strikes      INTEGER NOT NULL DEFAULT 0 CHECK (strikes >= 0),
	updated_at   BIGINT NOT NULL,
	PRIMARY KEY (scope, subject)
);
-- The sweep deletes rows idle for long.
CREATE INDEX login_throttles_updated ON login_throttles (updated_at);

CREATE TABLE login_failures (
	attempt TEXT NOT NULL,
	scope   TEXT NOT NULL CHECK (scope IN ('account', 'client')),
	subject TEXT NOT NULL,
	at      BIGINT NOT NULL,
	PRIMARY KEY (attempt, scope)
);
-- An attempt counts the failures of its subjects in the window.
CREATE INDEX login_failures_subject ON login_failures (scope, subject, at);
-- The sweep deletes failures older than the window.
CREATE INDEX login_failures_at ON login_failures (at);

CREATE TABLE access_commands (
	key    TEXT PRIMARY KEY,
	kind   TEXT NOT NULL,
	target TEXT NOT NULL,
	at     BIGINT NOT NULL
);

-- +goose Down
DROP TABLE access_commands;
DROP TABLE login_failures;
DROP TABLE login_throttles;
