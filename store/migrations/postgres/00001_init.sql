-- The schema of the escrow store on PostgreSQL. It mirrors migrations/sqlite version for version.
-- Documents are JSON kept as TEXT, not jsonb: event payloads are hashed, so they must come back
-- byte for byte. Times are BIGINT unix microseconds UTC, money is BIGINT minor units; bigint
-- arithmetic raises 22003 on overflow, which the store reports as a balance overflow.

-- +goose Up
CREATE TABLE orgs (
	id         TEXT PRIMARY KEY,
	kind       TEXT NOT NULL,
	doc        TEXT NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE INDEX orgs_kind ON orgs (kind, id);

CREATE TABLE org_history (
	id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	org_id TEXT NOT NULL,
	at     BIGINT NOT NULL,
	actor  TEXT NOT NULL,
	field  TEXT NOT NULL,
	change TEXT NOT NULL
);
CREATE INDEX org_history_org ON org_history (org_id, id);

CREATE TABLE orders (
	id           TEXT PRIMARY KEY,
	buyer_id     TEXT NOT NULL,
	supplier_id  TEXT NOT NULL,
	inspector_id TEXT,
	state        TEXT NOT NULL,
	version      BIGINT NOT NULL,
	placed_at    BIGINT NOT NULL,
	updated_at   BIGINT NOT NULL,
	doc          TEXT NOT NULL
);
CREATE INDEX orders_buyer ON orders (buyer_id, id);
CREATE INDEX orders_supplier ON orders (supplier_id, id);
CREATE INDEX orders_inspector ON orders (inspector_id, id);
CREATE INDEX orders_state ON orders (state, id);

CREATE TABLE payment_refs (
	reference  TEXT PRIMARY KEY,
	order_id   TEXT NOT NULL,
	payment_id TEXT NOT NULL
);

CREATE TABLE ledger_accounts (
	id       TEXT PRIMARY KEY,
	kind     TEXT NOT NULL,
	owner    TEXT NOT NULL,
	currency TEXT NOT NULL
);

CREATE TABLE ledger_transfers (
	seq      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id       TEXT NOT NULL UNIQUE,
	code     TEXT NOT NULL,
	currency TEXT NOT NULL,
	order_id TEXT NOT NULL,
	memo     TEXT NOT NULL,
	at       BIGINT NOT NULL
);
CREATE INDEX ledger_transfers_order ON ledger_transfers (order_id, seq);

CREATE TABLE ledger_entries (
	transfer_seq BIGINT NOT NULL,
	n            BIGINT NOT NULL,
	account_id   TEXT NOT NULL,
	amount       BIGINT NOT NULL,
	PRIMARY KEY (transfer_seq, n)
);
CREATE INDEX ledger_entries_account ON ledger_entries (account_id, transfer_seq);

-- The balance table: signed balances (debits − credits). math.MinInt64 is refused as money's
-- arithmetic refuses it, so a negative overflow is an error too.
CREATE TABLE ledger_balances (
	account_id TEXT PRIMARY KEY,
	balance    BIGINT NOT NULL CHECK (balance >= -9223372036854775807)
) WITH (fillfactor = 80); -- room for HOT updates: every posting rewrites its balance rows

CREATE TABLE events (
	global_seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	stream     TEXT NOT NULL,
	seq        BIGINT NOT NULL,
	type       TEXT NOT NULL,
	actor      TEXT NOT NULL,
	at         BIGINT NOT NULL,
	payload    TEXT NOT NULL,
	prev_hash  TEXT NOT NULL,
	hash       TEXT NOT NULL,
	UNIQUE (stream, seq)
);

CREATE TABLE messages (
	id       TEXT PRIMARY KEY,
	order_id TEXT NOT NULL,
	at       BIGINT NOT NULL,
	doc      TEXT NOT NULL
);
CREATE INDEX messages_order ON messages (order_id, at, id);

CREATE TABLE timers (
	id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	key         TEXT NOT NULL,
	kind        TEXT NOT NULL,
	order_id    TEXT NOT NULL,
	ref         TEXT NOT NULL,
	due_at      BIGINT NOT NULL,
	state       TEXT NOT NULL CHECK (state IN ('pending', 'claimed', 'fired', 'replaced', 'dead')),
	owner       TEXT NOT NULL,
	lease_until BIGINT,
	attempts    BIGINT NOT NULL,
	outcome     TEXT NOT NULL,
	fired_at    BIGINT
);
-- One live timer per key: PutTimer replaces the old one before it inserts.
CREATE UNIQUE INDEX timers_live_key ON timers (key) WHERE state IN ('pending', 'claimed');
CREATE INDEX timers_due ON timers (state, due_at);
CREATE INDEX timers_order ON timers (order_id, id);

CREATE TABLE commands (
	scope        TEXT NOT NULL,
	key          TEXT NOT NULL,
	request_hash TEXT NOT NULL,
	result       TEXT NOT NULL,
	at           BIGINT NOT NULL,
	PRIMARY KEY (scope, key)
);

CREATE TABLE suspense (
	id          TEXT PRIMARY KEY,
	method      TEXT NOT NULL,
	currency    TEXT NOT NULL,
	amount      BIGINT NOT NULL,
	reference   TEXT NOT NULL,
	received_at BIGINT NOT NULL,
	state       TEXT NOT NULL,
	doc         TEXT NOT NULL
);
CREATE INDEX suspense_state ON suspense (state, received_at, id);

-- +goose Down
DROP TABLE suspense;
DROP TABLE commands;
DROP TABLE timers;
DROP TABLE messages;
DROP TABLE events;
DROP TABLE ledger_balances;
DROP TABLE ledger_entries;
DROP TABLE ledger_transfers;
DROP TABLE ledger_accounts;
DROP TABLE payment_refs;
DROP TABLE orders;
DROP TABLE org_history;
DROP TABLE orgs;
