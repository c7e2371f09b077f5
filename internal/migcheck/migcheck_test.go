package migcheck

import (
	"os"
	"strings"
	"testing"

	"github.com/rescuepc/licensing/migrations"
)

func TestRepositoryMigrationsPass(t *testing.T) {
	findings, err := CheckFS(migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range findings {
		t.Errorf("%s (see docs/migrations.md for the expand/contract rule and the override comment)", f)
	}
}

func TestGoodFilePasses(t *testing.T) {
	src := mustRead(t, "testdata/00010_good_expand.sql")
	for _, f := range NewChecker().Check("00010_good_expand.sql", src) {
		t.Errorf("unexpected finding: %s", f)
	}
}

func TestBadFileFlagged(t *testing.T) {
	src := mustRead(t, "testdata/00011_bad_contract.sql")
	var got []string
	for _, f := range NewChecker().Check("00011_bad_contract.sql", src) {
		got = append(got, f.String()[:strings.Index(f.String(), ": ")+2+len(f.Rule)])
	}
	want := []string{
		"00011_bad_contract.sql:22: override",
		"00011_bad_contract.sql:23: override",
		"00011_bad_contract.sql:2: drop-table",
		"00011_bad_contract.sql:3: drop-column",
		"00011_bad_contract.sql:4: drop-column",
		"00011_bad_contract.sql:5: rename",
		"00011_bad_contract.sql:6: rename",
		"00011_bad_contract.sql:7: alter-type",
		"00011_bad_contract.sql:8: alter-type",
		"00011_bad_contract.sql:9: set-not-null",
		"00011_bad_contract.sql:10: create-index",
		"00011_bad_contract.sql:11: concurrently-in-transaction",
		"00011_bad_contract.sql:12: add-column-not-null",
		"00011_bad_contract.sql:14: set-not-null",
		"00011_bad_contract.sql:15: drop-column",
		"00011_bad_contract.sql:16: add-constraint",
		"00011_bad_contract.sql:17: add-constraint",
		"00011_bad_contract.sql:18: lock",
		"00011_bad_contract.sql:19: lock",
		"00011_bad_contract.sql:20: lock",
		"00011_bad_contract.sql:21: lock",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestOverrideAllowsOnlyItsRule(t *testing.T) {
	src := "-- +goose Up\n-- migcheck:allow drop-column: contract step\nALTER TABLE licenses DROP COLUMN a;\nDROP TABLE customers;\n"
	findings := NewChecker().Check("x.sql", src)
	if len(findings) != 1 || findings[0].Rule != RuleDropTable || findings[0].Line != 4 {
		t.Errorf("findings = %v, want only drop-table on line 4", findings)
	}
}

func TestValidatedCheckCarriesAcrossFiles(t *testing.T) {
	c := NewChecker()
	first := "-- +goose Up\nALTER TABLE licenses ADD CONSTRAINT seats_nn CHECK (seats IS NOT NULL) NOT VALID;\n"
	second := "-- +goose Up\nALTER TABLE licenses VALIDATE CONSTRAINT seats_nn;\n"
	third := "-- +goose Up\nALTER TABLE licenses ALTER COLUMN seats SET NOT NULL;\n"
	for i, src := range []string{first, second, third} {
		if findings := c.Check("f.sql", src); len(findings) != 0 {
			t.Errorf("file %d: findings %v, want none", i+1, findings)
		}
	}
	if findings := NewChecker().Check("f.sql", third); len(findings) != 1 {
		t.Errorf("SET NOT NULL without a check: findings %v, want one", findings)
	}
}

func TestSplitStatements(t *testing.T) {
	src := "SELECT 'a;b';\n/* x; */ DO $$ BEGIN PERFORM 1; END $$;\n-- c; d\nSELECT \"e;f\"\n-- end"
	got := splitStatements(src)
	want := []statement{{1, "SELECT ''"}, {2, "DO $$ BEGIN PERFORM 1; END $$"}, {4, `SELECT "e;f"`}}
	if len(got) != len(want) {
		t.Fatalf("statements = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("statement %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
