package migcheck

import (
	"regexp"
	"strings"
)

// fileCheck holds what one file's statements have shown so far.
type fileCheck struct {
	checker       *Checker
	name          string
	created       map[string]bool // tables this file creates, not yet in use
	noTransaction bool
	findings      []Finding
}

var (
	createTable    = regexp.MustCompile(`^CREATE (?:UNLOGGED |TEMP |TEMPORARY )?TABLE (?:IF NOT EXISTS )?([\w."]+)`)
	alterTable     = regexp.MustCompile(`^ALTER TABLE (?:IF EXISTS )?(?:ONLY )?([\w."]+) (.*)$`)
	createIndex    = regexp.MustCompile(`^CREATE (?:UNIQUE )?INDEX (CONCURRENTLY )?.*?\bON (?:ONLY )?([\w."]+)`)
	renameOther    = regexp.MustCompile(`^ALTER (?:TYPE|VIEW|MATERIALIZED VIEW|SEQUENCE|FUNCTION|SCHEMA) .*\bRENAME\b`)
	dropAction     = regexp.MustCompile(`^DROP "?(\w+)`)
	alterType      = regexp.MustCompile(`^ALTER (?:COLUMN )?[\w"]+ (?:SET DATA )?TYPE\b`)
	setNotNull     = regexp.MustCompile(`^ALTER (?:COLUMN )?([\w"]+) SET NOT NULL$`)
	addConstraint  = regexp.MustCompile(`^ADD CONSTRAINT ([\w"]+) CHECK \( ?([\w"]+) IS NOT NULL ?\)( NOT VALID)?$`)
	validate       = regexp.MustCompile(`^VALIDATE CONSTRAINT ([\w"]+)$`)
	addNonColumn   = regexp.MustCompile(`^ADD (?:CONSTRAINT|PRIMARY|UNIQUE|CHECK|FOREIGN|EXCLUDE)\b`)
	checkOrForeign = regexp.MustCompile(`^ADD (?:CONSTRAINT [\w"]+ )?(?:CHECK|FOREIGN KEY)\b`)
	uniqueOrKey    = regexp.MustCompile(`^ADD (?:CONSTRAINT [\w"]+ )?(?:UNIQUE|PRIMARY KEY)\b`)
	lockStatement  = regexp.MustCompile(`^(?:TRUNCATE|LOCK|VACUUM FULL|VACUUM \(FULL|CLUSTER|REINDEX (?:TABLE|INDEX|SCHEMA|DATABASE) [^C])\b`)
	dropIndex      = regexp.MustCompile(`^DROP INDEX (CONCURRENTLY )?`)
	notDroppedKind = map[string]bool{"CONSTRAINT": true, "DEFAULT": true, "NOT": true, "EXPRESSION": true, "IDENTITY": true}
)

// statement applies every rule to one statement.
func (f *fileCheck) statement(st statement) {
	upper := strings.ToUpper(st.text)
	switch {
	case createTable.MatchString(upper):
		f.created[tableName(createTable.FindStringSubmatch(upper)[1])] = true
	case strings.HasPrefix(upper, "DROP TABLE "):
		f.flag(st, RuleDropTable, "dropping a table breaks the release that still reads it; drop it in a later release")
	case dropIndex.MatchString(upper) && dropIndex.FindStringSubmatch(upper)[1] == "":
		f.flag(st, RuleLock, "DROP INDEX without CONCURRENTLY blocks the table's reads and writes; use DROP INDEX CONCURRENTLY in a NO TRANSACTION migration")
	case lockStatement.MatchString(upper):
		f.flag(st, RuleLock, "this statement takes an exclusive lock on a table in use, or empties it; do it outside a release migration")
	case createIndex.MatchString(upper):
		f.createIndex(st, createIndex.FindStringSubmatch(upper))
	case alterTable.MatchString(upper):
		m := alterTable.FindStringSubmatch(upper)
		table := tableName(m[1])
		if f.created[table] {
			return
		}
		for _, action := range splitActions(m[2]) {
			f.alterAction(st, table, action)
		}
	case renameOther.MatchString(upper):
		f.flag(st, RuleRename, "renaming breaks the release that still uses the old name; add the new object and remove the old one later")
	}
}

func (f *fileCheck) createIndex(st statement, m []string) {
	concurrent, table := m[1] != "", tableName(m[2])
	switch {
	case concurrent && !f.noTransaction:
		f.flag(st, RuleConcurrentInTx, "CREATE INDEX CONCURRENTLY cannot run in a transaction; add '-- +goose NO TRANSACTION' to the file")
	case !concurrent && !f.created[table]:
		f.flag(st, RuleCreateIndex, "CREATE INDEX on the existing table "+table+" blocks its writes while it builds; use CREATE INDEX CONCURRENTLY in a NO TRANSACTION migration")
	}
}

// alterAction applies the ALTER TABLE rules to one action of the
// statement, such as "DROP COLUMN x" or "ALTER COLUMN y SET NOT NULL".
func (f *fileCheck) alterAction(st statement, table, action string) {
	f.constraintAction(st, table, action)
	switch {
	case dropAction.MatchString(action) && !notDroppedKind[dropAction.FindStringSubmatch(action)[1]]:
		f.flag(st, RuleDropColumn, "dropping a column of "+table+" breaks the release that still reads it; drop it in a later release")
	case strings.Contains(" "+action+" ", " RENAME "):
		f.flag(st, RuleRename, "renaming "+table+" or its columns breaks the release that still uses the old name; add the new column and remove the old one later")
	case alterType.MatchString(action):
		f.flag(st, RuleAlterType, "changing a column type of "+table+" rewrites or locks the table and can break the running release; add a new column instead")
	case setNotNull.MatchString(action):
		column := tableName(setNotNull.FindStringSubmatch(action)[1])
		if !f.checker.notNullChecked[table+"."+column] {
			f.flag(st, RuleSetNotNull, "SET NOT NULL on "+table+"."+column+" scans the table under an exclusive lock; first add and validate CHECK ("+strings.ToLower(column)+" IS NOT NULL)")
		}
	case addConstraint.MatchString(action):
		m := addConstraint.FindStringSubmatch(action)
		f.notNullCheck(table, tableName(m[1]), tableName(m[2]), m[3] != "")
	case validate.MatchString(action):
		if col, ok := f.checker.pending[table+"/"+tableName(validate.FindStringSubmatch(action)[1])]; ok {
			f.checker.notNullChecked[col] = true
		}
	case strings.HasPrefix(action, "ADD ") && !addNonColumn.MatchString(action):
		if strings.Contains(action, " NOT NULL") && !strings.Contains(action, " DEFAULT ") {
			f.flag(st, RuleAddColumnNotNull, "a NOT NULL column without a default on "+table+" makes the running release's inserts fail; add a default or make it nullable")
		}
	}
}

// constraintAction flags a constraint that PostgreSQL validates at once,
// scanning the table under a lock that blocks the running release.
func (f *fileCheck) constraintAction(st statement, table, action string) {
	switch {
	case checkOrForeign.MatchString(action) && !strings.Contains(action, " NOT VALID"):
		f.flag(st, RuleAddConstraint, "a CHECK or FOREIGN KEY on "+table+" is validated under a lock; add it NOT VALID and VALIDATE CONSTRAINT in a later statement")
	case uniqueOrKey.MatchString(action) && !strings.Contains(action, " USING INDEX "):
		f.flag(st, RuleAddConstraint, "a UNIQUE or PRIMARY KEY constraint on "+table+" builds its index under a lock; build the index CONCURRENTLY first and add the constraint USING INDEX")
	}
}

// notNullCheck records a CHECK (column IS NOT NULL) constraint. One added
// NOT VALID counts once a VALIDATE CONSTRAINT for it follows.
func (f *fileCheck) notNullCheck(table, constraint, column string, notValid bool) {
	if notValid {
		f.checker.pending[table+"/"+constraint] = table + "." + column
		return
	}
	f.checker.notNullChecked[table+"."+column] = true
}

func (f *fileCheck) flag(st statement, rule, message string) {
	f.findings = append(f.findings, Finding{File: f.name, Line: st.line, Rule: rule, Message: message})
}

// tableName normalizes an identifier: lower case, no quotes, no public
// schema.
func tableName(s string) string {
	s = strings.ToLower(strings.ReplaceAll(s, `"`, ""))
	return strings.TrimPrefix(s, "public.")
}

// splitActions splits the actions of an ALTER TABLE at commas outside
// parentheses.
func splitActions(s string) []string {
	var (
		out   []string
		depth int
		start int
	)
	for i, c := range s {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}
