package auth

import (
	"crypto/sha256"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
)

// maxCachedTokens bounds the verified-token cache: a few thousand people
// and services at once is a busy national service; more than this many
// distinct live tokens only costs verifying some of them again.
const maxCachedTokens = 10_000

// tokenCache remembers tokens already verified, so that a caller's every
// request does not pay for a signature check and the claims' JSON (about
// 100 µs and 250 allocations a request, on a par with a small database
// read). An entry holds for as long as the token would still pass: until
// its exp (with the skew), and only while the key set it was verified
// against is the current one, so a key removed from the set stops its
// tokens at once. It is keyed by the token's SHA-256: a hit needs the very
// same bytes.
type tokenCache struct {
	mu sync.Mutex
	m  map[[32]byte]verifiedToken
}

type verifiedToken struct {
	identity Identity
	until    time.Time // exp plus the skew
	set      jwk.Set
}

func (c *tokenCache) get(token string, set jwk.Set, now time.Time) (Identity, bool) {
	key := sha256.Sum256([]byte(token))
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[key]
	if !ok {
		return Identity{}, false
	}
	if v.set != set || !now.Before(v.until) {
		delete(c.m, key)
		return Identity{}, false
	}
	return v.identity, true
}

func (c *tokenCache) put(token string, set jwk.Set, id Identity, until time.Time) {
	key := sha256.Sum256([]byte(token))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedTokens {
		// Starting afresh is simpler than tracking recency, and costs a
		// verification per live token once in a long while.
		c.m = make(map[[32]byte]verifiedToken)
	}
	c.m[key] = verifiedToken{identity: id, until: until, set: set}
}
