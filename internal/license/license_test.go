package license

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestNewKeyFormat(t *testing.T) {
	format := regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){5}$`)
	seen := map[string]bool{}
	for range 1000 {
		key, err := NewKey()
		if err != nil {
			t.Fatal(err)
		}
		if !format.MatchString(key) {
			t.Fatalf("key %q does not match %s", key, format)
		}
		if seen[key] {
			t.Fatalf("key %q generated twice", key)
		}
		seen[key] = true
	}
}

func TestNewKeyUsesWholeAlphabet(t *testing.T) {
	counts := map[rune]int{}
	for range 2000 {
		key, _ := NewKey()
		for _, r := range strings.ReplaceAll(key, "-", "") {
			counts[r]++
		}
	}
	// 60,000 characters over 32 symbols: about 1,875 each.
	for _, r := range keyAlphabet {
		if counts[r] < 1500 || counts[r] > 2250 {
			t.Errorf("symbol %q appeared %d times, want about 1875", r, counts[r])
		}
	}
}

func TestHasher(t *testing.T) {
	if _, err := NewHasher(""); err == nil {
		t.Error("empty secret accepted")
	}
	if _, err := NewHasher("short"); err == nil {
		t.Error("short secret accepted")
	}
	a, _ := NewHasher(strings.Repeat("a", 32))
	b, _ := NewHasher(strings.Repeat("b", 32))
	if !bytes.Equal(a.Hash("KEY"), a.Hash("  KEY\n")) {
		t.Error("hash differs for the same key with spaces")
	}
	if bytes.Equal(a.Hash("KEY"), b.Hash("KEY")) {
		t.Error("hash does not depend on the secret")
	}
	if bytes.Equal(a.Hash("KEY"), a.Hash("key")) {
		t.Error("hash ignores case")
	}
	if len(a.Hash("KEY")) != 32 {
		t.Errorf("hash has %d bytes, want 32", len(a.Hash("KEY")))
	}
}

func TestCodeAt(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Second), now.Add(time.Second)
	cases := []struct {
		status  Status
		expires *time.Time
		want    Code
	}{
		{StatusActive, nil, CodeValid},
		{StatusActive, &future, CodeValid},
		{StatusActive, &past, CodeExpired},
		{StatusActive, &now, CodeExpired},
		{StatusSuspended, &future, CodeSuspended},
		{StatusRevoked, &past, CodeRevoked},
		{StatusExpired, nil, CodeExpired},
	}
	for _, tc := range cases {
		if got := (License{Status: tc.status, ExpiresAt: tc.expires}).CodeAt(now); got != tc.want {
			t.Errorf("%s, expires %v: %s, want %s", tc.status, tc.expires, got, tc.want)
		}
	}
}

func TestValidateEmail(t *testing.T) {
	for _, ok := range []string{"a@b", "first.last+tag@example.co.uk", strings.Repeat("a", 242) + "@example.com"} {
		if err := ValidateEmail(ok); err != nil {
			t.Errorf("ValidateEmail(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "plain", "@example.com", "a@", "a b@example.com", strings.Repeat("a", 243) + "@example.com"} {
		if err := ValidateEmail(bad); err == nil {
			t.Errorf("ValidateEmail(%q) accepted", bad)
		}
	}
}

func TestMaskEmail(t *testing.T) {
	if got := MaskEmail("jane.doe@example.com"); got != "j***@example.com" {
		t.Errorf("MaskEmail = %q", got)
	}
}

func TestKeyPrefix(t *testing.T) {
	if got := KeyPrefix("7KQ2M-9XH4T"); got != "7KQ2" {
		t.Errorf("KeyPrefix = %q, want 7KQ2", got)
	}
	if got := KeyPrefix("AB"); got != "AB" {
		t.Errorf("KeyPrefix of a short key = %q, want AB", got)
	}
}

func TestCheckoutKey(t *testing.T) {
	format := regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){5}$`)
	secret := strings.Repeat("s", 32)
	key := CheckoutKey(secret, "cs_test_a1")
	if !format.MatchString(key) {
		t.Fatalf("key %q does not match %s", key, format)
	}
	if again := CheckoutKey(secret, "cs_test_a1"); again != key {
		t.Errorf("same session gave %q then %q", key, again)
	}
	if other := CheckoutKey(secret, "cs_test_a2"); other == key {
		t.Error("two sessions gave the same key")
	}
	if other := CheckoutKey(strings.Repeat("t", 32), "cs_test_a1"); other == key {
		t.Error("key does not depend on the secret")
	}
}
