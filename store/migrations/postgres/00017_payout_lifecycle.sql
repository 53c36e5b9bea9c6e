-- Payouts get a lifecycle (docs/payouts.md) on PostgreSQL. It mirrors migrations/sqlite version
-- for version. A payout is now requested in the transaction that nets the supplier's debt and
-- moves the rest to payouts_in_transit; the rail's answer — sent, with the bank's reference and
-- value date, or returned — is recorded later, by the payout rail's worker (an outbox: lease,
-- attempts) or by an operator. So a payout row changes, but only along that lifecycle: the
-- trigger refuses any other change and any DELETE. Payouts booked before this version keep their
-- status (sent or netted) and transfers. Times are BIGINT unix microseconds UTC, money BIGINT
-- minor units of the payout's currency.

-- +goose Up
DROP TRIGGER payouts_immutable ON payouts;
DROP FUNCTION payouts_immutable();
ALTER TABLE payouts DROP CONSTRAINT payouts_status_check;
ALTER TABLE payouts ADD CONSTRAINT payouts_status_check CHECK (status IN ('requested', 'sent', 'returned', 'netted'));
ALTER TABLE payouts ADD CONSTRAINT payouts_netted_sends_nothing CHECK ((status = 'netted') = (sent = 0));
-- Requested while the sandbox ran: the sandbox payout rail answers it, no money moves.
ALTER TABLE payouts ADD COLUMN sandbox INTEGER NOT NULL DEFAULT 0 CHECK (sandbox IN (0, 1));
-- The send outbox, while requested.
ALTER TABLE payouts ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0);
ALTER TABLE payouts ADD COLUMN next_attempt_at BIGINT;
ALTER TABLE payouts ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE payouts ADD COLUMN lease_until BIGINT;
ALTER TABLE payouts ADD COLUMN last_error TEXT NOT NULL DEFAULT '';
ALTER TABLE payouts ADD COLUMN attention INTEGER NOT NULL DEFAULT 0 CHECK (attention IN (0, 1));
ALTER TABLE payouts ADD COLUMN recorded_at BIGINT;
UPDATE payouts SET recorded_at = created_at;
CREATE INDEX payouts_status ON payouts (status, id);
-- The payout rail worker's claim: requested payouts by their next attempt.
CREATE INDEX payouts_due ON payouts (next_attempt_at, id) WHERE status = 'requested';

-- +goose StatementBegin
CREATE FUNCTION payouts_lifecycle() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		RAISE EXCEPTION 'payouts are never deleted';
	END IF;
	IF NEW.id IS DISTINCT FROM OLD.id OR NEW.supplier_id IS DISTINCT FROM OLD.supplier_id
		OR NEW.currency IS DISTINCT FROM OLD.currency OR NEW.payable_before IS DISTINCT FROM OLD.payable_before
		OR NEW.netted IS DISTINCT FROM OLD.netted OR NEW.sent IS DISTINCT FROM OLD.sent
		OR NEW.created_at IS DISTINCT FROM OLD.created_at OR NEW.sandbox IS DISTINCT FROM OLD.sandbox
		OR NOT ((OLD.status = 'requested' AND NEW.status IN ('requested', 'sent', 'returned'))
			OR (OLD.status = 'sent' AND NEW.status = 'returned')) THEN
		RAISE EXCEPTION 'a payout changes only along its lifecycle';
	END IF;
	RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER payouts_lifecycle BEFORE UPDATE OR DELETE ON payouts
	FOR EACH ROW EXECUTE FUNCTION payouts_lifecycle();

-- A supplier's designated account, flagged by a returned payout: nothing more is sent until an
-- admin clears it. One open flag per supplier; cleared flags are kept.
CREATE TABLE payout_account_flags (
	payout_id   TEXT PRIMARY KEY,
	supplier_id TEXT NOT NULL,
	reason      TEXT NOT NULL,
	flagged_at  BIGINT NOT NULL,
	cleared_at  BIGINT,
	cleared_by  TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX payout_account_flags_open ON payout_account_flags (supplier_id) WHERE cleared_at IS NULL;
CREATE INDEX payout_account_flags_supplier ON payout_account_flags (supplier_id, flagged_at);

-- The sandbox payout rail (only with the sandbox on): which suppliers' payouts it returns, shared
-- by every process, and the answer it gave each payout, so the same reference gets the same
-- answer across restarts.
CREATE TABLE sandbox_payout_settings (
	supplier_id    TEXT PRIMARY KEY,
	return_payouts INTEGER NOT NULL CHECK (return_payouts IN (0, 1)),
	updated_at     BIGINT NOT NULL
);
CREATE TABLE sandbox_payout_answers (
	reference      TEXT PRIMARY KEY,
	supplier_id    TEXT NOT NULL,
	amount         BIGINT NOT NULL CHECK (amount > 0),
	currency       TEXT NOT NULL,
	outcome        TEXT NOT NULL CHECK (outcome IN ('sent', 'returned')),
	bank_reference TEXT NOT NULL,
	value_date     BIGINT NOT NULL,
	reason         TEXT NOT NULL,
	answered_at    BIGINT NOT NULL
);

-- +goose Down
-- Only a database whose payouts are all sent or netted goes back: the old CHECK refuses others.
DROP TABLE sandbox_payout_answers;
DROP TABLE sandbox_payout_settings;
DROP TABLE payout_account_flags;
DROP TRIGGER payouts_lifecycle ON payouts;
DROP FUNCTION payouts_lifecycle();
DROP INDEX payouts_due;
DROP INDEX payouts_status;
ALTER TABLE payouts DROP COLUMN recorded_at;
ALTER TABLE payouts DROP COLUMN attention;
ALTER TABLE payouts DROP COLUMN last_error;
ALTER TABLE payouts DROP COLUMN lease_until;
ALTER TABLE payouts DROP COLUMN lease_owner;
ALTER TABLE payouts DROP COLUMN next_attempt_at;
ALTER TABLE payouts DROP COLUMN attempts;
ALTER TABLE payouts DROP COLUMN sandbox;
ALTER TABLE payouts DROP CONSTRAINT payouts_netted_sends_nothing;
ALTER TABLE payouts DROP CONSTRAINT payouts_status_check;
ALTER TABLE payouts ADD CONSTRAINT payouts_status_check CHECK (status IN ('sent', 'netted'));
-- +goose StatementBegin
CREATE FUNCTION payouts_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'payouts are immutable';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER payouts_immutable BEFORE UPDATE OR DELETE ON payouts
	FOR EACH ROW EXECUTE FUNCTION payouts_immutable();
