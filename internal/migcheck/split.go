package migcheck

import (
	"strings"
)

// statement is one SQL statement with comments removed, string literals
// emptied and whitespace collapsed, and the line where it starts.
type statement struct {
	line int
	text string
}

// upSection returns the part of a goose migration before its
// "-- +goose Down" line, because only the up direction runs on deploy.
func upSection(src string) string {
	lines := strings.SplitAfter(src, "\n")
	for i, l := range lines {
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(l)), "-- +goose down") {
			return strings.Join(lines[:i], "")
		}
	}
	return src
}

// splitStatements splits SQL at semicolons outside comments, quoted
// strings, quoted identifiers and dollar-quoted bodies. Dollar-quoted
// bodies, such as DO blocks, are kept because they contain SQL.
func splitStatements(src string) []statement {
	var (
		out   []statement
		cur   strings.Builder
		line  = 1
		start = 0
	)
	flush := func() {
		if text := strings.Join(strings.Fields(cur.String()), " "); text != "" {
			out = append(out, statement{line: start, text: text})
		}
		cur.Reset()
		start = 0
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		if start == 0 && !isSpace(c) && !strings.HasPrefix(src[i:], "--") {
			start = line
		}
		switch {
		case c == '\n':
			line++
			cur.WriteByte(' ')
		case strings.HasPrefix(src[i:], "--"):
			// Stop before the newline so the next pass counts the line.
			if j := strings.IndexByte(src[i:], '\n'); j >= 0 {
				i += j - 1
			} else {
				i = len(src)
			}
		case strings.HasPrefix(src[i:], "/*"):
			end := skipTo(src, i+2, "*/")
			line += strings.Count(src[i:end], "\n")
			i = end - 1
			cur.WriteByte(' ')
		case c == '\'':
			end := skipQuoted(src, i, '\'')
			line += strings.Count(src[i:end], "\n")
			cur.WriteString("''")
			i = end - 1
		case c == '"':
			end := skipQuoted(src, i, '"')
			line += strings.Count(src[i:end], "\n")
			cur.WriteString(src[i:end])
			i = end - 1
		case c == '$' && dollarTag(src[i:]) != "":
			tag := dollarTag(src[i:])
			end := skipTo(src, i+len(tag), tag)
			line += strings.Count(src[i:end], "\n")
			cur.WriteString(src[i:end])
			i = end - 1
		case c == ';':
			flush()
		default:
			cur.WriteByte(c)
		}
	}
	flush()
	return out
}

// skipTo returns the index just past the next end at or after i, or
// len(src) when there is none.
func skipTo(src string, i int, end string) int {
	j := strings.Index(src[i:], end)
	if j < 0 {
		return len(src)
	}
	return i + j + len(end)
}

// skipQuoted returns the index just past the quoted text starting at i,
// where a doubled quote is an escaped quote.
func skipQuoted(src string, i int, quote byte) int {
	for j := i + 1; j < len(src); j++ {
		if src[j] != quote {
			continue
		}
		if j+1 < len(src) && src[j+1] == quote {
			j++
			continue
		}
		return j + 1
	}
	return len(src)
}

// dollarTag returns the opening tag of a dollar-quoted string at the start
// of s, such as $$ or $body$, or "" when s does not start with one.
func dollarTag(s string) string {
	for j := 1; j < len(s); j++ {
		switch c := s[j]; {
		case c == '$':
			return s[:j+1]
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || j > 1 && c >= '0' && c <= '9':
		default:
			return ""
		}
	}
	return ""
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
