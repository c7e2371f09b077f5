-- +goose Up
DROP TABLE customers;
ALTER TABLE licenses DROP COLUMN stripe_customer_id;
ALTER TABLE licenses DROP stripe_subscription_id;
ALTER TABLE licenses RENAME COLUMN plan TO tier;
ALTER TABLE tenants RENAME TO organizations;
ALTER TABLE licenses ALTER COLUMN key_prefix TYPE varchar(16);
ALTER TABLE licenses ALTER expires_at SET DATA TYPE date;
ALTER TABLE licenses ALTER COLUMN expires_at SET NOT NULL;
CREATE INDEX licenses_plan_idx ON licenses (plan);
CREATE UNIQUE INDEX CONCURRENTLY licenses_email_idx ON public.licenses (email);
ALTER TABLE "licenses" ADD COLUMN seats integer NOT NULL;
ALTER TABLE licenses ADD CONSTRAINT licenses_plan_not_null CHECK (plan IS NOT NULL) NOT VALID;
ALTER TABLE licenses ALTER COLUMN plan SET NOT NULL;
ALTER TABLE licenses DROP "plan";
ALTER TABLE licenses ADD CONSTRAINT licenses_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (id);
ALTER TABLE licenses ADD CONSTRAINT licenses_prefix_key UNIQUE (key_prefix);
DROP INDEX licenses_tenant_email_idx;
TRUNCATE stripe_events;
LOCK TABLE licenses IN ACCESS EXCLUSIVE MODE;
VACUUM FULL licenses;
-- migcheck:allow drop-everything: cleanup
-- migcheck:allow rename
-- +goose Down
SELECT 1;
