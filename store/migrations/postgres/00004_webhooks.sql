-- Events for organizations and webhooks, on PostgreSQL. It mirrors migrations/sqlite version for
-- version. event_audience says which organizations may read an event (written with the event);
-- webhook_deliveries is the outbox: one row per event and endpoint, inserted in the event's
-- transaction, claimed with a lease by the dispatcher, and kept as the delivery log. Times are
-- BIGINT unix microseconds UTC; a NULL means "not yet".

-- +goose Up
CREATE TABLE event_audience (
	org_id     TEXT NOT NULL,
	global_seq BIGINT NOT NULL,
	PRIMARY KEY (org_id, global_seq)
);

-- Events written before this version: the platform sees all, an order's buyer and supplier its
-- stream, an organization its own.
INSERT INTO event_audience (org_id, global_seq)
	SELECT 'platform', global_seq FROM events ON CONFLICT DO NOTHING;
INSERT INTO event_audience (org_id, global_seq)
	SELECT o.buyer_id, e.global_seq FROM events e JOIN orders o ON o.id = e.stream ON CONFLICT DO NOTHING;
INSERT INTO event_audience (org_id, global_seq)
	SELECT o.supplier_id, e.global_seq FROM events e JOIN orders o ON o.id = e.stream ON CONFLICT DO NOTHING;
INSERT INTO event_audience (org_id, global_seq)
	SELECT g.id, e.global_seq FROM events e JOIN orgs g ON g.id = e.stream ON CONFLICT DO NOTHING;

CREATE TABLE webhook_endpoints (
	id          TEXT PRIMARY KEY,
	org_id      TEXT NOT NULL,
	url         TEXT NOT NULL,
	secret      TEXT NOT NULL,
	description TEXT NOT NULL,
	created_at  BIGINT NOT NULL,
	disabled_at BIGINT
);
CREATE INDEX webhook_endpoints_org ON webhook_endpoints (org_id, created_at, id);

CREATE TABLE webhook_deliveries (
	id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	endpoint_id     TEXT NOT NULL,
	org_id          TEXT NOT NULL,
	global_seq      BIGINT NOT NULL,
	stream          TEXT NOT NULL,
	seq             BIGINT NOT NULL,
	state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
	attempts        BIGINT NOT NULL,
	next_attempt_at BIGINT NOT NULL,
	lease_owner     TEXT NOT NULL,
	lease_until     BIGINT,
	last_status     BIGINT NOT NULL,
	last_error      TEXT NOT NULL,
	created_at      BIGINT NOT NULL,
	delivered_at    BIGINT,
	UNIQUE (endpoint_id, stream, seq)
);
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
