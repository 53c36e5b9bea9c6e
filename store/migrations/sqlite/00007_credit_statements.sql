-- Pay Later (R11) monthly statements on SQLite. It mirrors migrations/postgres version for
-- version. A statement is stored once, when its month closes (00:00 UTC on the 1st of the next
-- month), as a JSON document with the columns that are searched beside it; it is never updated
-- or deleted, and the triggers refuse any attempt. Times are INTEGER unix microseconds UTC, money
-- INTEGER minor units of USD.

-- +goose Up
CREATE TABLE credit_statements (
	line_id         TEXT NOT NULL,
	period          TEXT NOT NULL CHECK (length(period) = 7),
	buyer_id        TEXT NOT NULL,
	closed_at       INTEGER NOT NULL,
	opening_balance INTEGER NOT NULL,
	closing_balance INTEGER NOT NULL,
	doc             TEXT NOT NULL,
	PRIMARY KEY (line_id, period)
) STRICT;
CREATE INDEX credit_statements_buyer ON credit_statements (buyer_id, period);

-- +goose StatementBegin
CREATE TRIGGER credit_statements_no_update BEFORE UPDATE ON credit_statements
BEGIN
	SELECT RAISE(ABORT, 'credit statements are immutable');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER credit_statements_no_delete BEFORE DELETE ON credit_statements
BEGIN
	SELECT RAISE(ABORT, 'credit statements are immutable');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER credit_statements_no_delete;
DROP TRIGGER credit_statements_no_update;
DROP TABLE credit_statements;
