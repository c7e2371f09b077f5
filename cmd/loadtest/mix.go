package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/rescuepc/licensing/internal/license"
)

// Shares of the request mix, in percent. The rest are valid keys.
const (
	shareInvalidKey = 10 // a random key in a seeded tenant: NOT_FOUND
	shareNoTenant   = 5  // no X-Tenant-ID, so the default tenant: NOT_FOUND
)

// mix builds verify requests: mostly valid keys spread over the seeded
// tenants, some invalid keys, some without a tenant header. Each request
// carries an X-Forwarded-For from two documentation networks, so a server
// that trusts the load generator's address sees many clients.
type mix struct {
	url      string
	licenses []seeded
	mu       sync.Mutex
	rng      *rand.Rand
}

func newMix(target string, licenses []seeded) *mix {
	return &mix{url: strings.TrimRight(target, "/") + "/api/verify-license", licenses: licenses,
		rng: rand.New(rand.NewPCG(1, 2))}
}

func (m *mix) targeter() vegeta.Targeter {
	return func(t *vegeta.Target) error {
		m.mu.Lock()
		roll := m.rng.IntN(100)
		l := m.licenses[m.rng.IntN(len(m.licenses))]
		client := fmt.Sprintf("%s.%d", []string{"198.51.100", "203.0.113"}[m.rng.IntN(2)], 1+m.rng.IntN(254))
		salt := m.rng.Uint64()
		m.mu.Unlock()

		header := http.Header{"Content-Type": {"application/json"}, "X-Forwarded-For": {client}}
		email, key := l.Email, l.Key
		switch {
		case roll < shareInvalidKey:
			email, key = fmt.Sprintf("guess%d@%s.example.com", salt%1000, l.Tenant), randomKey()
			header.Set("X-Tenant-ID", l.Tenant)
		case roll < shareInvalidKey+shareNoTenant:
			key = randomKey()
		default:
			header.Set("X-Tenant-ID", l.Tenant)
		}
		body, err := json.Marshal(map[string]string{"email": email, "licenseKey": key})
		if err != nil {
			return err
		}
		*t = vegeta.Target{Method: http.MethodPost, URL: m.url, Header: header, Body: body}
		return nil
	}
}

func randomKey() string {
	key, err := license.NewKey()
	if err != nil {
		return "XXXXX-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX"
	}
	return key
}
