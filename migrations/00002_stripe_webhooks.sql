-- +goose Up

-- Every Stripe event the webhook received, keyed by Stripe's event ID. An
-- event is recorded in the same transaction as its effect, so a redelivery
-- finds its ID and changes nothing. The table is not tenant-owned: events
-- are recorded before their tenant is known, and a failed event may name a
-- tenant that does not exist.
CREATE TABLE stripe_events (
    id           text        PRIMARY KEY CHECK (id <> ''),
    type         text        NOT NULL,
    api_version  text        NOT NULL DEFAULT '',
    created      timestamptz NOT NULL,
    tenant_id    varchar(50),
    status       text        NOT NULL CHECK (status IN ('applied', 'ignored', 'failed')),
    reason       text        NOT NULL DEFAULT '',
    payload      text        NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    processed_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX stripe_events_failed_idx ON stripe_events (received_at) WHERE status = 'failed';

-- Which tenant owns a Stripe subscription or payment intent, for events
-- such as disputes that carry no metadata. Rows are written when a license
-- is linked to the object; Stripe IDs are unique across tenants.
CREATE TABLE stripe_objects (
    id         text        PRIMARY KEY CHECK (id <> ''),
    tenant_id  varchar(50) NOT NULL REFERENCES tenants (id),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- The last state of each subscription seen in an event, so a license that
-- is issued after its subscription's events takes that state.
CREATE TABLE stripe_subscriptions (
    tenant_id     varchar(50) NOT NULL REFERENCES tenants (id),
    id            text        NOT NULL CHECK (id <> ''),
    status        text        NOT NULL CHECK (status IN ('active', 'suspended', 'revoked', 'expired')),
    expires_at    timestamptz,
    event_created timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

-- One row per status change of a license: issued (from_status NULL),
-- changed by a Stripe event (cause is its ID) or by an operator command.
CREATE TABLE license_events (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   varchar(50) NOT NULL REFERENCES tenants (id),
    license_id  uuid        NOT NULL REFERENCES licenses (id),
    from_status text,
    to_status   text        NOT NULL,
    cause       text        NOT NULL CHECK (cause <> ''),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX license_events_license_idx ON license_events (tenant_id, license_id, id);

-- created of the last Stripe event applied to the license; an older event
-- does not change it.
ALTER TABLE licenses ADD COLUMN last_event_created timestamptz;
ALTER TABLE licenses ADD COLUMN stripe_payment_intent_id text;

ALTER TABLE stripe_subscriptions ENABLE ROW LEVEL SECURITY;
ALTER TABLE stripe_subscriptions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON stripe_subscriptions
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE license_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE license_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON license_events
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

GRANT SELECT, INSERT, UPDATE ON stripe_events, stripe_objects TO licensing_app;
GRANT SELECT, INSERT, UPDATE ON stripe_subscriptions TO licensing_app;
GRANT SELECT, INSERT ON license_events TO licensing_app;

-- +goose Down
DROP TABLE license_events;
DROP TABLE stripe_subscriptions;
DROP TABLE stripe_objects;
DROP TABLE stripe_events;
ALTER TABLE licenses DROP COLUMN stripe_payment_intent_id;
ALTER TABLE licenses DROP COLUMN last_event_created;
