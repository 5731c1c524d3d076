package server

import (
	"context"
	"slices"

	"google.golang.org/grpc"
)

// RoleNationalAdministrator may read and change everything: the role catalogue,
// funding and every commissioner's and PCN's records.
const RoleNationalAdministrator = "national-administrator"

// Principal is who is making a request, as established by the auth
// interceptor. Handlers read it with PrincipalFrom to decide what the caller
// may see and do (slices.Contains(p.Roles, role)).
type Principal struct {
	// Subject identifies the caller (a user or a service).
	Subject string
	// Roles are the caller's roles, for example RoleNationalAdministrator.
	Roles []string
	// Organisation is the resource name of the organisation the caller acts
	// for (a commissioner or a PCN); empty for national roles.
	Organisation string
}

type principalKey struct{}

// PrincipalFrom returns the caller of the request ctx belongs to. It is
// false only outside a request that passed the auth interceptor.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

func withPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// developmentPrincipal is the caller every request is attributed to until
// the service authenticates callers.
var developmentPrincipal = Principal{Subject: "local-dev", Roles: []string{RoleNationalAdministrator}}

// authUnary is the authentication seam: it attaches the Principal for the
// request. For now it attaches developmentPrincipal to every request without
// looking at credentials, so arrsd must not be exposed beyond localhost. The
// identity work (JWT bearer tokens from the gateway's forwarded
// Authorization header, mTLS client certificates) replaces this function,
// returning UNAUTHENTICATED when credentials are missing or invalid; nothing
// downstream changes because handlers see only PrincipalFrom.
func authUnary() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		p := developmentPrincipal
		// A copy of Roles, so no handler can change another request's roles.
		p.Roles = slices.Clone(p.Roles)
		return handler(withPrincipal(ctx, p), req)
	}
}
