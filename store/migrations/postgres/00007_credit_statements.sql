-- Pay Later (R11) monthly statements on PostgreSQL. It mirrors migrations/sqlite version for
-- version. A statement is stored once, when its month closes (00:00 UTC on the 1st of the next
-- month), as a JSON document with the columns that are searched beside it; it is never updated
-- or deleted, and the trigger refuses any attempt. Times are BIGINT unix microseconds UTC, money
-- BIGINT minor units of USD.

-- +goose Up
CREATE TABLE credit_statements (
	line_id         TEXT NOT NULL,
	period          TEXT NOT NULL CHECK (length(period) = 7),
	buyer_id        TEXT NOT NULL,
	closed_at       BIGINT NOT NULL,
	opening_balance BIGINT NOT NULL,
	closing_balance BIGINT NOT NULL,
	doc             TEXT NOT NULL,
	PRIMARY KEY (line_id, period)
);
CREATE INDEX credit_statements_buyer ON credit_statements (buyer_id, period);

-- +goose StatementBegin
CREATE FUNCTION credit_statements_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'credit statements are immutable';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER credit_statements_immutable BEFORE UPDATE OR DELETE ON credit_statements
	FOR EACH ROW EXECUTE FUNCTION credit_statements_immutable();

-- +goose Down
DROP TRIGGER credit_statements_immutable ON credit_statements;
DROP FUNCTION credit_statements_immutable();
DROP TABLE credit_statements;
