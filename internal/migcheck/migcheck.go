// Package migcheck flags migration statements that would break the release
// still running during a blue-green deploy, or that lock a table that is in
// use. A release's migrations must only expand the schema: new tables,
// nullable or defaulted columns, indexes built concurrently. Removals and
// renames wait for a later release, and a file that needs one carries an
// override comment naming the rule and the reason:
//
//	-- migcheck:allow drop-column: release 1.4 stopped reading licenses.legacy_plan
package migcheck

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
)

// Rule names, as used in findings and override comments.
const (
	RuleDropTable        = "drop-table"
	RuleDropColumn       = "drop-column"
	RuleRename           = "rename"
	RuleAlterType        = "alter-type"
	RuleSetNotNull       = "set-not-null"
	RuleCreateIndex      = "create-index"
	RuleAddColumnNotNull = "add-column-not-null"
	RuleConcurrentInTx   = "concurrently-in-transaction"
	RuleAddConstraint    = "add-constraint"
	RuleLock             = "lock"
	RuleOverride         = "override"
)

// rules lists every rule that an override comment may name.
var rules = map[string]bool{
	RuleDropTable: true, RuleDropColumn: true, RuleRename: true, RuleAlterType: true,
	RuleSetNotNull: true, RuleCreateIndex: true, RuleAddColumnNotNull: true, RuleConcurrentInTx: true,
	RuleAddConstraint: true, RuleLock: true,
}

// Finding is one statement that breaks a rule.
type Finding struct {
	File    string
	Line    int
	Rule    string
	Message string
}

func (f Finding) String() string {
	return fmt.Sprintf("%s:%d: %s: %s", f.File, f.Line, f.Rule, f.Message)
}

// Checker checks migrations in version order. It remembers the NOT NULL
// checks that earlier files validated, because a SET NOT NULL that such a
// check backs needs no table scan.
type Checker struct {
	notNullChecked map[string]bool   // "table.column"
	pending        map[string]string // "table/constraint" of a NOT VALID check to its "table.column"
}

// NewChecker returns a Checker that has seen no migration yet.
func NewChecker() *Checker {
	return &Checker{notNullChecked: map[string]bool{}, pending: map[string]string{}}
}

// CheckFS checks every *.sql file at the root of fsys in name order, which
// is version order for goose's zero-padded file names.
func CheckFS(fsys fs.FS) ([]Finding, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	c := NewChecker()
	var findings []Finding
	for _, name := range names {
		src, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		findings = append(findings, c.Check(path.Base(name), string(src))...)
	}
	return findings, nil
}

// Check returns the findings in one migration's up section that its
// override comments do not allow.
func (c *Checker) Check(name, src string) []Finding {
	allowed, findings := parseOverrides(name, src)
	f := &fileCheck{checker: c, name: name, created: map[string]bool{},
		noTransaction: noTransaction.MatchString(src)}
	for _, st := range splitStatements(upSection(src)) {
		f.statement(st)
	}
	for _, v := range f.findings {
		if !allowed[v.Rule] {
			findings = append(findings, v)
		}
	}
	return findings
}

var (
	noTransaction = regexp.MustCompile(`(?im)^\s*--\s*\+goose\s+NO\s+TRANSACTION\s*$`)
	overrideLine  = regexp.MustCompile(`(?im)^\s*--\s*migcheck:allow\b(.*)$`)
	overrideBody  = regexp.MustCompile(`^\s+([a-z-]+)\s*:\s*(\S.*)$`)
)

// parseOverrides returns the rules that the file's override comments
// allow, and a finding for each malformed override.
func parseOverrides(name, src string) (map[string]bool, []Finding) {
	allowed := map[string]bool{}
	var findings []Finding
	for _, m := range overrideLine.FindAllStringSubmatchIndex(src, -1) {
		line := 1 + strings.Count(src[:m[0]], "\n")
		body := overrideBody.FindStringSubmatch(src[m[2]:m[3]])
		switch {
		case body == nil:
			findings = append(findings, Finding{name, line, RuleOverride,
				"write the override as '-- migcheck:allow RULE: REASON', with a reason"})
		case !rules[body[1]]:
			findings = append(findings, Finding{name, line, RuleOverride,
				fmt.Sprintf("unknown rule %q; use one of %s", body[1], ruleList())})
		default:
			allowed[body[1]] = true
		}
	}
	return allowed, findings
}

func ruleList() string {
	names := make([]string, 0, len(rules))
	for r := range rules {
		names = append(names, r)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
