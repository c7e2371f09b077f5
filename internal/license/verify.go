package license

import (
	"context"
	"errors"
	"time"

	"github.com/rescuepc/licensing/internal/tenant"
)

// Finder looks up the license with the given key hash and email inside one
// tenant. It returns ErrNotFound when none matches, including when the key
// exists under another email, so both cases cost one identical query.
type Finder interface {
	FindByKey(ctx context.Context, tenantID tenant.ID, email string, keyHash []byte) (License, error)
}

// Verdict is the result of one verification. License is set only when the
// tenant, email and key all matched.
type Verdict struct {
	Code    Code
	License *License
}

// Valid reports whether the verdict grants use of the product.
func (v Verdict) Valid() bool { return v.Code == CodeValid }

// Verifier computes verdicts for license checks from a Finder.
type Verifier struct {
	finder Finder
	hasher *Hasher
	now    func() time.Time
}

// NewVerifier returns a Verifier that hashes keys with hasher and looks them
// up in finder.
func NewVerifier(finder Finder, hasher *Hasher) *Verifier {
	return &Verifier{finder: finder, hasher: hasher, now: time.Now}
}

// Verify normalizes email and key and returns the verdict for them in the
// tenant. Errors other than "not found" come from the Finder and mean that no
// verdict could be reached.
func (v *Verifier) Verify(ctx context.Context, tenantID tenant.ID, email, key string) (Verdict, error) {
	email = NormalizeEmail(email)
	key = NormalizeKey(key)

	l, err := v.finder.FindByKey(ctx, tenantID, email, v.hasher.Hash(key))
	if errors.Is(err, ErrNotFound) {
		return Verdict{Code: CodeNotFound}, nil
	}
	if err != nil {
		return Verdict{}, err
	}
	return Verdict{Code: l.CodeAt(v.now()), License: &l}, nil
}
