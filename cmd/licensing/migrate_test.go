package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/rescuepc/licensing/internal/pgtest"
	"github.com/rescuepc/licensing/migrations"
)

// TestMigrateConcurrentProcesses starts three 'licensing migrate up'
// processes at once on an empty database: each migration must be applied
// exactly once and every process must succeed.
func TestMigrateConcurrentProcesses(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "licensing")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	db := pgtest.NewEmpty(t)

	const procs = 3
	var wg sync.WaitGroup
	outputs := make([]string, procs)
	errs := make([]error, procs)
	for i := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(bin, "migrate", "up")
			cmd.Env = append(os.Environ(), "DATABASE_URL="+db.AdminURL, "MIGRATION_DATABASE_URL=")
			out, err := cmd.CombinedOutput()
			outputs[i], errs[i] = string(out), err
		}()
	}
	wg.Wait()

	applied := 0
	for i := range procs {
		if errs[i] != nil {
			t.Fatalf("process %d: %v\n%s", i, errs[i], outputs[i])
		}
		for _, line := range strings.Split(outputs[i], "\n") {
			var n int
			if _, err := fmt.Sscanf(line, "applied %d migration(s)", &n); err == nil {
				applied += n
			}
		}
	}
	files, err := migrations.FS.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	sqlFiles := 0
	for _, f := range files {
		if strings.HasSuffix(f.Name(), ".sql") {
			sqlFiles++
		}
	}
	if applied != sqlFiles {
		t.Errorf("processes applied %d migrations in total, want %d (each once)", applied, sqlFiles)
	}

	conn, err := pgx.Connect(context.Background(), db.AdminURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var rows, distinct int
	err = conn.QueryRow(context.Background(),
		`SELECT count(*), count(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0`).Scan(&rows, &distinct)
	if err != nil {
		t.Fatal(err)
	}
	if rows != sqlFiles || distinct != sqlFiles {
		t.Errorf("goose_db_version has %d rows for %d versions, want %d of each", rows, distinct, sqlFiles)
	}
}
