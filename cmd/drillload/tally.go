package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sort"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// tally counts the results of an attack.
type tally struct {
	sent         int
	byStatus     map[uint16]int
	failed       int            // requests that got no response
	errors       map[string]int // failure and non-2xx messages, by text
	wrongVerdict int            // 2xx verifications without "valid":true
	first, last  time.Time
}

func newTally() *tally {
	return &tally{byStatus: map[uint16]int{}, errors: map[string]int{}}
}

func (t *tally) add(r *vegeta.Result) {
	t.sent++
	if t.first.IsZero() || r.Timestamp.Before(t.first) {
		t.first = r.Timestamp
	}
	if end := r.End(); end.After(t.last) {
		t.last = end
	}
	if r.Code == 0 {
		t.failed++
		t.errors[r.Method+" "+r.URL+": "+r.Error]++
		return
	}
	t.byStatus[r.Code]++
	switch {
	case r.Code < 200 || r.Code > 299:
		t.errors[fmt.Sprintf("%s %s: status %d: %.200s", r.Method, r.URL, r.Code, r.Body)]++
	case r.Method == http.MethodPost && !bytes.Contains(r.Body, []byte(`"valid":true`)):
		t.wrongVerdict++
		t.errors[fmt.Sprintf("%s %s: verdict %.200s", r.Method, r.URL, r.Body)]++
	}
}

// print writes the counts, then up to ten distinct failure messages.
func (t *tally) print(w io.Writer, rate int) {
	fmt.Fprintf(w, "drillload: requests sent: %d at %d/s over %s\n", t.sent, rate, t.last.Sub(t.first).Round(100*time.Millisecond))
	codes := make([]int, 0, len(t.byStatus))
	for code := range t.byStatus {
		codes = append(codes, int(code))
	}
	sort.Ints(codes)
	for _, code := range codes {
		fmt.Fprintf(w, "drillload: answered %d: %d\n", code, t.byStatus[uint16(code)])
	}
	fmt.Fprintf(w, "drillload: failed (no response): %d\n", t.failed)
	fmt.Fprintf(w, "drillload: verifications without \"valid\":true: %d\n", t.wrongVerdict)

	messages := make([]string, 0, len(t.errors))
	for m := range t.errors {
		messages = append(messages, m)
	}
	sort.Strings(messages)
	for i, m := range messages {
		if i == 10 {
			fmt.Fprintf(w, "drillload: ... and %d more distinct failures\n", len(messages)-10)
			break
		}
		fmt.Fprintf(w, "drillload: %d x %s\n", t.errors[m], m)
	}
}

// err returns an error unless every request got a 2xx response and every
// verification was valid.
func (t *tally) err() error {
	ok := 0
	for code, n := range t.byStatus {
		if code >= 200 && code <= 299 {
			ok += n
		}
	}
	switch {
	case t.sent == 0:
		return fmt.Errorf("no request was sent")
	case ok != t.sent || t.wrongVerdict != 0:
		return fmt.Errorf("%d of %d requests got no 2xx response or a wrong verdict", t.sent-ok+t.wrongVerdict, t.sent)
	}
	return nil
}
