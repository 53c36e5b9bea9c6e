-- +goose Up
-- The lender's money is due by the end of the 3rd US business day after the loan agreement (R11,
-- docs/pay-later.md "Disbursement"): a disbursement the lender accepted to pay (awaiting_funds)
-- records when its money is due (funds_due_at) and, once a durable timer found it had not
-- arrived by then, when it was marked overdue (overdue_at). The request stays awaiting_funds:
-- the money arriving later still pays the order.
ALTER TABLE lender_requests ADD COLUMN funds_due_at BIGINT;
ALTER TABLE lender_requests ADD COLUMN overdue_at BIGINT;
-- Requests accepted before this migration get their timer now, due at once: when it fires it
-- reads the deadline from the loan's agreement, marks the request overdue if it has passed and
-- otherwise waits until it does. Their due time until then is when they were requested.
UPDATE lender_requests SET funds_due_at = requested_at WHERE status = 'awaiting_funds';
INSERT INTO timers (key, kind, order_id, ref, due_at, state, owner, lease_until, attempts, outcome, fired_at)
	SELECT loan_id || '/funds_overdue', 'pay_later_funds_overdue', loan_id, id, requested_at, 'pending', '', NULL, 0, '', NULL
	FROM lender_requests WHERE status = 'awaiting_funds';
-- The Operations page lists the requests awaiting the lender's money by when it is due.
CREATE INDEX lender_requests_funds_due ON lender_requests (status, funds_due_at, id);

-- +goose Down
UPDATE timers SET state = 'replaced' WHERE kind = 'pay_later_funds_overdue' AND state IN ('pending', 'claimed');
DROP INDEX lender_requests_funds_due;
ALTER TABLE lender_requests DROP COLUMN overdue_at;
ALTER TABLE lender_requests DROP COLUMN funds_due_at;
