-- +goose NO TRANSACTION
-- +goose Up

-- Indexes that webhooks use to find a license by its Stripe objects. They
-- are built concurrently, outside a transaction, so that writes to licenses
-- go on while a release migrates a large table.
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS licenses_tenant_checkout_session_key
    ON licenses (tenant_id, stripe_checkout_session_id) WHERE stripe_checkout_session_id IS NOT NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS licenses_tenant_subscription_idx
    ON licenses (tenant_id, stripe_subscription_id) WHERE stripe_subscription_id IS NOT NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS licenses_tenant_payment_intent_idx
    ON licenses (tenant_id, stripe_payment_intent_id) WHERE stripe_payment_intent_id IS NOT NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS licenses_tenant_customer_idx
    ON licenses (tenant_id, stripe_customer_id) WHERE stripe_customer_id IS NOT NULL;

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS licenses_tenant_customer_idx;
DROP INDEX CONCURRENTLY IF EXISTS licenses_tenant_payment_intent_idx;
DROP INDEX CONCURRENTLY IF EXISTS licenses_tenant_subscription_idx;
DROP INDEX CONCURRENTLY IF EXISTS licenses_tenant_checkout_session_key;
