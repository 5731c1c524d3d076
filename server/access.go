package server

import (
	"context"

	middleware "github.com/grpc-ecosystem/go-grpc-middleware/v2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"arrs.nhs.uk/arrs/claims"
	"arrs.nhs.uk/arrs/server/auth"
)

// Authenticator establishes who is calling from the request's credentials:
// a bearer token in the metadata (forwarded by the gateway from the
// Authorization header) or a client certificate.
type Authenticator interface {
	Authenticate(ctx context.Context) (auth.Identity, error)
}

// access is the policy the access interceptors apply: the fixed
// rpcPermissions, plus what this server's configuration adds (reflection,
// which is open, authenticated or absent depending on the environment).
type access struct {
	authn Authenticator
	extra map[string]permission
}

func newAccess(authn Authenticator, reflection ReflectionAccess) access {
	return access{authn: authn, extra: reflectionPermissions(reflection)}
}

// need returns the permission method needs, and false for a method the
// policy does not know, which nobody may call (default deny).
func (a access) need(method string) (permission, bool) {
	if p, ok := rpcPermissions[method]; ok {
		return p, true
	}
	p, ok := a.extra[method]
	return p, ok
}

// authorize authenticates the caller, applies the policy and returns a
// context carrying the claims.Actor that the store scopes queries by and
// writes into the audit trail. A missing or bad credential is
// UNAUTHENTICATED; a caller the policy does not allow, or a method it does
// not know, is PERMISSION_DENIED. Neither message repeats the credential.
// Authentication comes before the unknown-method check so that an
// anonymous caller learns nothing about which methods exist.
func (a access) authorize(ctx context.Context, method string) (context.Context, error) {
	need, known := a.need(method)
	if known && need == public {
		return ctx, nil
	}
	id, err := a.authn.Authenticate(ctx)
	if err != nil {
		reason := auth.Reason(err)
		code := codes.Unauthenticated
		if reason == auth.ReasonKeysUnavailable {
			// The identity provider's keys could not be fetched: not the
			// caller's fault, and worth a retry.
			code = codes.Unavailable
		}
		return nil, withInfo(code, "authentication failed: "+reason, reason).Err()
	}
	if !known || !permits(need, id.Role, id.Permissions) {
		return nil, withInfo(codes.PermissionDenied,
			"a "+string(id.Role)+" may not call "+method, "PERMISSION_DENIED").Err()
	}
	actor := claims.Actor{
		Subject:   id.Subject,
		Role:      id.Role,
		OrgKind:   id.OrgKind,
		OrgCode:   id.OrgCode,
		RPC:       method,
		RequestID: requestIDFrom(ctx),
	}
	noteCaller(ctx, actor)
	return claims.WithActor(ctx, actor), nil
}

// accessUnary applies the policy to unary calls (see access.authorize).
func accessUnary(a access) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, err := a.authorize(ctx, info.FullMethod)
		if err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// accessStream applies the same policy to streaming calls before the
// handler sees the first message: health Watch is public by a policy line
// like Check's, reflection as configured, and a streaming RPC added
// without a policy line is refused, as a unary one is.
func accessStream(a access) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, err := a.authorize(ss.Context(), info.FullMethod)
		if err != nil {
			return err
		}
		w := middleware.WrapServerStream(ss)
		w.WrappedContext = ctx
		return handler(srv, w)
	}
}
