-- A user who must choose their own password, on PostgreSQL. It mirrors migrations/sqlite
-- version for version. must_change_password is 1 while the user holds a one-time password an
-- admin handed over (access.AddUser, access.ResetPassword) and 0 once they chose their own
-- (access.ChangePassword); the portal lets such a user reach only the password page.

-- +goose Up
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1));

-- +goose Down
ALTER TABLE users DROP COLUMN must_change_password;
