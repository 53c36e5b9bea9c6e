-- +goose Up
-- The idempotency-key retention purges command records by age (escrow.KeyRetention).
CREATE INDEX commands_at ON commands (at);

-- +goose Down
DROP INDEX commands_at;
