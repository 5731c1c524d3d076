package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/klauspost/compress/gzhttp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/anypb"

	"arrs.nhs.uk/arrs/server/auth"
)

// RESTOptions tune the REST gateway's HTTP front. The zero value is a
// same-origin API with the default limits.
type RESTOptions struct {
	// MaxBodyBytes is the largest request body accepted; a larger one is
	// refused with 413 before it is read. 0 means DefaultMaxBodyBytes. arrs
	// has no bulk methods, so one limit serves every method.
	MaxBodyBytes int64
	// CORSOrigins are the browser origins ("https://console.example.nhs.uk")
	// allowed to call the API from another origin. Empty: same origin only,
	// and no CORS headers at all.
	CORSOrigins []string
}

// DefaultMaxBodyBytes is the request body limit unless configured: the
// largest arrs request (a PCN with its member practices, an approval with
// every line adjusted) is a few kilobytes.
const DefaultMaxBodyBytes = 1 << 20

// The REST server's timeouts and header limit: a slow or stalled client
// cannot hold a connection (and its goroutine) for long.
const (
	restReadHeaderTimeout = 10 * time.Second
	restReadTimeout       = 30 * time.Second
	restWriteTimeout      = 60 * time.Second
	restIdleTimeout       = 120 * time.Second
	restMaxHeaderBytes    = 64 << 10
	// gzipMinBytes: smaller responses are sent as they are; compressing
	// them saves less than it costs.
	gzipMinBytes = 1024
)

// newRESTServer returns the http.Server for the REST gateway, with its
// timeouts and header limit.
func newRESTServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: restReadHeaderTimeout,
		ReadTimeout:       restReadTimeout,
		WriteTimeout:      restWriteTimeout,
		IdleTimeout:       restIdleTimeout,
		MaxHeaderBytes:    restMaxHeaderBytes,
	}
}

// restFront is the HTTP side of the gateway: what happens to a request
// before it reaches grpc-gateway's mux, and how the mux's errors are
// written. In order, a request meets:
//
//  1. CORS (cors.go), which answers preflights;
//  2. gzip, for responses over gzipMinBytes;
//  3. the body limit: a declared length over it is 413 before a byte is
//     read, and a body that turns out longer stops being read at the limit;
//  4. the mux, which routes (405 with Allow, OPTIONS, HEAD: see routingError)
//     and then, before the handler decodes anything or authentication runs,
//     checkRequest (gateway_checks.go): media types, the body, unknown fields.
//
// So a request that is too large, of the wrong type or misspelt costs no
// more than its headers and at most MaxBodyBytes of memory, token or not.
type restFront struct {
	mux      *runtime.ServeMux
	json     runtime.Marshaler
	bindings map[string]binding
	maxBody  int64
	logger   *slog.Logger
}

// handler wraps the front in compression and CORS.
func (f *restFront) handler(corsOrigins []string) (http.Handler, error) {
	gzip, err := gzhttp.NewWrapper(
		gzhttp.MinSize(gzipMinBytes),
		gzhttp.EnableZstd(false),
		gzhttp.ContentTypes([]string{"application/json", csvMIME}),
	)
	if err != nil {
		return nil, err
	}
	return withCORS(gzip(f), corsOrigins)
}

// restRequestKey carries a *restRequest in a REST request's context.
type restRequestKey struct{}

// restRequest is what the front learns about a request that later steps,
// down to the gateway's gRPC client, need.
type restRequest struct {
	ifMatch ifMatch
	// etagApplied is set once If-Match has been put in the request
	// message as its etag, so the server checks it.
	etagApplied bool
}

func restRequestFrom(ctx context.Context) *restRequest {
	r, _ := ctx.Value(restRequestKey{}).(*restRequest)
	return r
}

func (f *restFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	state := &restRequest{ifMatch: parseIfMatch(r.Header.Values("If-Match"))}
	r = r.WithContext(context.WithValue(r.Context(), restRequestKey{}, state))
	if r.ContentLength > f.maxBody {
		f.fail(w, r, tooLarge(f.maxBody))
		return
	}
	if err := checkURLText(r); err != nil {
		f.fail(w, r, err)
		return
	}
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = http.MaxBytesReader(w, r.Body, f.maxBody)
	}
	f.mux.ServeHTTP(w, r)
}

// checkURLText refuses a path or query that decodes to invalid UTF-8: the
// gateway would copy it into a string field and fail to marshal the
// request, an internal error for what is the caller's mistake. Other text
// rules (control characters, lengths) are the gRPC server's, for both
// transports (textcheck.go).
func checkURLText(r *http.Request) error {
	bad := !utf8.ValidString(r.URL.Path)
	for k, vs := range r.URL.Query() {
		bad = bad || !utf8.ValidString(k) || slices.ContainsFunc(vs, func(v string) bool { return !utf8.ValidString(v) })
	}
	if !bad {
		return nil
	}
	return &runtime.HTTPStatusError{HTTPStatus: http.StatusBadRequest,
		Err: withInfo(codes.InvalidArgument, "the request's path or query is not valid UTF-8", "INVALID_UTF8").Err()}
}

func tooLarge(limit int64) error {
	return &runtime.HTTPStatusError{HTTPStatus: http.StatusRequestEntityTooLarge, Err: withInfo(codes.ResourceExhausted,
		fmt.Sprintf("the request body is larger than %d bytes", limit), "REQUEST_TOO_LARGE").Err()}
}

// fail answers a request the front refuses itself, before any gRPC call:
// in the same JSON shape as every other error, with a request id (the
// caller's, when it is usable) so it can be reported, and a log line.
func (f *restFront) fail(w http.ResponseWriter, r *http.Request, err error) {
	id := r.Header.Get("X-Request-Id")
	if !validRequestID(id) {
		id = uuid.NewString()
	}
	w.Header().Set("X-Request-Id", id)
	st := status.Convert(err)
	var hs *runtime.HTTPStatusError
	if errors.As(err, &hs) {
		st = status.Convert(hs.Err)
	}
	f.logger.InfoContext(r.Context(), "rest request refused", "method", r.Method, "path", r.URL.Path,
		"code", st.Code().String(), "reason", errorReason(st), "request_id", id)
	runtime.HTTPError(r.Context(), f.mux, f.json, w, r, err)
}

// errorHandler writes every error the mux raises or the gRPC server
// returns. It completes what the gateway's default handler writes:
//
//   - every error carries google.rpc.ErrorInfo, including the gateway's own
//     (malformed paths, routing): they get the code's name as reason;
//   - a stale If-Match is 412 (the server's ABORTED ETAG_MISMATCH, which a
//     stale etag in the body still answers with 409);
//   - 401 challenges with RFC 6750 Bearer parameters only: the default
//     handler would put the status message in WWW-Authenticate;
//   - 503 (UNAVAILABLE) says when to retry in Retry-After (RFC 9110
//     §10.2.3), from the status's RetryInfo.
func (f *restFront) errorHandler(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	httpStatus := 0
	var hs *runtime.HTTPStatusError
	if errors.As(err, &hs) {
		httpStatus, err = hs.HTTPStatus, hs.Err
	}
	st := ensureErrorInfo(status.Convert(err))
	if st.Code() == codes.Aborted && errorReason(st) == "ETAG_MISMATCH" {
		if req := restRequestFrom(r.Context()); req != nil && req.ifMatch.present {
			httpStatus = http.StatusPreconditionFailed
		}
	}
	err = st.Err()
	if httpStatus != 0 {
		err = &runtime.HTTPStatusError{HTTPStatus: httpStatus, Err: err}
	}
	if st.Code() == codes.Unauthenticated {
		w = &challengeWriter{ResponseWriter: w, challenge: bearerChallenge(errorReason(st))}
	}
	if st.Code() == codes.Unavailable {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(st)))
	}
	runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, err)
}

// retryAfterSeconds is st's RetryInfo delay in whole seconds, rounded up,
// or retryAfter's when it has none (the identity provider's keys could not
// be fetched).
func retryAfterSeconds(st *status.Status) int {
	delay := retryAfter
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok && ri.GetRetryDelay().IsValid() {
			delay = ri.GetRetryDelay().AsDuration()
		}
	}
	return int(max(1, (delay+time.Second-1)/time.Second))
}

// bearerChallenge is the WWW-Authenticate value for a 401 (RFC 6750 §3):
// a bare challenge when no credentials were sent, invalid_token when a
// token was refused. It never carries the reason's text.
func bearerChallenge(reason string) string {
	if reason == auth.ReasonCredentialsMissing {
		return `Bearer realm="arrs"`
	}
	return `Bearer realm="arrs", error="invalid_token"`
}

// challengeWriter sets WWW-Authenticate as a 401's header is written,
// after the default error handler has set its own.
type challengeWriter struct {
	http.ResponseWriter
	challenge string
}

func (w *challengeWriter) WriteHeader(code int) {
	if code == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", w.challenge)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *challengeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// ensureErrorInfo adds google.rpc.ErrorInfo to a status that has none (the
// gateway's own errors), with the code's name as its reason.
func ensureErrorInfo(st *status.Status) *status.Status {
	for _, d := range st.Details() {
		if _, ok := d.(*errdetails.ErrorInfo); ok {
			return st
		}
	}
	p := st.Proto()
	info, err := anypb.New(&errdetails.ErrorInfo{Reason: codeReason(st.Code()), Domain: errorDomain})
	if err != nil {
		return st
	}
	p.Details = append(p.Details, info)
	return status.FromProto(p)
}

func errorReason(st *status.Status) string {
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info.GetReason()
		}
	}
	return ""
}

// codeReason writes a code's name in UPPER_SNAKE: InvalidArgument →
// INVALID_ARGUMENT.
func codeReason(c codes.Code) string {
	var b strings.Builder
	for i, r := range c.String() {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
		}
		b.WriteRune(r)
	}
	return strings.ToUpper(b.String())
}

// allMethods are the HTTP methods a path may be bound to.
var allMethods = []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete}

// routingError answers a request the mux could not route. When the path
// exists under other methods (405), it lists them in Allow (RFC 9110
// §15.5.6), answers OPTIONS with 204 and Allow, and serves HEAD as GET
// without the body. The gateway's default would be 501 for all three.
func (f *restFront) routingError(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
	if _, ok := ctx.Value(probeKey{}).(*routeProbe); ok {
		return // not routed for this method: nothing to record
	}
	switch httpStatus {
	case http.StatusMethodNotAllowed:
		allowed := f.allowedMethods(r)
		if slices.Contains(allowed, http.MethodGet) {
			allowed = append(allowed, http.MethodHead)
		}
		allowed = append(allowed, http.MethodOptions)
		allow := strings.Join(allowed, ", ")
		switch {
		case r.Method == http.MethodOptions:
			w.Header().Set("Allow", allow)
			w.WriteHeader(http.StatusNoContent)
		case r.Method == http.MethodHead && slices.Contains(allowed, http.MethodGet):
			// net/http discards the body of a response to HEAD.
			get := r.Clone(ctx)
			get.Method = http.MethodGet
			mux.ServeHTTP(w, get)
		default:
			w.Header().Set("Allow", allow)
			f.fail(w, r, &runtime.HTTPStatusError{HTTPStatus: http.StatusMethodNotAllowed, Err: withInfo(codes.Unimplemented,
				r.Method+" is not allowed on "+r.URL.Path+"; allowed: "+allow, "METHOD_NOT_ALLOWED").Err()})
		}
	case http.StatusNotFound:
		f.fail(w, r, &runtime.HTTPStatusError{HTTPStatus: http.StatusNotFound,
			Err: withInfo(codes.NotFound, "no such path: "+r.URL.Path, "PATH_NOT_FOUND").Err()})
	default:
		f.fail(w, r, &runtime.HTTPStatusError{HTTPStatus: httpStatus,
			Err: withInfo(codes.InvalidArgument, http.StatusText(httpStatus), codeReason(codes.InvalidArgument)).Err()})
	}
}

// probeKey marks a request the front sends through the mux only to learn
// whether a method is routed for a path; checkRequest stops it as soon as
// a route matches, before any handler runs.
type probeKey struct{}

type routeProbe struct{ matched bool }

// allowedMethods asks the mux itself which methods it routes r's path to,
// so Allow can never disagree with the routes.
func (f *restFront) allowedMethods(r *http.Request) []string {
	var allowed []string
	for _, method := range allMethods {
		p := &routeProbe{}
		req := r.Clone(context.WithValue(r.Context(), probeKey{}, p))
		req.Method, req.Body, req.ContentLength = method, http.NoBody, 0
		f.mux.ServeHTTP(discardResponse{}, req)
		if p.matched {
			allowed = append(allowed, method)
		}
	}
	return allowed
}

// discardResponse is where a probe's (never written) response goes.
type discardResponse struct{}

func (discardResponse) Header() http.Header         { return http.Header{} }
func (discardResponse) Write(b []byte) (int, error) { return len(b), nil }
func (discardResponse) WriteHeader(int)             {}
