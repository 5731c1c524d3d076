package auth

import "errors"

// The reasons an authentication fails. They go into the UNAUTHENTICATED
// status's ErrorInfo, so they are part of the API: a client may act on them
// (TOKEN_EXPIRED: fetch a new token), and they say no more than the client
// can already know about its own credential.
const (
	// ReasonCredentialsMissing: no bearer token and no client certificate.
	ReasonCredentialsMissing = "CREDENTIALS_MISSING"
	// ReasonTokenInvalid: the token is malformed, its signature does not
	// verify against the key set, its algorithm or key is not accepted, or
	// its issuer or audience is not arrs's.
	ReasonTokenInvalid = "TOKEN_INVALID"
	// ReasonTokenExpired: the token's exp has passed (allowing for skew).
	ReasonTokenExpired = "TOKEN_EXPIRED"
	// ReasonTokenNotYetValid: the token's nbf is still ahead (allowing for
	// skew); usually a clock out of step.
	ReasonTokenNotYetValid = "TOKEN_NOT_YET_VALID"
	// ReasonClaimsInvalid: a genuine token whose sub, arrs_role or arrs_org
	// is missing or does not fit together; the identity provider's mapping
	// needs fixing, not the client.
	ReasonClaimsInvalid = "TOKEN_CLAIMS_INVALID"
	// ReasonServiceAccountUnknown: a client certificate was presented but
	// names no configured service account.
	ReasonServiceAccountUnknown = "SERVICE_ACCOUNT_UNKNOWN"
	// ReasonKeysUnavailable: arrs has no usable key set to verify tokens
	// against. The caller is not at fault; the server may prefer to map this
	// one to UNAVAILABLE.
	ReasonKeysUnavailable = "KEYS_UNAVAILABLE"
)

// Error is an authentication failure. Reason is one of the Reason…
// constants, for the caller; Error() adds a detail for the server's logs.
// Neither ever contains the credential: details are fixed phrases, and claim
// values only from tokens whose signature has verified.
type Error struct {
	Reason string
	detail string
	// cause is kept only for failures that cannot carry token content (key
	// set loading), so errors.Is can see, say, a cancelled context.
	cause error
}

func (e *Error) Error() string {
	if e.detail == "" {
		return "auth: " + e.Reason
	}
	return "auth: " + e.Reason + ": " + e.detail
}

func (e *Error) Unwrap() error { return e.cause }

// Is makes every *Error match ErrUnauthenticated, and match the sentinel of
// its own reason (errors.Is(err, ErrTokenExpired)) whatever its detail.
func (e *Error) Is(target error) bool {
	if target == ErrUnauthenticated {
		return true
	}
	t, ok := target.(*Error)
	return ok && t.detail == "" && t.cause == nil && t.Reason == e.Reason
}

// ErrUnauthenticated matches every authentication failure.
var ErrUnauthenticated = errors.New("auth: unauthenticated")

// Sentinels, one per reason, for errors.Is.
var (
	ErrCredentialsMissing    = &Error{Reason: ReasonCredentialsMissing}
	ErrTokenInvalid          = &Error{Reason: ReasonTokenInvalid}
	ErrTokenExpired          = &Error{Reason: ReasonTokenExpired}
	ErrTokenNotYetValid      = &Error{Reason: ReasonTokenNotYetValid}
	ErrClaimsInvalid         = &Error{Reason: ReasonClaimsInvalid}
	ErrServiceAccountUnknown = &Error{Reason: ReasonServiceAccountUnknown}
	ErrKeysUnavailable       = &Error{Reason: ReasonKeysUnavailable}
)

// reasonUnexpected is Reason's answer for an error this package did not make.
const reasonUnexpected = "UNAUTHENTICATED"

// Reason returns err's reason for the UNAUTHENTICATED status: the Reason of
// the *Error in its chain, "UNAUTHENTICATED" for any other error, "" for nil.
func Reason(err error) string {
	if err == nil {
		return ""
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Reason
	}
	return reasonUnexpected
}

func failure(reason, detail string) *Error { return &Error{Reason: reason, detail: detail} }

func tokenInvalid(detail string) *Error { return failure(ReasonTokenInvalid, detail) }

func claimsInvalid(detail string) *Error { return failure(ReasonClaimsInvalid, detail) }
