-- Uploads on SQLite. It mirrors migrations/postgres version for version. An upload records that
-- an organization put a file into the blob store (POST /v1/files, or a portal form), so that
-- attachment resolution lets an organization attach only files it uploaded or ones the order
-- already refers to: knowing a file's hash is not enough. One row per organization and file,
-- the first name and time kept; never updated or deleted. Times are INTEGER unix microseconds
-- UTC, sizes INTEGER bytes.

-- +goose Up
CREATE TABLE uploads (
	org_id      TEXT NOT NULL,
	ref         TEXT NOT NULL CHECK (length(ref) = 71 AND substr(ref, 1, 7) = 'sha256:'),
	name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
	media_type  TEXT NOT NULL CHECK (media_type <> ''),
	size        INTEGER NOT NULL CHECK (size > 0),
	uploaded_at INTEGER NOT NULL,
	PRIMARY KEY (org_id, ref)
) STRICT;

-- +goose StatementBegin
CREATE TRIGGER uploads_no_update BEFORE UPDATE ON uploads
BEGIN
	SELECT RAISE(ABORT, 'uploads are immutable');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER uploads_no_delete BEFORE DELETE ON uploads
BEGIN
	SELECT RAISE(ABORT, 'uploads are immutable');
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE uploads;
