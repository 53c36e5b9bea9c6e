-- Notifications for people, on PostgreSQL. It mirrors migrations/sqlite version for version. The
-- notifier tails the events with a durable cursor (notification_cursor, one row), and in the
-- same transaction writes one notification per user told (unique per user and source, so an
-- event or a reminder never notifies twice), an email outbox row per notification when email
-- is configured, and "deadline near" reminders. Times are BIGINT unix microseconds UTC; a NULL
-- means "not yet".

-- +goose Up
CREATE TABLE notification_cursor (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	global_seq BIGINT NOT NULL
);
-- Start after the events that exist: upgrading an installation does not notify its history.
INSERT INTO notification_cursor (id, global_seq) SELECT 1, COALESCE(MAX(global_seq), 0) FROM events;

CREATE TABLE notifications (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id    TEXT NOT NULL,
	org_id     TEXT NOT NULL,
	order_id   TEXT NOT NULL,
	kind       TEXT NOT NULL,
	title      TEXT NOT NULL,
	body       TEXT NOT NULL,
	link       TEXT NOT NULL,
	dedupe     TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	read_at    BIGINT,
	UNIQUE (user_id, dedupe)
);
-- A person's inbox, newest first, and their unread count.
CREATE INDEX notifications_user ON notifications (user_id, id);
CREATE INDEX notifications_unread ON notifications (user_id, id) WHERE read_at IS NULL;
-- An organization's notifications through the API.
CREATE INDEX notifications_org ON notifications (org_id, id);

CREATE TABLE notification_emails (
	notification_id BIGINT PRIMARY KEY,
	to_addr         TEXT NOT NULL,
	to_name         TEXT NOT NULL,
	state           TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'dead')),
	attempts        BIGINT NOT NULL,
	next_attempt_at BIGINT NOT NULL,
	lease_owner     TEXT NOT NULL,
	lease_until     BIGINT,
	last_error      TEXT NOT NULL,
	created_at      BIGINT NOT NULL,
	sent_at         BIGINT
);
-- The sender's scan for due emails.
CREATE INDEX notification_emails_due ON notification_emails (next_attempt_at, notification_id) WHERE state = 'pending';

CREATE TABLE notification_reminders (
	key      TEXT PRIMARY KEY,
	kind     TEXT NOT NULL,
	order_id TEXT NOT NULL,
	ref      TEXT NOT NULL,
	due_at   BIGINT NOT NULL,
	state    TEXT NOT NULL CHECK (state IN ('pending', 'done')),
	outcome  TEXT NOT NULL,
	done_at  BIGINT
);
CREATE INDEX notification_reminders_due ON notification_reminders (due_at, key) WHERE state = 'pending';

-- +goose Down
DROP TABLE notification_reminders;
DROP TABLE notification_emails;
DROP TABLE notifications;
DROP TABLE notification_cursor;
