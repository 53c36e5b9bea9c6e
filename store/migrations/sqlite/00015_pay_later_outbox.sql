-- Pay Later's lender outbox, its platform history and the sandbox bank's memory (R11) on
-- SQLite. It mirrors migrations/postgres version for version. Times are INTEGER
-- unix microseconds UTC, money INTEGER minor units of USD (Pay Later is USD only).

-- +goose Up
-- The lender outbox: an application to decide or a disbursement to make, recorded in the
-- command's transaction; the lender worker claims it with a lease, asks the lender outside any
-- transaction with the ID as the idempotency reference, and records the answer (as JSON) in a
-- transaction of its own.
CREATE TABLE lender_requests (
	id                TEXT PRIMARY KEY,
	kind              TEXT NOT NULL CHECK (kind IN ('decision', 'disbursement')),
	buyer_id          TEXT NOT NULL,
	application_id    TEXT NOT NULL,
	loan_id           TEXT NOT NULL,
	amount            INTEGER NOT NULL CHECK (amount >= 0),
	currency          TEXT NOT NULL CHECK (currency = 'USD'),
	payment_reference TEXT NOT NULL,
	status            TEXT NOT NULL CHECK (status IN ('requested', 'recorded', 'attention')),
	attempts          INTEGER NOT NULL CHECK (attempts >= 0),
	next_attempt_at   INTEGER NOT NULL,
	lease_owner       TEXT NOT NULL,
	lease_until       INTEGER,
	last_error        TEXT NOT NULL,
	answer            TEXT NOT NULL,
	requested_at      INTEGER NOT NULL,
	recorded_at       INTEGER,
	CHECK ((kind = 'decision' AND application_id <> '' AND loan_id = '') OR
	       (kind = 'disbursement' AND loan_id <> '' AND application_id = '' AND amount > 0))
) STRICT;
-- One open request per application and per loan: asking twice could pay twice.
CREATE UNIQUE INDEX lender_requests_open ON lender_requests (kind, application_id, loan_id) WHERE status IN ('requested', 'attention');
CREATE INDEX lender_requests_due ON lender_requests (status, next_attempt_at, id);
CREATE INDEX lender_requests_subject ON lender_requests (application_id, loan_id, requested_at);

-- One application being decided per buyer at a time.
CREATE UNIQUE INDEX credit_applications_submitted ON credit_applications (buyer_id) WHERE status = 'submitted';
-- The buyer's record on the platform, which underwriting weighs: its loans by state.
CREATE INDEX loans_buyer ON loans (buyer_id, state);

-- Who answered a debit: the sandbox bank (simulated: no money moves), the bank, or an operator.
ALTER TABLE bank_debits ADD COLUMN sandbox INTEGER NOT NULL DEFAULT 0 CHECK (sandbox IN (0, 1));
ALTER TABLE bank_debits ADD COLUMN recorded_by TEXT NOT NULL DEFAULT '';

-- The sandbox bank (only with the sandbox on): which buyers' debits it refuses, shared by every
-- process, and the answer it gave each reference, so the same reference gets the same answer
-- across restarts.
CREATE TABLE sandbox_bank_settings (
	buyer_id   TEXT PRIMARY KEY,
	fail       INTEGER NOT NULL CHECK (fail IN (0, 1)),
	updated_at INTEGER NOT NULL
) STRICT;
CREATE TABLE sandbox_bank_answers (
	reference   TEXT PRIMARY KEY,
	buyer_id    TEXT NOT NULL,
	loan_id     TEXT NOT NULL,
	kind        TEXT NOT NULL,
	amount      INTEGER NOT NULL,
	currency    TEXT NOT NULL,
	account     TEXT NOT NULL,
	paid        INTEGER NOT NULL CHECK (paid IN (0, 1)),
	answered_at INTEGER NOT NULL
) STRICT;
CREATE INDEX sandbox_bank_answers_at ON sandbox_bank_answers (answered_at, reference);

-- +goose Down
DROP TABLE sandbox_bank_answers;
DROP TABLE sandbox_bank_settings;
ALTER TABLE bank_debits DROP COLUMN recorded_by;
ALTER TABLE bank_debits DROP COLUMN sandbox;
DROP INDEX loans_buyer;
DROP INDEX credit_applications_submitted;
DROP TABLE lender_requests;
