package server

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/durationpb"

	"arrs.nhs.uk/arrs/claims"
)

// errorDomain is the google.rpc.ErrorInfo domain of every error arrs raises.
const errorDomain = "arrs.nhs.uk"

// kindCodes is the one table from domain error kinds to gRPC codes. ETag
// mismatches are ABORTED (AIP-154: re-read and retry), not FAILED_PRECONDITION
// (the state forbids the request; retrying will not help).
var kindCodes = map[claims.Kind]codes.Code{
	claims.KindInvalid:            codes.InvalidArgument,
	claims.KindNotFound:           codes.NotFound,
	claims.KindAlreadyExists:      codes.AlreadyExists,
	claims.KindConflict:           codes.Aborted,
	claims.KindFailedPrecondition: codes.FailedPrecondition,
	claims.KindPermissionDenied:   codes.PermissionDenied,
}

// toStatus is the one mapping from errors to gRPC statuses. Domain errors
// keep their message and gain ErrorInfo (and BadRequest for bad fields); a
// status made deliberately (an Unimplemented stub, a status from a library)
// passes through; a cancelled or expired request says so; a database that
// cannot be reached or is refusing work is UNAVAILABLE, worth a retry;
// anything else is an internal error. Neither of the last two shows the
// caller the error's text, because it may hold SQL or connection details.
// ctx is the request's context: lib/pq reports a cancelled query as its own
// error, so the context, not the error, tells whether the caller gave up.
// internal reports whether err was unexpected and so must be logged.
func toStatus(ctx context.Context, err error) (st *status.Status, internal bool) {
	if e, ok := claims.AsError(err); ok {
		if code, ok := kindCodes[e.Kind]; ok {
			return domainStatus(code, e), false
		}
		return internalStatus(), true
	}
	switch {
	case errors.Is(err, context.Canceled), errors.Is(ctx.Err(), context.Canceled):
		return withInfo(codes.Canceled, "the request was cancelled", "CANCELLED"), false
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return withInfo(codes.DeadlineExceeded, "the request ran out of time", "DEADLINE_EXCEEDED"), false
	case claims.DatabaseUnavailable(err), errors.Is(err, context.DeadlineExceeded):
		// A deadline that is not the caller's is arrs's own, waiting for
		// the database (a connection from the pool, a slow server).
		return unavailableStatus(), false
	}
	if st, ok := status.FromError(err); ok {
		return st, st.Code() == codes.Internal || st.Code() == codes.Unknown
	}
	return internalStatus(), true
}

func domainStatus(code codes.Code, e *claims.Error) *status.Status {
	st := status.New(code, e.Error())
	info := &errdetails.ErrorInfo{Reason: e.Reason, Domain: errorDomain}
	if e.Resource != "" {
		info.Metadata = map[string]string{"resource": e.Resource}
	}
	if len(e.Violations) == 0 {
		return mustWithDetails(st, info)
	}
	br := &errdetails.BadRequest{FieldViolations: make([]*errdetails.BadRequest_FieldViolation, len(e.Violations))}
	for i, v := range e.Violations {
		br.FieldViolations[i] = &errdetails.BadRequest_FieldViolation{Field: v.Field, Description: v.Description, Reason: v.Rule}
	}
	return mustWithDetails(st, info, br)
}

// retryAfter is how long a caller should wait before retrying a call
// refused as UNAVAILABLE: PostgreSQL restarts or fails over in seconds.
const retryAfter = 2 * time.Second

// unavailableStatus says the database is unavailable, with RetryInfo (which
// the gateway turns into Retry-After) and nothing of the underlying error.
func unavailableStatus() *status.Status {
	return mustWithDetails(status.New(codes.Unavailable, "the database is unavailable; retry shortly"),
		&errdetails.ErrorInfo{Reason: reasonDatabaseUnavailable, Domain: errorDomain},
		&errdetails.RetryInfo{RetryDelay: durationpb.New(retryAfter)})
}

// reasonDatabaseUnavailable is the ErrorInfo reason of unavailableStatus.
const reasonDatabaseUnavailable = "DATABASE_UNAVAILABLE"

func internalStatus() *status.Status {
	return withInfo(codes.Internal, "internal error", "INTERNAL")
}

func withInfo(code codes.Code, msg, reason string) *status.Status {
	return mustWithDetails(status.New(code, msg), &errdetails.ErrorInfo{Reason: reason, Domain: errorDomain})
}

// mustWithDetails attaches details, which fails only for an OK status or a
// message that cannot be marshalled: neither can happen here.
func mustWithDetails(st *status.Status, details ...protoadapt.MessageV1) *status.Status {
	withDetails, err := st.WithDetails(details...)
	if err != nil {
		panic(err)
	}
	return withDetails
}

// errorsUnary maps every handler error to a status with toStatus, so
// handlers return domain errors and never build statuses themselves. It sits
// innermost in the chain so logging and metrics see the mapped code.
func errorsUnary(logger *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		resp, err := handler(ctx, req)
		if err == nil {
			return resp, nil
		}
		st, internal := toStatus(ctx, err)
		switch {
		case internal:
			logger.ErrorContext(ctx, "internal error", "method", info.FullMethod, "request_id", requestIDFrom(ctx), "error", err)
		case errorReason(st) == reasonDatabaseUnavailable:
			// An outage is the operator's to see, but it is not a fault in
			// arrs: health and the error rate say so, at warn.
			logger.WarnContext(ctx, "database unavailable", "method", info.FullMethod, "request_id", requestIDFrom(ctx), "error", err)
		}
		return nil, st.Err()
	}
}
