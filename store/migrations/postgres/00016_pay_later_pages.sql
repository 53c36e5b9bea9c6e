-- +goose Up
-- The admin's lists of the Pay Later outboxes page newest first by (requested_at, id): these
-- indexes serve each page without sorting the whole table (GET /v1/credit/bank-debits and
-- /v1/credit/lender-requests). Filtered by loan, bank_debits_loan serves them already.
CREATE INDEX bank_debits_requested ON bank_debits (requested_at, id);
CREATE INDEX lender_requests_requested ON lender_requests (requested_at, id);

-- +goose Down
DROP INDEX lender_requests_requested;
DROP INDEX bank_debits_requested;
