-- +goose Up
-- The Pay Later lender's answer to a disbursement request is not money (docs/pay-later.md,
-- "Disbursement"): a request the lender accepted waits as awaiting_funds until its money is
-- reported on the pay_later rail, and names that money (funds_id) once it disbursed the loan;
-- on a sandbox server the sandbox pays for the lender (sandbox, simulated money). SQLite cannot
-- change a CHECK, so the table is rebuilt with its indexes.
CREATE TABLE lender_requests_new (
	id                TEXT PRIMARY KEY,
	kind              TEXT NOT NULL CHECK (kind IN ('decision', 'disbursement')),
	buyer_id          TEXT NOT NULL,
	application_id    TEXT NOT NULL,
	loan_id           TEXT NOT NULL,
	amount            INTEGER NOT NULL CHECK (amount >= 0),
	currency          TEXT NOT NULL CHECK (currency = 'USD'),
	payment_reference TEXT NOT NULL,
	status            TEXT NOT NULL CHECK (status IN ('requested', 'awaiting_funds', 'recorded', 'attention')),
	attempts          INTEGER NOT NULL CHECK (attempts >= 0),
	next_attempt_at   INTEGER NOT NULL,
	lease_owner       TEXT NOT NULL,
	lease_until       INTEGER,
	last_error        TEXT NOT NULL,
	answer            TEXT NOT NULL,
	requested_at      INTEGER NOT NULL,
	recorded_at       INTEGER,
	sandbox           INTEGER NOT NULL DEFAULT 0 CHECK (sandbox IN (0, 1)),
	funds_id          TEXT NOT NULL DEFAULT '',
	CHECK ((kind = 'decision' AND application_id <> '' AND loan_id = '') OR
	       (kind = 'disbursement' AND loan_id <> '' AND application_id = '' AND amount > 0)),
	CHECK (status <> 'awaiting_funds' OR kind = 'disbursement')
) STRICT;
INSERT INTO lender_requests_new (id, kind, buyer_id, application_id, loan_id, amount, currency, payment_reference, status,
	attempts, next_attempt_at, lease_owner, lease_until, last_error, answer, requested_at, recorded_at)
	SELECT id, kind, buyer_id, application_id, loan_id, amount, currency, payment_reference, status,
		attempts, next_attempt_at, lease_owner, lease_until, last_error, answer, requested_at, recorded_at FROM lender_requests;
DROP TABLE lender_requests;
ALTER TABLE lender_requests_new RENAME TO lender_requests;
-- One open request per application and per loan: asking twice could pay twice.
CREATE UNIQUE INDEX lender_requests_open ON lender_requests (kind, application_id, loan_id)
	WHERE status IN ('requested', 'awaiting_funds', 'attention');
CREATE INDEX lender_requests_due ON lender_requests (status, next_attempt_at, id);
CREATE INDEX lender_requests_subject ON lender_requests (application_id, loan_id, requested_at);
CREATE INDEX lender_requests_requested ON lender_requests (requested_at, id);

-- +goose Down
CREATE TABLE lender_requests_old (
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
-- A request waiting for the lender's money goes back to the worker, which asks with the same
-- reference.
INSERT INTO lender_requests_old (id, kind, buyer_id, application_id, loan_id, amount, currency, payment_reference, status,
	attempts, next_attempt_at, lease_owner, lease_until, last_error, answer, requested_at, recorded_at)
	SELECT id, kind, buyer_id, application_id, loan_id, amount, currency, payment_reference,
		CASE status WHEN 'awaiting_funds' THEN 'requested' ELSE status END,
		attempts, next_attempt_at, lease_owner, lease_until, last_error, answer, requested_at, recorded_at FROM lender_requests;
DROP TABLE lender_requests;
ALTER TABLE lender_requests_old RENAME TO lender_requests;
CREATE UNIQUE INDEX lender_requests_open ON lender_requests (kind, application_id, loan_id) WHERE status IN ('requested', 'attention');
CREATE INDEX lender_requests_due ON lender_requests (status, next_attempt_at, id);
CREATE INDEX lender_requests_subject ON lender_requests (application_id, loan_id, requested_at);
CREATE INDEX lender_requests_requested ON lender_requests (requested_at, id);
