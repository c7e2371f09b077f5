package postgres

import (
	"context"
	"fmt"
)

// AppRole is the role whose members the server's queries must run as. The
// first migration creates it and grants it the rights the server needs.
const AppRole = "licensing_app"

// CheckRowSecurity returns an error unless the connected role is subject to
// row-level security on the licenses table: not a superuser, without
// BYPASSRLS, and not the table's owner.
func (db *DB) CheckRowSecurity(ctx context.Context) error {
	const q = `
SELECT current_user, r.rolsuper, r.rolbypassrls,
       pg_has_role(current_user, c.relowner, 'USAGE'),
       pg_has_role(current_user, $1, 'USAGE')
FROM pg_roles r, pg_class c
WHERE r.rolname = current_user AND c.oid = 'public.licenses'::regclass`
	var (
		user                              string
		super, bypass, owner, memberOfApp bool
	)
	err := db.pool.QueryRow(ctx, q, AppRole).Scan(&user, &super, &bypass, &owner, &memberOfApp)
	if err != nil {
		return fmt.Errorf("check row-level security (has 'licensing migrate up' run?): %w", err)
	}

	const fix = "set DATABASE_URL to a login role that is a member of %s, " +
		"such as one created with: CREATE ROLE licensing LOGIN PASSWORD '...' IN ROLE %s"
	switch {
	case super:
		return fmt.Errorf("database role %q is a superuser, so row-level security would not apply: "+fix, user, AppRole, AppRole)
	case bypass:
		return fmt.Errorf("database role %q has BYPASSRLS, so row-level security would not apply: "+fix, user, AppRole, AppRole)
	case owner:
		return fmt.Errorf("database role %q owns the tables, so row-level security would not be enforced: "+fix, user, AppRole, AppRole)
	case !memberOfApp:
		return fmt.Errorf("database role %q is not a member of %s and lacks the server's table rights: "+fix, user, AppRole, AppRole, AppRole)
	}
	return nil
}
