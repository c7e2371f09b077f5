// Package migrations embeds the goose SQL migrations so that the licensing
// binary carries its own schema.
package migrations

import "embed"

// FS contains every migration file, named VERSION_description.sql.
//
//go:embed *.sql
var FS embed.FS
