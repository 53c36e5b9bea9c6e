-- Pay Later (R11) on PostgreSQL. It mirrors migrations/sqlite version for version. Applications,
-- credit lines and loans are JSON documents kept as TEXT, with the columns that are searched,
-- locked or checked beside them. Times are BIGINT unix microseconds UTC, money BIGINT minor
-- units of USD (Pay Later is USD only).

-- +goose Up
CREATE TABLE credit_applications (
	id           TEXT PRIMARY KEY,
	buyer_id     TEXT NOT NULL,
	status       TEXT NOT NULL,
	submitted_at BIGINT NOT NULL,
	doc          TEXT NOT NULL
);
CREATE INDEX credit_applications_buyer ON credit_applications (buyer_id, submitted_at, id);

-- The line's arithmetic is the domain's; the CHECK is a second guard that no write, however it
-- got there, takes a line past its limit (R11: at most US$150,000).
CREATE TABLE credit_lines (
	id          TEXT PRIMARY KEY,
	buyer_id    TEXT NOT NULL,
	status      TEXT NOT NULL CHECK (status IN ('active', 'frozen', 'closed')),
	limit_minor BIGINT NOT NULL CHECK (limit_minor > 0 AND limit_minor <= 15000000),
	used        BIGINT NOT NULL CHECK (used >= 0),
	reserved    BIGINT NOT NULL CHECK (reserved >= 0),
	opened_at   BIGINT NOT NULL,
	doc         TEXT NOT NULL,
	CHECK (used + reserved <= limit_minor)
);
-- One line a buyer can draw on at a time.
CREATE UNIQUE INDEX credit_lines_buyer_open ON credit_lines (buyer_id) WHERE status <> 'closed';

CREATE TABLE loans (
	id         TEXT PRIMARY KEY,
	line_id    TEXT NOT NULL,
	buyer_id   TEXT NOT NULL,
	order_id   TEXT NOT NULL,
	payment_id TEXT NOT NULL,
	state      TEXT NOT NULL,
	version    BIGINT NOT NULL,
	created_at BIGINT NOT NULL,
	doc        TEXT NOT NULL
);
CREATE INDEX loans_line ON loans (line_id, id);
CREATE INDEX loans_order ON loans (order_id, id);
-- A payment is financed by one accepted loan at most; offers not accepted and cancelled loans
-- do not count.
CREATE UNIQUE INDEX loans_payment_accepted ON loans (payment_id) WHERE state NOT IN ('agreement_pending', 'cancelled');

-- +goose Down
DROP TABLE loans;
DROP TABLE credit_lines;
DROP TABLE credit_applications;
