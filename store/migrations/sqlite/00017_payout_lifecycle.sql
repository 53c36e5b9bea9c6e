-- Payouts get a lifecycle (docs/payouts.md) on SQLite. It mirrors migrations/postgres version for
-- version. A payout is now requested in the transaction that nets the supplier's debt and moves
-- the rest to payouts_in_transit; the rail's answer — sent, with the bank's reference and value
-- date, or returned — is recorded later, by the payout rail's worker (an outbox: lease, attempts)
-- or by an operator. So a payout row changes, but only along that lifecycle: the trigger refuses
-- any other change and any DELETE. SQLite cannot alter a CHECK, so the table is rebuilt; payouts
-- booked before this version keep their status (sent or netted) and transfers. Times are INTEGER
-- unix microseconds UTC, money INTEGER minor units of the payout's currency.

-- +goose Up
DROP TRIGGER payouts_no_update;
DROP TRIGGER payouts_no_delete;
CREATE TABLE payouts_v16 (
	id              TEXT PRIMARY KEY,
	supplier_id     TEXT NOT NULL,
	currency        TEXT NOT NULL CHECK (length(currency) = 3),
	payable_before  INTEGER NOT NULL CHECK (payable_before > 0),
	netted          INTEGER NOT NULL CHECK (netted >= 0),
	sent            INTEGER NOT NULL CHECK (sent >= 0),
	status          TEXT NOT NULL CHECK (status IN ('requested', 'sent', 'returned', 'netted')),
	created_at      INTEGER NOT NULL,
	doc             TEXT NOT NULL,
	-- Requested while the sandbox ran: the sandbox payout rail answers it, no money moves.
	sandbox         INTEGER NOT NULL DEFAULT 0 CHECK (sandbox IN (0, 1)),
	-- The send outbox, while requested.
	attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	next_attempt_at INTEGER,
	lease_owner     TEXT NOT NULL DEFAULT '',
	lease_until     INTEGER,
	last_error      TEXT NOT NULL DEFAULT '',
	attention       INTEGER NOT NULL DEFAULT 0 CHECK (attention IN (0, 1)),
	recorded_at     INTEGER,
	CHECK (netted + sent = payable_before),
	CHECK ((status = 'netted') = (sent = 0))
) STRICT;
INSERT INTO payouts_v16 (id, supplier_id, currency, payable_before, netted, sent, status, created_at, doc, recorded_at)
	SELECT id, supplier_id, currency, payable_before, netted, sent, status, created_at, doc, created_at FROM payouts;
DROP TABLE payouts;
ALTER TABLE payouts_v16 RENAME TO payouts;
CREATE INDEX payouts_supplier ON payouts (supplier_id, id);
CREATE INDEX payouts_status ON payouts (status, id);
-- The payout rail worker's claim: requested payouts by their next attempt.
CREATE INDEX payouts_due ON payouts (next_attempt_at, id) WHERE status = 'requested';

-- +goose StatementBegin
CREATE TRIGGER payouts_lifecycle BEFORE UPDATE ON payouts
WHEN NEW.id IS NOT OLD.id OR NEW.supplier_id IS NOT OLD.supplier_id OR NEW.currency IS NOT OLD.currency
	OR NEW.payable_before IS NOT OLD.payable_before OR NEW.netted IS NOT OLD.netted OR NEW.sent IS NOT OLD.sent
	OR NEW.created_at IS NOT OLD.created_at OR NEW.sandbox IS NOT OLD.sandbox
	OR NOT ((OLD.status = 'requested' AND NEW.status IN ('requested', 'sent', 'returned'))
		OR (OLD.status = 'sent' AND NEW.status = 'returned'))
BEGIN
	SELECT RAISE(ABORT, 'a payout changes only along its lifecycle');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER payouts_no_delete BEFORE DELETE ON payouts
BEGIN
	SELECT RAISE(ABORT, 'payouts are never deleted');
END;
-- +goose StatementEnd

-- A supplier's designated account, flagged by a returned payout: nothing more is sent until an
-- admin clears it. One open flag per supplier; cleared flags are kept.
CREATE TABLE payout_account_flags (
	payout_id   TEXT PRIMARY KEY,
	supplier_id TEXT NOT NULL,
	reason      TEXT NOT NULL,
	flagged_at  INTEGER NOT NULL,
	cleared_at  INTEGER,
	cleared_by  TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE UNIQUE INDEX payout_account_flags_open ON payout_account_flags (supplier_id) WHERE cleared_at IS NULL;
CREATE INDEX payout_account_flags_supplier ON payout_account_flags (supplier_id, flagged_at);

-- The sandbox payout rail (only with the sandbox on): which suppliers' payouts it returns, shared
-- by every process, and the answer it gave each payout, so the same reference gets the same
-- answer across restarts.
CREATE TABLE sandbox_payout_settings (
	supplier_id    TEXT PRIMARY KEY,
	return_payouts INTEGER NOT NULL CHECK (return_payouts IN (0, 1)),
	updated_at     INTEGER NOT NULL
) STRICT;
CREATE TABLE sandbox_payout_answers (
	reference      TEXT PRIMARY KEY,
	supplier_id    TEXT NOT NULL,
	amount         INTEGER NOT NULL CHECK (amount > 0),
	currency       TEXT NOT NULL,
	outcome        TEXT NOT NULL CHECK (outcome IN ('sent', 'returned')),
	bank_reference TEXT NOT NULL,
	value_date     INTEGER NOT NULL,
	reason         TEXT NOT NULL,
	answered_at    INTEGER NOT NULL
) STRICT;

-- +goose Down
-- Only a database whose payouts are all sent or netted goes back: the old CHECK refuses others.
DROP TABLE sandbox_payout_answers;
DROP TABLE sandbox_payout_settings;
DROP TABLE payout_account_flags;
DROP TRIGGER payouts_no_delete;
DROP TRIGGER payouts_lifecycle;
CREATE TABLE payouts_v8 (
	id             TEXT PRIMARY KEY,
	supplier_id    TEXT NOT NULL,
	currency       TEXT NOT NULL CHECK (length(currency) = 3),
	payable_before INTEGER NOT NULL CHECK (payable_before > 0),
	netted         INTEGER NOT NULL CHECK (netted >= 0),
	sent           INTEGER NOT NULL CHECK (sent >= 0),
	status         TEXT NOT NULL CHECK (status IN ('sent', 'netted')),
	created_at     INTEGER NOT NULL,
	doc            TEXT NOT NULL,
	CHECK (netted + sent = payable_before)
) STRICT;
INSERT INTO payouts_v8 SELECT id, supplier_id, currency, payable_before, netted, sent, status, created_at, doc FROM payouts;
DROP TABLE payouts;
ALTER TABLE payouts_v8 RENAME TO payouts;
CREATE INDEX payouts_supplier ON payouts (supplier_id, id);
-- +goose StatementBegin
CREATE TRIGGER payouts_no_update BEFORE UPDATE ON payouts
BEGIN
	SELECT RAISE(ABORT, 'payouts are immutable');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER payouts_no_delete BEFORE DELETE ON payouts
BEGIN
	SELECT RAISE(ABORT, 'payouts are immutable');
END;
-- +goose StatementEnd
