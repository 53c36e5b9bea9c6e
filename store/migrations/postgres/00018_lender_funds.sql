-- +goose Up
-- The Pay Later lender's answer to a disbursement request is not money (docs/pay-later.md,
-- "Disbursement"): a request the lender accepted waits as awaiting_funds until its money is
-- reported on the pay_later rail, and names that money (funds_id) once it disbursed the loan;
-- on a sandbox server the sandbox pays for the lender (sandbox, simulated money).
ALTER TABLE lender_requests DROP CONSTRAINT lender_requests_status_check;
ALTER TABLE lender_requests ADD CONSTRAINT lender_requests_status_check
	CHECK (status IN ('requested', 'awaiting_funds', 'recorded', 'attention'));
ALTER TABLE lender_requests ADD CONSTRAINT lender_requests_awaiting_check CHECK (status <> 'awaiting_funds' OR kind = 'disbursement');
ALTER TABLE lender_requests ADD COLUMN sandbox INTEGER NOT NULL DEFAULT 0 CHECK (sandbox IN (0, 1));
ALTER TABLE lender_requests ADD COLUMN funds_id TEXT NOT NULL DEFAULT '';
-- One open request per application and per loan: asking twice could pay twice.
DROP INDEX lender_requests_open;
CREATE UNIQUE INDEX lender_requests_open ON lender_requests (kind, application_id, loan_id)
	WHERE status IN ('requested', 'awaiting_funds', 'attention');

-- +goose Down
-- A request waiting for the lender's money goes back to the worker, which asks with the same
-- reference.
UPDATE lender_requests SET status = 'requested' WHERE status = 'awaiting_funds';
DROP INDEX lender_requests_open;
CREATE UNIQUE INDEX lender_requests_open ON lender_requests (kind, application_id, loan_id) WHERE status IN ('requested', 'attention');
ALTER TABLE lender_requests DROP COLUMN funds_id;
ALTER TABLE lender_requests DROP COLUMN sandbox;
ALTER TABLE lender_requests DROP CONSTRAINT lender_requests_awaiting_check;
ALTER TABLE lender_requests DROP CONSTRAINT lender_requests_status_check;
ALTER TABLE lender_requests ADD CONSTRAINT lender_requests_status_check CHECK (status IN ('requested', 'recorded', 'attention'));
