package server

import (
	"context"

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

// accessUnary authenticates the caller, applies the policy and hands the
// handler a context carrying the claims.Actor that the store scopes queries
// by and writes into the audit trail. A missing or bad credential is
// UNAUTHENTICATED; a caller the policy does not allow is PERMISSION_DENIED.
// Neither message repeats the credential.
func accessUnary(authn Authenticator) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if isPublic(info.FullMethod) {
			return handler(ctx, req)
		}
		id, err := authn.Authenticate(ctx)
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
		if !allowed(info.FullMethod, id.Role, id.Permissions) {
			return nil, withInfo(codes.PermissionDenied,
				"a "+string(id.Role)+" may not call "+info.FullMethod, "PERMISSION_DENIED").Err()
		}
		actor := claims.Actor{
			Subject:   id.Subject,
			Role:      id.Role,
			OrgKind:   id.OrgKind,
			OrgCode:   id.OrgCode,
			RPC:       info.FullMethod,
			RequestID: requestIDFrom(ctx),
		}
		noteCaller(ctx, actor)
		return handler(claims.WithActor(ctx, actor), req)
	}
}
