package auth

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lestrrat-go/httprc/v3"
	"github.com/lestrrat-go/httprc/v3/errsink"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
)

// acceptedAlgorithms are the only signature algorithms a token may use:
// asymmetric, so the key set holds nothing secret, and each tied to one key
// type. HMAC is excluded because a public key would then double as a
// secret; "none" because it is no signature.
var acceptedAlgorithms = map[string]bool{"RS256": true, "ES256": true, "EdDSA": true}

// minRSABits is the smallest RSA modulus accepted (NIST SP 800-131A).
const minRSABits = 2048

// maxKeySetBytes bounds a key set file or response; real sets are a few KB.
const maxKeySetBytes = 1 << 20

// keySource supplies the current key set.
type keySource interface {
	current() (jwk.Set, error)
	refresh(ctx context.Context) error
}

// keyProvider offers jws.Verify the one key a token may be verified with.
// It is made per call, so failure is never shared between calls.
type keyProvider struct {
	set      jwk.Set
	allowDev bool
	// failure says why no key was offered, in words that never quote the
	// token.
	failure string
}

var errNoKey = errors.New("no acceptable key")

func (p *keyProvider) FetchKeys(_ context.Context, sink jws.KeySink, sig *jws.Signature, _ *jws.Message) error {
	h := sig.ProtectedHeaders()
	alg, ok := h.Algorithm()
	if !ok || !acceptedAlgorithms[alg.String()] {
		p.failure = "signing algorithm is not RS256, ES256 or EdDSA"
		return errNoKey
	}
	kid, ok := h.KeyID()
	if !ok || kid == "" {
		// Without a kid the verifier would have to try keys until one
		// fits; every identity provider arrs expects sends one.
		p.failure = "header names no key (kid)"
		return errNoKey
	}
	if !p.allowDev && isDevKeyID(kid) {
		p.failure = "token is signed with a development key"
		return errNoKey
	}
	key, ok := p.set.LookupKeyID(kid)
	if !ok {
		p.failure = "kid is not in the key set"
		return errNoKey
	}
	pub, err := verificationKey(alg, key)
	if err != nil {
		p.failure = err.Error()
		return errNoKey
	}
	sink.Key(alg, pub)
	return nil
}

// verificationKey returns key's raw public key if it may verify a signature
// made with alg: a signing key (or one of unstated use), public, of the type
// the algorithm needs, and, if the key states an algorithm, that one. This is
// what stops a token choosing how the key is used.
func verificationKey(alg jwa.SignatureAlgorithm, key jwk.Key) (any, error) {
	if use, ok := key.KeyUsage(); ok && use != "" && use != jwk.ForSignature.String() {
		return nil, errors.New("key is not for signatures")
	}
	if kalg, ok := key.Algorithm(); ok && kalg.String() != alg.String() {
		return nil, errors.New("token algorithm differs from the key's")
	}
	if private, err := jwk.IsPrivateKey(key); err != nil || private {
		return nil, errors.New("key set entry is not a public key")
	}
	var raw any
	if err := jwk.Export(key, &raw); err != nil {
		return nil, errors.New("key set entry cannot be used")
	}
	switch alg.String() {
	case "RS256":
		if k, ok := raw.(*rsa.PublicKey); ok && k.N.BitLen() >= minRSABits {
			return k, nil
		}
	case "ES256":
		if k, ok := raw.(*ecdsa.PublicKey); ok && k.Curve == elliptic.P256() {
			return k, nil
		}
	case "EdDSA":
		if k, ok := raw.(ed25519.PublicKey); ok {
			return k, nil
		}
	}
	return nil, errors.New("key type does not fit the token algorithm")
}

// checkKeySet refuses a key set that must not be used: empty of usable
// keys, or holding secrets (private or symmetric keys: whoever can read the
// set could then sign tokens) or, unless allowDev, development keys.
func checkKeySet(set jwk.Set, allowDev bool) error {
	usable := 0
	for i := range set.Len() {
		key, _ := set.Key(i)
		kid, _ := key.KeyID()
		if key.KeyType() == jwa.OctetSeq() {
			return fmt.Errorf("key %q is a symmetric (secret) key; a JWKS for verification holds public keys only", kid)
		}
		if private, err := jwk.IsPrivateKey(key); err == nil && private {
			return fmt.Errorf("key %q includes private key material; publish only the public half", kid)
		}
		if isDevKeyID(kid) && !allowDev {
			return fmt.Errorf("key %q is a development key (kid prefix %q)", kid, DevKeyIDPrefix)
		}
		if kid == "" {
			continue
		}
		for alg := range acceptedAlgorithms {
			a, _ := jwa.LookupSignatureAlgorithm(alg)
			if _, err := verificationKey(a, key); err == nil {
				usable++
				break
			}
		}
	}
	if usable == 0 {
		return errors.New("the key set has no key with a kid usable for RS256 (2048 bits or more), ES256 or EdDSA")
	}
	return nil
}

func parseKeySet(data []byte, allowDev bool) (jwk.Set, error) {
	set, err := jwk.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("not a JSON Web Key Set: %w", err)
	}
	if err := checkKeySet(set, allowDev); err != nil {
		return nil, err
	}
	return set, nil
}

// staticKeys is a key set that never changes: the development key.
type staticKeys struct{ set jwk.Set }

func (s staticKeys) current() (jwk.Set, error)     { return s.set, nil }
func (s staticKeys) refresh(context.Context) error { return nil }

// fileKeys is a key set file, re-read on a timer. Comparing contents rather
// than modification times catches every way of replacing a file (editors,
// atomic renames, Kubernetes ConfigMap symlink swaps) at the cost of
// reading a few KB a minute.
type fileKeys struct {
	path string
	set  atomic.Pointer[jwk.Set]
	mu   sync.Mutex // serialises reloads and guards last
	last []byte
}

func newFileKeys(ctx context.Context, path string, interval time.Duration, logger *slog.Logger) (*fileKeys, error) {
	f := &fileKeys{path: path}
	if err := f.refresh(ctx); err != nil {
		return nil, err
	}
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := f.refresh(ctx); err != nil {
					logger.Error("JWKS file reload failed; keeping the previous key set", "path", path, "error", err)
				}
			}
		}
	}()
	return f, nil
}

func (f *fileKeys) current() (jwk.Set, error) {
	if p := f.set.Load(); p != nil {
		return *p, nil
	}
	return nil, errors.New("no key set loaded")
}

func (f *fileKeys) refresh(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	data, err := readBounded(f.path)
	if err != nil {
		return fmt.Errorf("auth: JWKS file: %w", err)
	}
	if f.last != nil && bytes.Equal(data, f.last) {
		return nil
	}
	set, err := parseKeySet(data, false)
	if err != nil {
		return fmt.Errorf("auth: JWKS file %s: %w", f.path, err)
	}
	f.set.Store(&set)
	f.last = data
	return nil
}

func readBounded(path string) ([]byte, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, maxKeySetBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxKeySetBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxKeySetBytes)
	}
	return data, nil
}

// urlKeys is an identity provider's key set, kept by jwx's jwk.Cache. The
// cache's resource is read directly (an atomic load) rather than through
// Cache.Lookup, which is a round trip to the cache's goroutine and would
// block once ctx ends.
type urlKeys struct {
	url   string
	cache *jwk.Cache
	res   *httprc.ResourceBase[jwk.Set]
}

// urlFirstFetchTimeout bounds how long NewJWTVerifier waits for the first
// fetch: long enough for a slow identity provider, short enough that a
// wrong URL fails the start-up promptly.
const urlFirstFetchTimeout = 30 * time.Second

func newURLKeys(ctx context.Context, rawURL string, interval time.Duration, logger *slog.Logger) (*urlKeys, error) {
	if err := checkJWKSURL(rawURL); err != nil {
		return nil, err
	}
	client := httprc.NewClient(httprc.WithErrorSink(errsink.NewFunc(func(ctx context.Context, err error) {
		logger.ErrorContext(ctx, "JWKS refresh failed; keeping the previous key set", "url", rawURL, "error", err)
	})))
	cache, err := jwk.NewCache(ctx, client)
	if err != nil {
		return nil, fmt.Errorf("auth: JWKS cache: %w", err)
	}
	regCtx, cancel := context.WithTimeout(ctx, urlFirstFetchTimeout)
	defer cancel()
	// A constant interval, not the response's Cache-Control, so operators
	// know when a rotation is picked up; the same minimum paces retries
	// after a failed fetch.
	err = cache.Register(regCtx, rawURL,
		jwk.WithConstantInterval(interval),
		jwk.WithMinInterval(interval),
		jwk.WithMaxFetchBodySize(maxKeySetBytes),
	)
	if err == nil && !cache.Ready(regCtx, rawURL) {
		err = errors.New("the first fetch did not complete")
	}
	var res *httprc.ResourceBase[jwk.Set]
	if err == nil {
		res, err = cache.LookupResource(regCtx, rawURL)
	}
	if err != nil {
		_ = cache.Shutdown(context.Background())
		return nil, fmt.Errorf("auth: JWKS URL %s: %w", rawURL, err)
	}
	u := &urlKeys{url: rawURL, cache: cache, res: res}
	set, err := u.current()
	if err == nil {
		err = checkKeySet(set, false)
	}
	if err != nil {
		_ = cache.Shutdown(context.Background())
		return nil, fmt.Errorf("auth: JWKS URL %s: %w", rawURL, err)
	}
	return u, nil
}

// current returns the last set fetched. A later fetch that parses is used
// as it is; keyProvider checks each key it picks (public, not a dev key) so
// a bad refresh cannot widen what is accepted.
func (u *urlKeys) current() (jwk.Set, error) {
	set := u.res.Resource()
	if set == nil {
		return nil, errors.New("the key set has not been fetched")
	}
	return set, nil
}

func (u *urlKeys) refresh(ctx context.Context) error {
	set, err := u.cache.Refresh(ctx, u.url)
	if err != nil {
		return fmt.Errorf("auth: JWKS URL %s: %w", u.url, err)
	}
	if err := checkKeySet(set, false); err != nil {
		return fmt.Errorf("auth: JWKS URL %s: %w", u.url, err)
	}
	return nil
}

// checkJWKSURL insists on https, so keys cannot be swapped in transit,
// except on loopback, where there is no transit (a sidecar, or tests).
func checkJWKSURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("auth: JWKS URL %q is not an absolute URL", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || strings.EqualFold(host, "localhost") {
			return nil
		}
	}
	return fmt.Errorf("auth: JWKS URL %q must use https", raw)
}
