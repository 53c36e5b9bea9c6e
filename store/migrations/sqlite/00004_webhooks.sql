-- Events for organizations and webhooks, on SQLite. It mirrors migrations/postgres version for
-- version. event_audience says which organizations may read an event (written with the event);
-- webhook_deliveries is the outbox: one row per event and endpoint, inserted in the event's
-- transaction, claimed with a lease by the dispatcher, and kept as the delivery log. Times are
-- INTEGER unix microseconds UTC; a NULL means "not yet".

-- +goose Up
CREATE TABLE event_audience (
	org_id     TEXT NOT NULL,
	global_seq INTEGER NOT NULL,
	PRIMARY KEY (org_id, global_seq)
) STRICT, WITHOUT ROWID;

-- Events written before this version: the platform sees all, an order's buyer and supplier its
-- stream, an organization its own. (WHERE true lets SQLite parse ON CONFLICT after a join.)
INSERT INTO event_audience (org_id, global_seq)
	SELECT 'platform', global_seq FROM events WHERE true ON CONFLICT DO NOTHING;
INSERT INTO event_audience (org_id, global_seq)
	SELECT o.buyer_id, e.global_seq FROM events e JOIN orders o ON o.id = e.stream WHERE true ON CONFLICT DO NOTHING;
INSERT INTO event_audience (org_id, global_seq)
	SELECT o.supplier_id, e.global_seq FROM events e JOIN orders o ON o.id = e.stream WHERE true ON CONFLICT DO NOTHING;
INSERT INTO event_audience (org_id, global_seq)
	SELECT g.id, e.global_seq FROM events e JOIN orgs g ON g.id = e.stream WHERE true ON CONFLICT DO NOTHING;

CREATE TABLE webhook_endpoints (
	id          TEXT PRIMARY KEY,
	org_id      TEXT NOT NULL,
	url         TEXT NOT NULL,
	secret      TEXT NOT NULL,
	description TEXT NOT NULL,
	created_at  INTEGER NOT NULL,
	disabled_at INTEGER
) STRICT;
CREATE INDEX webhook_endpoints_org ON webhook_endpoints (org_id, created_at, id);

CREATE TABLE webhook_deliveries (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	endpoint_id     TEXT NOT NULL,
	org_id          TEXT NOT NULL,
	global_seq      INTEGER NOT NULL,
	stream          TEXT NOT NULL,
	seq             INTEGER NOT NULL,
	state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
	attempts        INTEGER NOT NULL,
	next_attempt_at INTEGER NOT NULL,
	lease_owner     TEXT NOT NULL,
	lease_until     INTEGER,
	last_status     INTEGER NOT NULL,
	last_error      TEXT NOT NULL,
	created_at      INTEGER NOT NULL,
	delivered_at    INTEGER,
	UNIQUE (endpoint_id, stream, seq)
) STRICT;
-- The dispatcher's scan for due deliveries.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id) WHERE state = 'pending';
-- Per-order order: is an earlier delivery of the same endpoint and stream still undelivered?
CREATE INDEX webhook_deliveries_open_lane ON webhook_deliveries (endpoint_id, stream, seq) WHERE state <> 'delivered';
-- The delivery log of an endpoint.
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (endpoint_id, id);

-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
DROP TABLE event_audience;
