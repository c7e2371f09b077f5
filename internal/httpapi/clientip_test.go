package httpapi

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	tests := []struct {
		name   string
		remote string
		xff    []string
		want   string
	}{
		{"no proxy", "203.0.113.9:4000", nil, "203.0.113.9"},
		{"untrusted peer sends XFF", "203.0.113.9:4000", []string{"198.51.100.1"}, "203.0.113.9"},
		{"trusted peer", "10.1.1.1:4000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"spoofed prefix", "10.1.1.1:4000", []string{"1.2.3.4, 198.51.100.1"}, "198.51.100.1"},
		{"proxy chain", "10.1.1.1:4000", []string{"198.51.100.1, 10.2.2.2"}, "198.51.100.1"},
		{"several headers", "10.1.1.1:4000", []string{"1.2.3.4", "198.51.100.1"}, "198.51.100.1"},
		{"garbage hop", "10.1.1.1:4000", []string{"198.51.100.1, junk"}, "10.1.1.1"},
		{"trusted peer without XFF", "10.1.1.1:4000", nil, "10.1.1.1"},
		{"IPv6 peer", "[2001:db8::1]:4000", nil, "2001:db8::1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/api/verify-license", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := clientIP(r, trusted); got.String() != tt.want {
				t.Errorf("clientIP = %s, want %s", got, tt.want)
			}
		})
	}
}
