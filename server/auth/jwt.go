package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"arrs.nhs.uk/arrs/claims"
)

// JWTConfig says which tokens a JWTVerifier accepts. Exactly one of
// JWKSFile and JWKSURL names the identity provider's public keys.
type JWTConfig struct {
	// Issuer must equal the token's "iss" exactly.
	Issuer string
	// Audience must be among the token's "aud" values.
	Audience string
	// JWKSFile is a JSON Web Key Set file, re-read every RefreshInterval
	// and swapped in when its contents change.
	JWKSFile string
	// JWKSURL is the identity provider's key set (its jwks_uri). It must be
	// https, except on a loopback host. It is fetched before
	// NewJWTVerifier returns and then every RefreshInterval.
	JWKSURL string
	// RefreshInterval is how often the key set is refreshed; 0 means 5
	// minutes. Identity providers publish a new key well before signing
	// with it, so the interval only has to be shorter than that lead time.
	RefreshInterval time.Duration
	// Skew is the clock difference tolerated on exp, nbf and iat; 0 means
	// 30 seconds. At most 5 minutes, since it lengthens every token's life.
	Skew time.Duration
	// Logger reports key set refreshes that fail (the verifier keeps the
	// last good set); nil means slog.Default().
	Logger *slog.Logger
}

const (
	defaultRefreshInterval = 5 * time.Minute
	defaultSkew            = 30 * time.Second
	maxSkew                = 5 * time.Minute
	// maxTokenBytes bounds the work an unauthenticated caller can ask of
	// the parser. Real access tokens are 1–3 KB; gRPC's default metadata
	// limit is 8 KB.
	maxTokenBytes = 8 << 10
)

// JWTVerifier verifies bearer tokens against a key set and turns them into
// Identities. It is safe for concurrent use.
type JWTVerifier struct {
	issuer   string
	audience string
	skew     time.Duration
	keys     keySource
	// allowDev is true only for DevKeys's own verifier; every other
	// verifier refuses development keys and the development issuer.
	allowDev bool
	// now is the clock exp, nbf and iat are checked against; nil is
	// time.Now.
	now func() time.Time
	// verified remembers tokens that passed (tokencache.go).
	verified tokenCache
}

func (v *JWTVerifier) clock() time.Time {
	if v.now != nil {
		return v.now()
	}
	return time.Now()
}

// NewJWTVerifier loads cfg's key set and returns a verifier for it. Loading
// fails, rather than starting a server that can authenticate nobody, when
// the key set cannot be read or fetched (a URL gets 30 seconds), holds no
// usable key, holds private or symmetric key material, or holds a
// development key; the development issuer is refused too (see
// RefuseDevKeys).
//
// The key set is refreshed in the background until ctx is done; after that
// the verifier keeps verifying against the last set it had. A refresh that
// fails, or yields an unusable set, is logged and the previous set kept.
func NewJWTVerifier(ctx context.Context, cfg JWTConfig) (*JWTVerifier, error) {
	if cfg.Issuer == "" || cfg.Audience == "" {
		return nil, errors.New("auth: a JWT issuer and audience are required")
	}
	if cfg.Issuer == DevIssuer {
		return nil, fmt.Errorf("auth: issuer %q is the development issuer; it is not accepted outside development mode", DevIssuer)
	}
	skew, err := skewOf(cfg.Skew)
	if err != nil {
		return nil, err
	}
	interval := cfg.RefreshInterval
	switch {
	case interval == 0:
		interval = defaultRefreshInterval
	case interval < time.Second:
		return nil, errors.New("auth: the key set refresh interval must be at least a second")
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	var keys keySource
	switch {
	case cfg.JWKSFile != "" && cfg.JWKSURL != "":
		return nil, errors.New("auth: give a JWKS file or a JWKS URL, not both")
	case cfg.JWKSFile != "":
		keys, err = newFileKeys(ctx, cfg.JWKSFile, interval, logger)
	case cfg.JWKSURL != "":
		keys, err = newURLKeys(ctx, cfg.JWKSURL, interval, logger)
	default:
		return nil, errors.New("auth: a JWKS file or a JWKS URL is required")
	}
	if err != nil {
		return nil, err
	}
	return &JWTVerifier{issuer: cfg.Issuer, audience: cfg.Audience, skew: skew, keys: keys}, nil
}

func skewOf(d time.Duration) (time.Duration, error) {
	switch {
	case d == 0:
		return defaultSkew, nil
	case d < 0 || d > maxSkew:
		return 0, fmt.Errorf("auth: the clock skew allowance must be between 0 and %s", maxSkew)
	}
	return d, nil
}

// Refresh reloads the key set now, for an operator who has just rotated a
// key (on SIGHUP, say) and does not want to wait for the next refresh.
func (v *JWTVerifier) Refresh(ctx context.Context) error { return v.keys.refresh(ctx) }

// Verify checks token, the compact JWS from an "Authorization: Bearer"
// header, and returns the identity it carries. In order:
//
//  1. the token is a compact JWS of sensible size;
//  2. its header names an accepted algorithm (RS256, ES256, EdDSA) and the
//     kid of a key in the set whose type, curve and size fit that algorithm
//     and whose own "alg", if any, is the same; the header's algorithm alone
//     is never trusted, so alg "none" and HS256-with-a-public-key fail here;
//  3. the signature verifies under that key;
//  4. iss and aud match, exp is present and not passed, nbf and iat are not
//     ahead, each allowing for the configured skew;
//  5. sub, arrs_role and arrs_org describe a valid person (see Identity).
//
// Failures are *Errors whose messages never contain the token.
func (v *JWTVerifier) Verify(ctx context.Context, token string) (Identity, error) {
	if token == "" {
		return Identity{}, ErrCredentialsMissing
	}
	if len(token) > maxTokenBytes || strings.Count(token, ".") != 2 {
		return Identity{}, tokenInvalid("not a compact JWS of at most 8 KiB")
	}
	set, err := v.keys.current()
	if err != nil {
		return Identity{}, &Error{Reason: ReasonKeysUnavailable, detail: "no key set loaded", cause: err}
	}
	now := v.clock()
	if id, ok := v.verified.get(token, set, now); ok {
		return id, nil
	}
	kp := &keyProvider{set: set, allowDev: v.allowDev}
	payload, err := jws.Verify([]byte(token),
		jws.WithCompact(),
		jws.WithKeyProvider(kp),
		// The provider already offers the key only under the header's
		// algorithm; this makes the library check it again.
		jws.WithAlgorithmMatch(true),
		// arrs understands no critical header extensions, so a token that
		// declares one must be refused (RFC 7515 §4.1.11).
		jws.WithCritValidation(true),
		jws.WithContext(ctx),
	)
	if err != nil {
		// The library's message may quote header values; the provider's
		// reason is ours and fixed.
		if kp.failure != "" {
			return Identity{}, tokenInvalid(kp.failure)
		}
		return Identity{}, tokenInvalid("signature does not verify")
	}
	// The claims are decoded from the verified payload as plain JSON rather
	// than handed to jwt.Parse, which would accept a nested JWS unverified.
	tok := jwt.New()
	if err := json.Unmarshal(payload, tok); err != nil {
		return Identity{}, tokenInvalid("claims are not a JSON object of valid JWT claims")
	}
	if err := jwt.Validate(tok,
		jwt.WithIssuer(v.issuer),
		jwt.WithAudience(v.audience),
		jwt.WithRequiredClaim(jwt.ExpirationKey),
		jwt.WithAcceptableSkew(v.skew),
		jwt.WithClock(jwt.ClockFunc(func() time.Time { return now })),
	); err != nil {
		return Identity{}, validationFailure(err)
	}
	id, err := identityFromToken(tok)
	if err != nil {
		return id, err
	}
	if exp, ok := tok.Expiration(); ok {
		v.verified.put(token, set, id, exp.Add(v.skew))
	}
	return id, nil
}

// validationFailure names which claim check failed, without the library's
// message.
func validationFailure(err error) *Error {
	switch {
	case errors.Is(err, jwt.TokenExpiredError()):
		return failure(ReasonTokenExpired, "exp has passed")
	case errors.Is(err, jwt.TokenNotYetValidError()):
		return failure(ReasonTokenNotYetValid, "nbf is in the future")
	case errors.Is(err, jwt.InvalidIssuedAtError()):
		return tokenInvalid("iat is in the future")
	case errors.Is(err, jwt.InvalidIssuerError()):
		return tokenInvalid("iss is not the configured issuer")
	case errors.Is(err, jwt.InvalidAudienceError()):
		return tokenInvalid("aud does not include the configured audience")
	case errors.Is(err, jwt.MissingRequiredClaimError()):
		return tokenInvalid("exp is missing")
	}
	return tokenInvalid("claims do not validate")
}

func identityFromToken(tok jwt.Token) (Identity, error) {
	subject, _ := tok.Subject()
	role, err := stringClaim(tok, RoleClaim)
	if err != nil {
		return Identity{}, err
	}
	if role == "" {
		return Identity{}, claimsInvalid(RoleClaim + " is missing")
	}
	org, err := stringClaim(tok, OrgClaim)
	if err != nil {
		return Identity{}, err
	}
	return personIdentity(subject, claims.AccessRole(role), org)
}

// stringClaim returns a private claim that must be a string, or "" when
// the token does not carry it.
func stringClaim(tok jwt.Token, name string) (string, error) {
	if !tok.Has(name) {
		return "", nil
	}
	var s string
	if err := tok.Get(name, &s); err != nil {
		return "", claimsInvalid(name + " is not a string")
	}
	return s, nil
}
