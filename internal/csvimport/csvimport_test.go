package csvimport

import (
	"errors"
	"strings"
	"testing"
)

func TestParseGoodFile(t *testing.T) {
	in := "\xef\xbb\xbfemail,license_key,status,plan,expires_at\n" +
		" Ann@Example.com , OLD-KEY-1 ,active,pro,2030-01-01T00:00:00Z\n" +
		"bob@example.com,OLD-KEY-2,,,\n" +
		"\n" +
		"cy@example.com,OLD-KEY-3,Suspended,basic,\n"
	rows, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("got %d rows, want 3", len(rows))
	}
	if rows[0].Email != "ann@example.com" || rows[0].Key != "OLD-KEY-1" || rows[0].ExpiresAt == nil {
		t.Errorf("row 1 = %+v", rows[0])
	}
	if rows[1].Status != "active" || rows[1].Plan != "standard" || rows[1].ExpiresAt != nil {
		t.Errorf("row 2 defaults = %+v", rows[1])
	}
	if rows[2].Status != "suspended" || rows[2].Line != 5 {
		t.Errorf("row 3 = %+v, want suspended on line 5", rows[2])
	}
}

func TestParseNamesEveryBadLine(t *testing.T) {
	in := "email,license_key,status,plan,expires_at\n" +
		"ok@example.com,K1,active,pro,\n" +
		"no-at-sign,K2,active,pro,\n" +
		"c@example.com,,active,pro,\n" +
		"d@example.com,K4,lost,pro,\n" +
		"e@example.com,K5,active,pro,tomorrow\n" +
		"f@example.com,K1,active,pro,\n"
	_, err := Parse(strings.NewReader(in))
	var invalid *InvalidFileError
	if !errors.As(err, &invalid) {
		t.Fatalf("err = %v, want *InvalidFileError", err)
	}
	want := map[int]string{3: "email", 4: "license_key is required", 5: "status", 6: "expires_at", 7: "line 2"}
	if len(invalid.Problems) != len(want) {
		t.Fatalf("problems = %+v, want %d", invalid.Problems, len(want))
	}
	for _, p := range invalid.Problems {
		if !strings.Contains(p.Reason, want[p.Line]) {
			t.Errorf("line %d: reason %q, want it to mention %q", p.Line, p.Reason, want[p.Line])
		}
	}
}

func TestParseHeaderProblems(t *testing.T) {
	for name, in := range map[string]string{
		"empty":          "",
		"missing column": "email,license_key,status,plan\nx@example.com,K,active,pro\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(in))
			var invalid *InvalidFileError
			if !errors.As(err, &invalid) {
				t.Fatalf("err = %v, want *InvalidFileError", err)
			}
		})
	}
}
