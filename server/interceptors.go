package server

import (
	"context"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/google/uuid"
	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	middleware "github.com/grpc-ecosystem/go-grpc-middleware/v2"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"arrs.nhs.uk/arrs/claims"
)

// requestIDHeader carries a request's correlation id in gRPC metadata and, via
// the gateway, in HTTP headers, in both directions.
const requestIDHeader = "x-request-id"

// interceptorOptions returns the server's interceptor chain, outermost first:
//
//  1. recovery turns a panic anywhere below into INTERNAL, so one bad request
//     cannot take the process down;
//  2. request id gives every log line of a call one id to correlate;
//  3. logging and 4. metrics see every call, with the final status code;
//     the log line names the trace, the client (see clientaddr.go) and the
//     caller, whom access notes for it;
//  5. decoding refuses a request the codec could not parse (codec.go);
//  6. access authenticates the caller, applies the policy and attaches the
//     claims.Actor before any handler runs;
//  7. error mapping turns domain errors into statuses, so the code logged
//     and counted is the one the caller receives;
//  8. the text check (textcheck.go) refuses bad strings, innermost, so its
//     violations are mapped like a handler's.
//
// The arrs.v1 API is unary; the stream chain serves health Watch and
// reflection, which raise no domain errors, but passes the same access
// policy, so a streaming method without a policy line is refused.
//
// Spans come before all of these, from the stats handler (tracing.go).
func interceptorOptions(logger *slog.Logger, metrics *grpcprom.ServerMetrics, policy access, trusted proxies) []grpc.ServerOption {
	recoverOpt := recovery.WithRecoveryHandlerContext(recoverPanic(logger))
	codec := newRequestCodec()
	return []grpc.ServerOption{
		grpc.ForceServerCodecV2(codec),
		grpc.ChainUnaryInterceptor(
			recovery.UnaryServerInterceptor(recoverOpt),
			requestIDUnary,
			logUnary(logger, trusted),
			metrics.UnaryServerInterceptor(),
			decodeUnary(codec),
			accessUnary(policy),
			errorsUnary(logger),
			textUnary,
		),
		grpc.ChainStreamInterceptor(
			recovery.StreamServerInterceptor(recoverOpt),
			requestIDStream,
			logStream(logger, trusted),
			metrics.StreamServerInterceptor(),
			decodeStream(codec),
			accessStream(policy),
		),
	}
}

func recoverPanic(logger *slog.Logger) recovery.RecoveryHandlerFuncContext {
	return func(ctx context.Context, p any) error {
		method, _ := grpc.Method(ctx)
		logger.ErrorContext(ctx, "panic", "method", method, "panic", p, "stack", string(debug.Stack()))
		return internalStatus().Err()
	}
}

type requestIDKey struct{}

// requestIDFrom returns the request's correlation id, or "" outside a call.
func requestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// withRequestID adopts the caller's x-request-id when it looks like an id
// (so a client's or proxy's id follows the request through arrs) and makes a
// new one otherwise, and returns it to the caller in the response header.
func withRequestID(ctx context.Context) context.Context {
	var id string
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if vs := md.Get(requestIDHeader); len(vs) > 0 && validRequestID(vs[0]) {
			id = vs[0]
		}
	}
	if id == "" {
		id = uuid.NewString()
	}
	// SetHeader fails only when ctx is not a server call, which a server
	// interceptor's ctx always is.
	_ = grpc.SetHeader(ctx, metadata.Pairs(requestIDHeader, id))
	return context.WithValue(ctx, requestIDKey{}, id)
}

// validRequestID accepts short ids of URL-safe characters, which UUIDs and
// the usual proxy ids are; anything else could forge log fields or bloat
// every log line, so it is replaced.
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_.:", c)) {
			return false
		}
	}
	return true
}

func requestIDUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	return handler(withRequestID(ctx), req)
}

func requestIDStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	w := middleware.WrapServerStream(ss)
	w.WrappedContext = withRequestID(ss.Context())
	return handler(srv, w)
}

func logUnary(logger *slog.Logger, trusted proxies) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		ctx, who := withCallerNote(ctx)
		resp, err := handler(ctx, req)
		logCall(ctx, logger, trusted, info.FullMethod, start, who, err)
		return resp, err
	}
}

func logStream(logger *slog.Logger, trusted proxies) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		start := time.Now()
		ctx, who := withCallerNote(ss.Context())
		w := middleware.WrapServerStream(ss)
		w.WrappedContext = ctx
		err := handler(srv, w)
		logCall(ctx, logger, trusted, info.FullMethod, start, who, err)
		return err
	}
}

// callerNote is where the access interceptor, further in, leaves the
// caller it authenticated for the log line written further out.
type callerNote struct {
	actor claims.Actor
	ok    bool
}

type callerNoteKey struct{}

func withCallerNote(ctx context.Context) (context.Context, *callerNote) {
	n := new(callerNote)
	return context.WithValue(ctx, callerNoteKey{}, n), n
}

// noteCaller records the authenticated caller for the call's log line.
func noteCaller(ctx context.Context, a claims.Actor) {
	if n, ok := ctx.Value(callerNoteKey{}).(*callerNote); ok {
		n.actor, n.ok = a, true
	}
}

// logCall writes one line per call: the method and outcome, the request
// and trace ids, how the call came (grpc or rest) and from which client,
// and who the caller was once authenticated. Health checks log at debug
// level: orchestrators probe every few seconds and would drown everything
// else.
func logCall(ctx context.Context, logger *slog.Logger, trusted proxies, method string, start time.Time, who *callerNote, err error) {
	code := status.Code(err)
	level := slog.LevelInfo
	switch {
	case strings.HasPrefix(method, "/grpc.health.v1.Health/"):
		level = slog.LevelDebug
	case serverFault(code):
		level = slog.LevelError
	}
	attrs := []slog.Attr{
		slog.String("method", method),
		slog.String("code", code.String()),
		slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
		slog.String("request_id", requestIDFrom(ctx)),
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		attrs = append(attrs, slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	via, client := trusted.callOrigin(ctx)
	attrs = append(attrs, slog.String("via", via))
	if client.IsValid() {
		attrs = append(attrs, slog.String("client", client.String()))
		trace.SpanFromContext(ctx).SetAttributes(semconv.ClientAddress(client.String()))
	}
	if who != nil && who.ok {
		attrs = append(attrs,
			slog.String("subject", who.actor.Subject),
			slog.String("role", string(who.actor.Role)),
			slog.String("org", who.actor.Organisation()))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", status.Convert(err).Message()))
	}
	logger.LogAttrs(ctx, level, "call", attrs...)
}

// serverFault reports whether code means arrs, not the caller, is at fault.
func serverFault(code codes.Code) bool {
	switch code {
	case codes.Internal, codes.Unknown, codes.DataLoss, codes.Unavailable, codes.Unimplemented:
		return true
	}
	return false
}
