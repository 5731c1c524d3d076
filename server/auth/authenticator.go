package auth

import (
	"context"
	"maps"
	"strings"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
)

// authorizationKey is the metadata key of the bearer token. gRPC lower-cases
// metadata keys; the REST gateway forwards the HTTP Authorization header
// under this key.
const authorizationKey = "authorization"

// Authenticator establishes the caller of a gRPC call from its credentials.
// It is safe for concurrent use.
type Authenticator struct {
	verifier *JWTVerifier
	accounts map[string]ServiceAccount
}

// NewAuthenticator returns an Authenticator that verifies bearer tokens
// with verifier (nil: bearer tokens are refused) and maps verified client
// certificates to accounts (nil or empty: no service accounts).
func NewAuthenticator(verifier *JWTVerifier, accounts map[string]ServiceAccount) *Authenticator {
	return &Authenticator{verifier: verifier, accounts: maps.Clone(accounts)}
}

// Authenticate returns the identity of the call ctx belongs to:
//
//  1. an "authorization: Bearer <token>" metadata entry is verified, and
//     decides the outcome: a bad token fails even if the connection also
//     has a good client certificate, since a caller who sends a token means
//     to be its subject;
//  2. otherwise a client certificate verified by the TLS handshake is
//     mapped to its configured service account (IdentityFromTLS);
//  3. otherwise the call is unauthenticated (ErrCredentialsMissing).
//
// A certificate counts only if its account is configured. That matters for
// the REST gateway, whose own connection to the gRPC server carries a
// browser's forwarded token: the gateway must connect with no client
// certificate (as it does, over an in-memory listener), so a REST request
// without a token is CREDENTIALS_MISSING and never runs as the gateway.
//
// Errors are *Error; their messages never contain the token.
func (a *Authenticator) Authenticate(ctx context.Context) (Identity, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	switch values := md.Get(authorizationKey); len(values) {
	case 0:
	case 1:
		token, err := bearerToken(values[0])
		if err != nil {
			return Identity{}, err
		}
		if a.verifier == nil {
			return Identity{}, tokenInvalid("bearer tokens are not accepted by this server")
		}
		return a.verifier.Verify(ctx, token)
	default:
		// Two values are ambiguous (an Authorization header sent twice, or
		// smuggled in under another name the gateway forwards), and
		// choosing either would let a caller pick which one is checked.
		return Identity{}, tokenInvalid("more than one authorization value")
	}
	p, ok := peer.FromContext(ctx)
	if !ok {
		return Identity{}, ErrCredentialsMissing
	}
	tlsInfo, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(tlsInfo.State.PeerCertificates) == 0 {
		return Identity{}, ErrCredentialsMissing
	}
	id, ok := IdentityFromTLS(tlsInfo.State, a.accounts)
	if !ok {
		return Identity{}, failure(ReasonServiceAccountUnknown,
			"client certificate is unverified, or names no configured service account ("+ServiceIDPrefix+"NAME)")
	}
	return id, nil
}

// bearerToken returns the token of an Authorization value "Bearer <token>".
// The scheme is case-insensitive (RFC 9110 §11.1); the token itself is
// checked by the verifier.
func bearerToken(value string) (string, error) {
	scheme, token, ok := strings.Cut(value, " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return "", tokenInvalid("authorization is not a Bearer token")
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return "", tokenInvalid("Bearer with no token")
	}
	return token, nil
}
