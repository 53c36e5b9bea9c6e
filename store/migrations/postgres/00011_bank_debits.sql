-- The Pay Later debit outbox (R11) on PostgreSQL. It mirrors migrations/sqlite version for
-- version. A due date, a retry or an early payoff records a debit request here, in the
-- command's transaction; the bank worker claims it with a lease, asks the bank outside any
-- transaction and records the answer. The ID is the reference the bank sees. Times are BIGINT
-- unix microseconds UTC, money BIGINT minor units of USD (Pay Later is USD only).

-- +goose Up
CREATE TABLE bank_debits (
	id              TEXT PRIMARY KEY,
	loan_id         TEXT NOT NULL,
	buyer_id        TEXT NOT NULL,
	kind            TEXT NOT NULL CHECK (kind IN ('installment', 'retry', 'payoff')),
	amount          BIGINT NOT NULL CHECK (amount > 0),
	currency        TEXT NOT NULL CHECK (currency = 'USD'),
	account_last4   TEXT NOT NULL,
	loan_version    BIGINT NOT NULL,
	status          TEXT NOT NULL CHECK (status IN ('requested', 'succeeded', 'refused', 'attention', 'unapplied')),
	attempts        BIGINT NOT NULL CHECK (attempts >= 0),
	next_attempt_at BIGINT NOT NULL,
	lease_owner     TEXT NOT NULL,
	lease_until     BIGINT,
	last_error      TEXT NOT NULL,
	requested_at    BIGINT NOT NULL,
	recorded_at     BIGINT
);
-- One open debit per loan: two debits at once could take the same installment twice.
CREATE UNIQUE INDEX bank_debits_loan_open ON bank_debits (loan_id) WHERE status IN ('requested', 'attention');
CREATE INDEX bank_debits_loan ON bank_debits (loan_id, requested_at, id);
-- The worker's claim: requested debits by their next attempt.
CREATE INDEX bank_debits_due ON bank_debits (status, next_attempt_at, id);

-- +goose Down
DROP TABLE bank_debits;
