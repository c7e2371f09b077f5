// Package csvimport reads and validates the CSV files that move existing
// customers' licenses into a tenant.
//
// A file has a header row naming the columns email, license_key, status,
// plan and expires_at, in any order. status defaults to active, plan to
// the default plan, and an empty expires_at means the license never
// expires.
package csvimport

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rescuepc/licensing/internal/license"
)

// Columns lists the header names a file must contain.
var Columns = []string{"email", "license_key", "status", "plan", "expires_at"}

// Row is one validated license from a file.
type Row struct {
	Line      int
	Email     string
	Key       string
	Status    license.Status
	Plan      string
	ExpiresAt *time.Time
}

// Problem is one reason a file cannot be imported.
type Problem struct {
	Line   int
	Reason string
}

// InvalidFileError lists every problem found in a file.
type InvalidFileError struct {
	Problems []Problem
}

func (e *InvalidFileError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d problem(s) found; nothing was imported:", len(e.Problems))
	for _, p := range e.Problems {
		if p.Line > 0 {
			fmt.Fprintf(&b, "\n  line %d: %s", p.Line, p.Reason)
		} else {
			fmt.Fprintf(&b, "\n  %s", p.Reason)
		}
	}
	return b.String()
}

// Parse reads a whole file. It returns the rows, or an *InvalidFileError
// naming each bad line, so that callers import all rows or none.
func Parse(r io.Reader) ([]Row, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	// Spreadsheet programs often start UTF-8 files with a byte order mark.
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))

	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, &InvalidFileError{Problems: []Problem{{Reason: "file is empty; the first line must be the header " + strings.Join(Columns, ",")}}}
	}
	if err != nil {
		return nil, &InvalidFileError{Problems: []Problem{{Line: 1, Reason: err.Error()}}}
	}
	index, problem := columnIndex(header)
	if problem != "" {
		return nil, &InvalidFileError{Problems: []Problem{{Line: 1, Reason: problem}}}
	}
	return parseRows(cr, index)
}

func parseRows(cr *csv.Reader, index map[string]int) ([]Row, error) {
	var (
		rows     []Row
		problems []Problem
		seen     = map[string]int{}
	)
	for {
		record, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			problems = append(problems, Problem{Line: line, Reason: err.Error()})
			continue
		}
		if len(record) == 1 && strings.TrimSpace(record[0]) == "" {
			continue
		}
		row, reason := parseRow(record, index)
		if reason == "" {
			if first, dup := seen[row.Key]; dup {
				reason = fmt.Sprintf("license_key repeats the key on line %d", first)
			}
		}
		if reason != "" {
			problems = append(problems, Problem{Line: line, Reason: reason})
			continue
		}
		row.Line = line
		seen[row.Key] = line
		rows = append(rows, row)
	}
	if len(problems) > 0 {
		return nil, &InvalidFileError{Problems: problems}
	}
	return rows, nil
}

func columnIndex(header []string) (map[string]int, string) {
	index := map[string]int{}
	for i, name := range header {
		index[strings.ToLower(strings.TrimSpace(name))] = i
	}
	var missing []string
	for _, c := range Columns {
		if _, ok := index[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Sprintf("header lacks column(s) %s; the header must name %s",
			strings.Join(missing, ", "), strings.Join(Columns, ","))
	}
	return index, ""
}

// parseRow validates one record and returns the row, or the reason it is
// invalid.
func parseRow(record []string, index map[string]int) (Row, string) {
	field := func(name string) string {
		if i := index[name]; i < len(record) {
			return strings.TrimSpace(record[i])
		}
		return ""
	}
	row := Row{Email: license.NormalizeEmail(field("email")), Key: license.NormalizeKey(field("license_key")), Plan: field("plan")}
	if err := license.ValidateEmail(row.Email); err != nil {
		return row, "email " + err.Error()
	}
	if row.Key == "" {
		return row, "license_key is required"
	}
	if utf8.RuneCountInString(row.Key) > license.MaxKeyLength {
		return row, fmt.Sprintf("license_key must be at most %d characters", license.MaxKeyLength)
	}
	row.Status = license.StatusActive
	if s := field("status"); s != "" {
		st, err := license.ParseStatus(s)
		if err != nil {
			return row, err.Error()
		}
		row.Status = st
	}
	if row.Plan == "" {
		row.Plan = license.DefaultPlan
	}
	if s := field("expires_at"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return row, fmt.Sprintf("expires_at %q is invalid: use RFC 3339, such as 2027-01-31T00:00:00Z, or leave it empty for no expiry", s)
		}
		row.ExpiresAt = &t
	}
	return row, ""
}
