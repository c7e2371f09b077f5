-- +goose NO TRANSACTION
-- +goose Up
-- Expand-only changes that the running release tolerates.
CREATE TABLE stripe_events (
    id          text PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stripe_events_received_idx ON stripe_events (received_at);
ALTER TABLE stripe_events ADD COLUMN payload jsonb NOT NULL, DROP COLUMN received_at;

ALTER TABLE licenses ADD COLUMN last_seen_at timestamptz;
ALTER TABLE licenses ADD COLUMN seats integer NOT NULL DEFAULT 1,
    ADD COLUMN price numeric(10, 2);
ALTER TABLE licenses ALTER COLUMN plan SET DEFAULT 'standard', ALTER COLUMN plan DROP NOT NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS licenses_last_seen_idx ON licenses (last_seen_at);
ALTER TABLE licenses ADD CONSTRAINT licenses_seats_not_null CHECK (seats IS NOT NULL) NOT VALID;
ALTER TABLE licenses VALIDATE CONSTRAINT licenses_seats_not_null;
ALTER TABLE licenses ALTER COLUMN seats SET NOT NULL;
ALTER INDEX licenses_last_seen_idx RENAME TO licenses_seen_idx;
INSERT INTO tenants (id, name) VALUES ('drop-table', 'DROP TABLE licenses; ALTER TABLE x RENAME TO y');

-- migcheck:allow drop-column: the previous release stopped reading customers.stripe_customer_id
ALTER TABLE customers DROP COLUMN stripe_customer_id;

-- +goose Down
DROP INDEX CONCURRENTLY licenses_last_seen_idx;
ALTER TABLE licenses DROP COLUMN last_seen_at;
DROP TABLE stripe_events;
