package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
)

// quiet discards the logs of key set refreshes that tests make fail.
var quiet = slog.New(slog.DiscardHandler)

const (
	testIssuer   = "https://idp.example.nhs.uk"
	testAudience = "arrs"
)

// signingKey is a private JWK with its kid and the algorithm it signs with.
type signingKey struct {
	jwk.Key
	alg jwa.SignatureAlgorithm
}

// newKey generates a private key of the type alg needs and wraps it as a
// JWK named kid. withAlg also records alg in the JWK, as some identity
// providers do and others do not.
func newKey(t *testing.T, alg jwa.SignatureAlgorithm, kid string, withAlg bool) signingKey {
	t.Helper()
	var raw any
	var err error
	switch alg {
	case jwa.RS256():
		raw, err = rsa.GenerateKey(rand.Reader, 2048)
	case jwa.ES256():
		raw, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jwa.EdDSA():
		_, raw, err = ed25519.GenerateKey(rand.Reader)
	default:
		t.Fatalf("newKey: unsupported %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	key, err := jwk.Import(raw)
	if err != nil {
		t.Fatal(err)
	}
	must(t, key.Set(jwk.KeyIDKey, kid))
	if withAlg {
		must(t, key.Set(jwk.AlgorithmKey, alg))
	}
	return signingKey{Key: key, alg: alg}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// publicJWKS returns the public key set of keys as JSON.
func publicJWKS(t *testing.T, keys ...signingKey) []byte {
	t.Helper()
	set := jwk.NewSet()
	for _, k := range keys {
		pub, err := k.PublicKey()
		must(t, err)
		must(t, set.AddKey(pub))
	}
	data, err := json.Marshal(set)
	must(t, err)
	return data
}

// writeJWKS writes the public key set of keys to a file and returns its path.
func writeJWKS(t *testing.T, keys ...signingKey) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "jwks.json")
	must(t, os.WriteFile(path, publicJWKS(t, keys...), 0o600))
	return path
}

// claimsAt are valid claims for a PCN manager at U12345, issued at now.
func claimsAt(now time.Time) map[string]any {
	return map[string]any{
		"iss":       testIssuer,
		"aud":       []string{testAudience},
		"sub":       "user-123",
		"iat":       now.Unix(),
		"nbf":       now.Unix(),
		"exp":       now.Add(10 * time.Minute).Unix(),
		"arrs_role": "pcn-manager",
		"arrs_org":  "U12345",
	}
}

// with returns a copy of c with changes applied; a nil value deletes.
func with(c map[string]any, changes map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range c {
		out[k] = v
	}
	for k, v := range changes {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// sign returns a compact JWS of claims signed by key under alg, with kid in
// the protected header.
func sign(t *testing.T, key any, alg jwa.SignatureAlgorithm, kid string, claims map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	must(t, err)
	// A raw key, because jws.Sign fills the header's kid from a JWK's own,
	// and these tests need to set headers a real signer would not.
	if k, ok := key.(jwk.Key); ok {
		var raw any
		must(t, jwk.Export(k, &raw))
		key = raw
	}
	hdr := jws.NewHeaders()
	if kid != "" {
		must(t, hdr.Set(jws.KeyIDKey, kid))
	}
	out, err := jws.Sign(payload, jws.WithKey(alg, key, jws.WithProtectedHeaders(hdr)))
	must(t, err)
	return string(out)
}

func (k signingKey) sign(t *testing.T, claims map[string]any) string {
	t.Helper()
	kid, _ := k.KeyID()
	return sign(t, k.Key, k.alg, kid, claims)
}

// craft builds a compact JWS by hand from header, claims and a raw
// signature, for tokens no library will sign (alg "none").
func craft(t *testing.T, header, claims map[string]any, sig []byte) string {
	t.Helper()
	h, err := json.Marshal(header)
	must(t, err)
	c, err := json.Marshal(claims)
	must(t, err)
	enc := base64.RawURLEncoding
	return enc.EncodeToString(h) + "." + enc.EncodeToString(c) + "." + enc.EncodeToString(sig)
}

func newFileVerifier(t *testing.T, cfg JWTConfig, keys ...signingKey) *JWTVerifier {
	t.Helper()
	cfg.Issuer, cfg.Audience = testIssuer, testAudience
	cfg.Logger = quiet
	if cfg.JWKSFile == "" {
		cfg.JWKSFile = writeJWKS(t, keys...)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	v, err := NewJWTVerifier(ctx, cfg)
	must(t, err)
	return v
}

// assertReason fails unless err is an *Error with reason want whose message
// contains no part of token.
func assertReason(t *testing.T, err error, want, token string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", want)
	}
	if got := Reason(err); got != want {
		t.Fatalf("reason %s (%v), want %s", got, err, want)
	}
	if !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("%v does not match ErrUnauthenticated", err)
	}
	assertNoToken(t, err.Error(), token)
}

// assertNoToken fails if msg contains token or any of its segments.
func assertNoToken(t *testing.T, msg, token string) {
	t.Helper()
	if token == "" {
		return
	}
	if strings.Contains(msg, token) {
		t.Fatalf("message %q contains the token", msg)
	}
	for _, seg := range strings.Split(token, ".") {
		if len(seg) >= 8 && strings.Contains(msg, seg) {
			t.Fatalf("message %q contains a token segment", msg)
		}
	}
}
