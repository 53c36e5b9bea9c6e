-- Uploads on PostgreSQL. It mirrors migrations/sqlite version for version. An upload records
-- that an organization put a file into the blob store (POST /v1/files, or a portal form), so
-- that attachment resolution lets an organization attach only files it uploaded or ones the
-- order already refers to: knowing a file's hash is not enough. One row per organization and
-- file, the first name and time kept; never updated or deleted. Times are BIGINT unix
-- microseconds UTC, sizes BIGINT bytes.

-- +goose Up
CREATE TABLE uploads (
	org_id      TEXT NOT NULL,
	ref         TEXT NOT NULL CHECK (length(ref) = 71 AND substr(ref, 1, 7) = 'sha256:'),
	name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
	media_type  TEXT NOT NULL CHECK (media_type <> ''),
	size        BIGINT NOT NULL CHECK (size > 0),
	uploaded_at BIGINT NOT NULL,
	PRIMARY KEY (org_id, ref)
);

-- +goose StatementBegin
CREATE FUNCTION uploads_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'uploads are immutable';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER uploads_no_change BEFORE UPDATE OR DELETE ON uploads
	FOR EACH ROW EXECUTE FUNCTION uploads_immutable();

-- +goose Down
DROP TABLE uploads;
DROP FUNCTION uploads_immutable();
