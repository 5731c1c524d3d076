package auth

import (
	"context"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

// A token verified once is remembered only while it would still pass: not
// past its exp, and not once its key has left the key set.
func TestVerifiedTokensAreRememberedOnlyWhileTheyWouldPass(t *testing.T) {
	key := newKey(t, jwa.ES256(), "ec-1", true)
	other := newKey(t, jwa.ES256(), "ec-2", true)
	file := writeJWKS(t, key, other)
	v := newFileVerifier(t, JWTConfig{JWKSFile: file, Skew: time.Second}, key, other)
	start := time.Now()
	now := start
	v.now = func() time.Time { return now }
	ctx := context.Background()
	token := key.sign(t, with(claimsAt(start), map[string]any{"exp": start.Add(time.Minute).Unix()}))

	first, err := v.Verify(ctx, token)
	must(t, err)
	if _, ok := v.verified.get(token, mustSet(t, v), now); !ok {
		t.Fatal("a verified token is not remembered")
	}
	again, err := v.Verify(ctx, token)
	if err != nil || !reflect.DeepEqual(again, first) {
		t.Fatalf("second Verify = %+v, %v; want %+v", again, err, first)
	}
	// A different token is not the same entry, even with the same claims.
	if _, ok := v.verified.get(token+"x", mustSet(t, v), now); ok {
		t.Error("a different token hit the cache")
	}

	// Past exp and the skew: refused, cached or not.
	now = start.Add(time.Minute + 2*time.Second)
	_, err = v.Verify(ctx, token)
	assertReason(t, err, ReasonTokenExpired, token)

	// A key removed from the set stops its tokens at once.
	now = start
	fresh := key.sign(t, claimsAt(start))
	_, err = v.Verify(ctx, fresh)
	must(t, err)
	must(t, os.WriteFile(file, publicJWKS(t, other), 0o600))
	must(t, v.Refresh(ctx))
	_, err = v.Verify(ctx, fresh)
	if err == nil {
		t.Fatal("a token whose key left the set still verifies from the cache")
	}
}

func mustSet(t *testing.T, v *JWTVerifier) jwk.Set {
	t.Helper()
	s, err := v.keys.current()
	must(t, err)
	return s
}
