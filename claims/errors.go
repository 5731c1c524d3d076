package claims

import (
	"errors"
	"fmt"
	"strings"
)

// Kind classifies a domain error by what the caller can do about it. The
// server maps each kind to one gRPC status code in one place.
type Kind int

const (
	// KindInvalid: the request is malformed; Violations say which fields.
	KindInvalid Kind = iota + 1
	// KindNotFound: the resource does not exist (or is not the caller's).
	KindNotFound
	// KindAlreadyExists: a resource with that identity exists.
	KindAlreadyExists
	// KindConflict: the etag no longer matches; re-read and retry.
	KindConflict
	// KindFailedPrecondition: the request is well formed but the resource's
	// state forbids it.
	KindFailedPrecondition
	// KindPermissionDenied: the caller may see the resource but not do this.
	KindPermissionDenied
)

// Violation names one bad field and the rule it breaks.
type Violation struct {
	// Field is the request field path, for example "post.wte".
	Field string
	// Rule is a short UPPER_SNAKE name of the rule, for example "WTE_RANGE".
	Rule string
	// Description says what is wrong in words a clinical director understands.
	Description string
}

// Error is the one error type the domain returns for anything a caller did.
// Everything else (a lost connection, a bug) is an internal error.
type Error struct {
	Kind Kind
	// Reason is an UPPER_SNAKE identifier stable across releases, carried in
	// google.rpc.ErrorInfo.
	Reason  string
	Message string
	// Resource is the resource name concerned, when there is one.
	Resource   string
	Violations []Violation
}

func (e *Error) Error() string {
	if len(e.Violations) == 0 {
		return e.Message
	}
	parts := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		parts[i] = v.Field + ": " + v.Description
	}
	return e.Message + ": " + strings.Join(parts, "; ")
}

// AsError returns the domain error in err's chain, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// IsKind reports whether err is a domain error of kind k.
func IsKind(err error, k Kind) bool {
	e, ok := AsError(err)
	return ok && e.Kind == k
}

// NotFound says the named resource does not exist.
func NotFound(resource string) *Error {
	return &Error{Kind: KindNotFound, Reason: "RESOURCE_NOT_FOUND", Resource: resource,
		Message: fmt.Sprintf("%s not found", resource)}
}

// AlreadyExists says the named resource exists already.
func AlreadyExists(resource, message string) *Error {
	return &Error{Kind: KindAlreadyExists, Reason: "RESOURCE_EXISTS", Resource: resource, Message: message}
}

// EtagMismatch says the resource changed since the caller read it.
func EtagMismatch(resource string) *Error {
	return &Error{Kind: KindConflict, Reason: "ETAG_MISMATCH", Resource: resource,
		Message: fmt.Sprintf("%s has changed since it was read; get it again and retry", resource)}
}

// FailedPrecondition says the resource's state forbids the request.
func FailedPrecondition(resource, reason, message string) *Error {
	return &Error{Kind: KindFailedPrecondition, Reason: reason, Resource: resource, Message: message}
}

// PermissionDenied says the caller may not do this.
func PermissionDenied(message string) *Error {
	return &Error{Kind: KindPermissionDenied, Reason: "PERMISSION_DENIED", Message: message}
}

// Violations collects field violations while a request is checked, so the
// caller hears about every bad field at once rather than one per attempt.
type Violations []Violation

// Add records that field breaks rule.
func (vs *Violations) Add(field, rule, format string, args ...any) {
	*vs = append(*vs, Violation{Field: field, Rule: rule, Description: fmt.Sprintf(format, args...)})
}

// Take records the field violations of err, an INVALID error such as a
// name parser returns, so that a request's bad fields are reported together
// rather than one per attempt.
func (vs *Violations) Take(err error) {
	if e, ok := AsError(err); ok {
		*vs = append(*vs, e.Violations...)
	}
}

// Err returns an INVALID error carrying the violations, or nil if none.
func (vs Violations) Err() error {
	if len(vs) == 0 {
		return nil
	}
	return &Error{Kind: KindInvalid, Reason: "INVALID_ARGUMENT", Message: "the request has invalid fields", Violations: vs}
}

// Invalid is a single-field INVALID error.
func Invalid(field, rule, format string, args ...any) error {
	var vs Violations
	vs.Add(field, rule, format, args...)
	return vs.Err()
}
