package license

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"strings"
)

// Key format: 6 groups of 5 characters from Crockford's base32 alphabet,
// which leaves out I, L, O and U so that a key read aloud is not misheard.
// 30 characters of 5 bits carry 150 bits from crypto/rand.
const (
	keyAlphabet  = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	keyGroups    = 6
	keyGroupLen  = 5
	keyPrefixLen = 4
	minSecretLen = 32
	MaxKeyLength = 200
)

// NewKey returns a new random license key such as
// "7KQ2M-9XH4T-..." with 150 bits of entropy.
func NewKey() (string, error) {
	raw := make([]byte, keyGroups*keyGroupLen)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	return formatKey(raw), nil
}

// formatKey writes the low 5 bits of each byte of raw as one symbol, with a
// dash between groups.
func formatKey(raw []byte) string {
	var b strings.Builder
	for i, r := range raw {
		if i > 0 && i%keyGroupLen == 0 {
			b.WriteByte('-')
		}
		// 256 is a multiple of 32, so taking the low 5 bits is unbiased.
		b.WriteByte(keyAlphabet[r&31])
	}
	return b.String()
}

// checkoutKeyLabel separates keys derived for checkout sessions from any
// other use of the same secret.
const checkoutKeyLabel = "rescuepc checkout session license key v1\x00"

// CheckoutKey derives the license key of a Stripe checkout session as
// HMAC-SHA-256 of the session ID under secret, written in the format of
// NewKey from the low 5 bits of the first 30 bytes of the MAC, which gives
// 150 bits. The same secret and session ID always give the same key, so the
// key can be shown again without being stored.
func CheckoutKey(secret, sessionID string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(checkoutKeyLabel + sessionID))
	return formatKey(mac.Sum(nil)[:keyGroups*keyGroupLen])
}

// NormalizeKey trims the spaces around a key as typed or pasted.
func NormalizeKey(key string) string {
	return strings.TrimSpace(key)
}

// KeyPrefix returns the first characters of a key, which are stored so that
// support can find a license the customer reads out. Those 4 characters
// reveal 20 of a generated key's 150 bits.
func KeyPrefix(key string) string {
	r := []rune(key)
	if len(r) > keyPrefixLen {
		r = r[:keyPrefixLen]
	}
	return string(r)
}

// Hasher computes the keyed hash under which license keys are stored, so a
// database dump alone does not reveal keys, even short imported ones.
type Hasher struct {
	secret []byte
}

// NewHasher returns a Hasher keyed by secret, which must be at least 32 bytes.
func NewHasher(secret string) (*Hasher, error) {
	switch {
	case secret == "":
		return nil, errors.New("LICENSE_KEY_SECRET is required; generate one with: openssl rand -hex 32")
	case len(secret) < minSecretLen:
		return nil, errors.New("LICENSE_KEY_SECRET must be at least 32 characters; generate one with: openssl rand -hex 32")
	}
	return &Hasher{secret: []byte(secret)}, nil
}

// Hash returns HMAC-SHA-256 of the normalized key.
func (h *Hasher) Hash(key string) []byte {
	mac := hmac.New(sha256.New, h.secret)
	mac.Write([]byte(NormalizeKey(key)))
	return mac.Sum(nil)
}
