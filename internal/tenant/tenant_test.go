package tenant

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	valid := []string{"default", "acme", " acme-eu ", "a", "0_x", strings.Repeat("a", 50)}
	for _, s := range valid {
		if _, err := Parse(s); err != nil {
			t.Errorf("Parse(%q) = %v, want no error", s, err)
		}
	}
	invalid := []string{"", " ", "Acme", "-acme", "_a", "a b", "a.b", strings.Repeat("a", 51), "ümlaut"}
	for _, s := range invalid {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) returned no error", s)
		}
	}
}

func TestParseTrims(t *testing.T) {
	id, err := Parse("  acme\t")
	if err != nil {
		t.Fatal(err)
	}
	if id != "acme" {
		t.Errorf("Parse trimmed to %q, want acme", id)
	}
}

func TestFromContextMissing(t *testing.T) {
	if _, err := FromContext(context.Background()); !errors.Is(err, ErrMissing) {
		t.Errorf("FromContext on empty context = %v, want ErrMissing", err)
	}
	ctx := NewContext(context.Background(), ID(""))
	if _, err := FromContext(ctx); !errors.Is(err, ErrMissing) {
		t.Errorf("FromContext with empty ID = %v, want ErrMissing", err)
	}
}

func TestFromContextRoundTrip(t *testing.T) {
	ctx := NewContext(context.Background(), "acme")
	id, err := FromContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if id != "acme" {
		t.Errorf("FromContext = %q, want acme", id)
	}
}
