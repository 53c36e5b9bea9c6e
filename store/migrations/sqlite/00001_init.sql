-- The schema of the escrow store on SQLite. It mirrors migrations/postgres version for version.
-- Documents are JSON kept as TEXT (returned byte for byte), times are INTEGER unix microseconds
-- UTC, money is INTEGER minor units. STRICT tables refuse a value of the wrong type, which also
-- turns an integer overflow of a balance (SQLite makes it a REAL) into an error.

-- +goose Up
CREATE TABLE orgs (
	id         TEXT PRIMARY KEY,
	kind       TEXT NOT NULL,
	doc        TEXT NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX orgs_kind ON orgs (kind, id);

CREATE TABLE org_history (
	id     INTEGER PRIMARY KEY AUTOINCREMENT,
	org_id TEXT NOT NULL,
	at     INTEGER NOT NULL,
	actor  TEXT NOT NULL,
	field  TEXT NOT NULL,
	change TEXT NOT NULL
) STRICT;
CREATE INDEX org_history_org ON org_history (org_id, id);

CREATE TABLE orders (
	id           TEXT PRIMARY KEY,
	buyer_id     TEXT NOT NULL,
	supplier_id  TEXT NOT NULL,
	inspector_id TEXT,
	state        TEXT NOT NULL,
	version      INTEGER NOT NULL,
	placed_at    INTEGER NOT NULL,
	updated_at   INTEGER NOT NULL,
	doc          TEXT NOT NULL
) STRICT;
CREATE INDEX orders_buyer ON orders (buyer_id, id);
CREATE INDEX orders_supplier ON orders (supplier_id, id);
CREATE INDEX orders_inspector ON orders (inspector_id, id);
CREATE INDEX orders_state ON orders (state, id);

CREATE TABLE payment_refs (
	reference  TEXT PRIMARY KEY,
	order_id   TEXT NOT NULL,
	payment_id TEXT NOT NULL
) STRICT;

CREATE TABLE ledger_accounts (
	id       TEXT PRIMARY KEY,
	kind     TEXT NOT NULL,
	owner    TEXT NOT NULL,
	currency TEXT NOT NULL
) STRICT;

-- seq and global_seq are plain INTEGER PRIMARY KEY, not AUTOINCREMENT: rows are never deleted, so
-- SQLite's max+1 rowid is already increasing, and AUTOINCREMENT costs a second write per insert.
CREATE TABLE ledger_transfers (
	seq      INTEGER PRIMARY KEY,
	id       TEXT NOT NULL UNIQUE,
	code     TEXT NOT NULL,
	currency TEXT NOT NULL,
	order_id TEXT NOT NULL,
	memo     TEXT NOT NULL,
	at       INTEGER NOT NULL
) STRICT;
CREATE INDEX ledger_transfers_order ON ledger_transfers (order_id, seq);

CREATE TABLE ledger_entries (
	transfer_seq INTEGER NOT NULL,
	n            INTEGER NOT NULL,
	account_id   TEXT NOT NULL,
	amount       INTEGER NOT NULL,
	PRIMARY KEY (transfer_seq, n)
) STRICT;
CREATE INDEX ledger_entries_account ON ledger_entries (account_id, transfer_seq);

-- The balance table: signed balances (debits − credits). math.MinInt64 is refused as money's
-- arithmetic refuses it, so a negative overflow is an error too.
CREATE TABLE ledger_balances (
	account_id TEXT PRIMARY KEY,
	balance    INTEGER NOT NULL CHECK (balance >= -9223372036854775807)
) STRICT;

CREATE TABLE events (
	global_seq INTEGER PRIMARY KEY,
	stream     TEXT NOT NULL,
	seq        INTEGER NOT NULL,
	type       TEXT NOT NULL,
	actor      TEXT NOT NULL,
	at         INTEGER NOT NULL,
	payload    TEXT NOT NULL,
	prev_hash  TEXT NOT NULL,
	hash       TEXT NOT NULL,
	UNIQUE (stream, seq)
) STRICT;

CREATE TABLE messages (
	id       TEXT PRIMARY KEY,
	order_id TEXT NOT NULL,
	at       INTEGER NOT NULL,
	doc      TEXT NOT NULL
) STRICT;
CREATE INDEX messages_order ON messages (order_id, at, id);

CREATE TABLE timers (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	key         TEXT NOT NULL,
	kind        TEXT NOT NULL,
	order_id    TEXT NOT NULL,
	ref         TEXT NOT NULL,
	due_at      INTEGER NOT NULL,
	state       TEXT NOT NULL CHECK (state IN ('pending', 'claimed', 'fired', 'replaced', 'dead')),
	owner       TEXT NOT NULL,
	lease_until INTEGER,
	attempts    INTEGER NOT NULL,
	outcome     TEXT NOT NULL,
	fired_at    INTEGER
) STRICT;
-- One live timer per key: PutTimer replaces the old one before it inserts.
CREATE UNIQUE INDEX timers_live_key ON timers (key) WHERE state IN ('pending', 'claimed');
CREATE INDEX timers_due ON timers (state, due_at);
CREATE INDEX timers_order ON timers (order_id, id);

CREATE TABLE commands (
	scope        TEXT NOT NULL,
	key          TEXT NOT NULL,
	request_hash TEXT NOT NULL,
	result       TEXT NOT NULL,
	at           INTEGER NOT NULL,
	PRIMARY KEY (scope, key)
) STRICT;

CREATE TABLE suspense (
	id          TEXT PRIMARY KEY,
	method      TEXT NOT NULL,
	currency    TEXT NOT NULL,
	amount      INTEGER NOT NULL,
	reference   TEXT NOT NULL,
	received_at INTEGER NOT NULL,
	state       TEXT NOT NULL,
	doc         TEXT NOT NULL
) STRICT;
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
