-- Supplier payouts on PostgreSQL. It mirrors migrations/sqlite version for version. A payout is
-- stored once, in the transaction that posts its transfers (netting the supplier's debt, then
-- sending the rest), as a JSON document with the columns that are searched and checked beside
-- it; it is never updated or deleted, and the trigger refuses any attempt. Times are BIGINT unix
-- microseconds UTC, money BIGINT minor units of the payout's currency.

-- +goose Up
CREATE TABLE payouts (
	id             TEXT PRIMARY KEY,
	supplier_id    TEXT NOT NULL,
	currency       TEXT NOT NULL CHECK (length(currency) = 3),
	payable_before BIGINT NOT NULL CHECK (payable_before > 0),
	netted         BIGINT NOT NULL CHECK (netted >= 0),
	sent           BIGINT NOT NULL CHECK (sent >= 0),
	status         TEXT NOT NULL CHECK (status IN ('sent', 'netted')),
	created_at     BIGINT NOT NULL,
	doc            TEXT NOT NULL,
	CHECK (netted + sent = payable_before)
);
CREATE INDEX payouts_supplier ON payouts (supplier_id, id);

-- A supplier's balances (payable, receivable) are found by the accounts' owner.
CREATE INDEX ledger_accounts_owner ON ledger_accounts (owner, kind);

-- +goose StatementBegin
CREATE FUNCTION payouts_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'payouts are immutable';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER payouts_immutable BEFORE UPDATE OR DELETE ON payouts
	FOR EACH ROW EXECUTE FUNCTION payouts_immutable();

-- +goose Down
DROP TRIGGER payouts_immutable ON payouts;
DROP FUNCTION payouts_immutable();
DROP INDEX ledger_accounts_owner;
DROP TABLE payouts;
