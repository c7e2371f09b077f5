-- +goose Up

-- The server connects as a login role that is a member of licensing_app, so
-- row-level security applies to its queries. The role is cluster-wide and may
-- already exist, created by another database or by a concurrent migration.
-- +goose StatementBegin
DO $$
BEGIN
    CREATE ROLE licensing_app NOLOGIN;
EXCEPTION
    WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;
-- +goose StatementEnd

CREATE TABLE tenants (
    id         varchar(50) PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,49}$'),
    name       text        NOT NULL CHECK (name <> ''),
    created_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO tenants (id, name) VALUES ('default', 'Default tenant');

CREATE TABLE customers (
    id                 uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id          varchar(50) NOT NULL DEFAULT 'default' REFERENCES tenants (id),
    email              text        NOT NULL CHECK (email <> '' AND email = lower(btrim(email))),
    stripe_customer_id text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, email)
);

CREATE TABLE licenses (
    id                         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id                  varchar(50) NOT NULL DEFAULT 'default' REFERENCES tenants (id),
    email                      text        NOT NULL CHECK (email <> '' AND email = lower(btrim(email))),
    key_hash                   bytea       NOT NULL CHECK (octet_length(key_hash) = 32),
    key_prefix                 varchar(8)  NOT NULL,
    status                     text        NOT NULL DEFAULT 'active'
                               CHECK (status IN ('active', 'suspended', 'revoked', 'expired')),
    plan                       text        NOT NULL DEFAULT 'standard' CHECK (plan <> ''),
    expires_at                 timestamptz,
    stripe_customer_id         text,
    stripe_subscription_id     text,
    stripe_checkout_session_id text,
    created_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                 timestamptz NOT NULL DEFAULT now(),
    -- The verification lookup is one probe of this unique index.
    CONSTRAINT licenses_tenant_key_hash_key UNIQUE (tenant_id, key_hash)
);

CREATE INDEX licenses_tenant_email_idx ON licenses (tenant_id, email);

ALTER TABLE customers ENABLE ROW LEVEL SECURITY;
ALTER TABLE customers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customers
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE licenses ENABLE ROW LEVEL SECURITY;
ALTER TABLE licenses FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON licenses
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

GRANT USAGE ON SCHEMA public TO licensing_app;
GRANT SELECT, INSERT, UPDATE ON tenants TO licensing_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON customers, licenses TO licensing_app;

-- +goose Down
DROP TABLE licenses;
DROP TABLE customers;
DROP TABLE tenants;
