-- Supplier payouts on SQLite. It mirrors migrations/postgres version for version. A payout is
-- stored once, in the transaction that posts its transfers (netting the supplier's debt, then
-- sending the rest), as a JSON document with the columns that are searched and checked beside
-- it; it is never updated or deleted, and the triggers refuse any attempt. Times are INTEGER unix
-- microseconds UTC, money INTEGER minor units of the payout's currency.

-- +goose Up
CREATE TABLE payouts (
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
CREATE INDEX payouts_supplier ON payouts (supplier_id, id);

-- A supplier's balances (payable, receivable) are found by the accounts' owner.
CREATE INDEX ledger_accounts_owner ON ledger_accounts (owner, kind);

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

-- +goose Down
DROP TRIGGER payouts_no_delete;
DROP TRIGGER payouts_no_update;
DROP INDEX ledger_accounts_owner;
DROP TABLE payouts;
