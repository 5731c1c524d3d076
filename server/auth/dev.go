package auth

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"arrs.nhs.uk/arrs/claims"
)

// Development mode: with no identity provider configured, arrs signs its own
// tokens with a local key. Everything about it is marked so production can
// recognise and refuse it: the issuer is DevIssuer and every key id starts
// with DevKeyIDPrefix.
const (
	// DevIssuer is the "iss" of development tokens.
	DevIssuer = "arrs-dev"
	// DevAudience is the "aud" of development tokens.
	DevAudience = "arrs"
	// DevKeyIDPrefix starts the kid of every development key.
	DevKeyIDPrefix = "arrs-dev-"
	// DevKeyFile is the development signing key's file name under the
	// directory given to LoadOrCreateDevKeys: one private JWK, mode 0600.
	DevKeyFile = "dev-signing-key.json"
)

// DevKeys is the development signing key: it mints tokens for any role and
// verifies them. Anyone who can read its file can be anyone to arrs, so it
// is for a developer's own machine only; see RefuseDevKeys.
type DevKeys struct {
	private  jwk.Key
	kid      string
	jwks     []byte
	verifier *JWTVerifier
}

// LoadOrCreateDevKeys loads the development key from dir/DevKeyFile, or
// generates an Ed25519 key there if there is none, so tokens minted by one
// run stay valid in the next. Two processes starting together end up with
// the same key: the file is created whole or not at all. A key file that
// others can read is refused, as ssh refuses a private key.
func LoadOrCreateDevKeys(dir string) (*DevKeys, error) {
	path := filepath.Join(dir, DevKeyFile)
	key, err := readDevKey(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err = createDevKey(dir, path); err == nil {
			key, err = readDevKey(path)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("auth: development key %s: %w", path, err)
	}
	return newDevKeys(key)
}

func readDevKey(path string) (jwk.Key, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("permissions %v let others read the key; chmod 600 it", info.Mode().Perm())
	}
	data, err := readBounded(path)
	if err != nil {
		return nil, err
	}
	key, err := jwk.ParseKey(data)
	if err != nil {
		return nil, fmt.Errorf("not a JWK: %w", err)
	}
	kid, _ := key.KeyID()
	if _, ok := key.(jwk.OKPPrivateKey); !ok || !isDevKeyID(kid) {
		return nil, fmt.Errorf("not an arrs development key (an Ed25519 private JWK with a kid starting %q)", DevKeyIDPrefix)
	}
	return key, nil
}

// createDevKey writes a new key to a temporary file and links it into
// place; linking fails if another process got there first, and then that
// process's key is the one used.
func createDevKey(dir, path string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	key, err := jwk.Import(priv)
	if err != nil {
		return err
	}
	thumb, err := key.Thumbprint(crypto.SHA256)
	if err != nil {
		return err
	}
	kid := DevKeyIDPrefix + base64.RawURLEncoding.EncodeToString(thumb)[:16]
	for name, v := range map[string]any{jwk.KeyIDKey: kid, jwk.AlgorithmKey: jwa.EdDSA(), jwk.KeyUsageKey: jwk.ForSignature} {
		if err := key.Set(name, v); err != nil {
			return err
		}
	}
	data, err := json.Marshal(key)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, DevKeyFile+".*.tmp") // mode 0600
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(append(data, '\n'))
	if err == nil {
		err = tmp.Sync()
	}
	if closeErr := tmp.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return err
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return nil
}

func newDevKeys(private jwk.Key) (*DevKeys, error) {
	pub, err := private.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("auth: development key: %w", err)
	}
	set := jwk.NewSet()
	if err := set.AddKey(pub); err != nil {
		return nil, fmt.Errorf("auth: development key: %w", err)
	}
	if err := checkKeySet(set, true); err != nil {
		return nil, fmt.Errorf("auth: development key: %w", err)
	}
	jwks, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("auth: development key: %w", err)
	}
	kid, _ := private.KeyID()
	return &DevKeys{
		private: private,
		kid:     kid,
		jwks:    jwks,
		verifier: &JWTVerifier{
			issuer: DevIssuer, audience: DevAudience, skew: defaultSkew,
			keys: staticKeys{set: set}, allowDev: true,
		},
	}, nil
}

// JWKS returns the public key set, as JSON, for the gateway to serve at
// /.well-known/jwks.json.
func (d *DevKeys) JWKS() []byte { return append([]byte(nil), d.jwks...) }

// KeyID returns the key's kid.
func (d *DevKeys) KeyID() string { return d.kid }

// Verifier returns a verifier for the tokens Mint makes: issuer DevIssuer,
// audience DevAudience, this key only.
func (d *DevKeys) Verifier() *JWTVerifier { return d.verifier }

// Mint returns a token for subject acting as role for org, valid from now
// for ttl. The role and organisation must fit together as Verify requires,
// so a token that Mint returns is one Verify accepts.
func (d *DevKeys) Mint(subject string, role claims.AccessRole, org string, ttl time.Duration) (string, error) {
	if ttl <= 0 {
		return "", errors.New("auth: a token's lifetime must be positive")
	}
	if _, err := personIdentity(subject, role, org); err != nil {
		return "", err
	}
	now := time.Now().Truncate(time.Second)
	b := jwt.NewBuilder().
		Issuer(DevIssuer).
		Audience([]string{DevAudience}).
		Subject(subject).
		IssuedAt(now).
		NotBefore(now).
		Expiration(now.Add(ttl)).
		Claim(RoleClaim, string(role))
	if org != "" {
		b = b.Claim(OrgClaim, org)
	}
	tok, err := b.Build()
	if err != nil {
		return "", fmt.Errorf("auth: mint: %w", err)
	}
	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.KeyIDKey, d.kid); err != nil {
		return "", fmt.Errorf("auth: mint: %w", err)
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.EdDSA(), d.private, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		return "", fmt.Errorf("auth: mint: %w", err)
	}
	return string(signed), nil
}

func isDevKeyID(kid string) bool { return strings.HasPrefix(kid, DevKeyIDPrefix) }

// IsDevJWKS reports whether jwks, a JSON Web Key Set, holds a development
// key. Unparseable input is not a development set (and will not verify
// anything either).
func IsDevJWKS(jwks []byte) bool {
	set, err := jwk.Parse(jwks)
	if err != nil {
		return false
	}
	for i := range set.Len() {
		key, _ := set.Key(i)
		if kid, _ := key.KeyID(); isDevKeyID(kid) {
			return true
		}
	}
	return false
}

// RefuseDevKeys returns an error if cfg would trust development tokens: its
// issuer is DevIssuer, or its JWKS file holds a development key. Call it on
// production configuration before starting, for an early, plain error.
// It does not fetch a JWKS URL; NewJWTVerifier applies the same rules to
// every key set it loads, file or URL, and refuses any token naming a
// development kid, so this is an early check, not the only line of defence.
func RefuseDevKeys(cfg JWTConfig) error {
	if cfg.Issuer == DevIssuer {
		return fmt.Errorf("auth: issuer %q is the development issuer", DevIssuer)
	}
	if cfg.JWKSFile != "" {
		data, err := readBounded(cfg.JWKSFile)
		if err != nil {
			return fmt.Errorf("auth: JWKS file: %w", err)
		}
		if IsDevJWKS(data) {
			return fmt.Errorf("auth: JWKS file %s holds a development key (kid prefix %q)", cfg.JWKSFile, DevKeyIDPrefix)
		}
	}
	return nil
}
