package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/textproto"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/encoding/protojson"

	arrsv1 "arrs.nhs.uk/arrs/gen/arrs/v1"
	"arrs.nhs.uk/arrs/gen/openapi"
)

// newGateway returns the REST/JSON handler for the arrs.v1 API. It calls the
// gRPC server through conn, a client connection to the server's own
// listener, rather than the in-process Register…HandlerServer, so every REST
// request passes the same interceptors (auth, logging, metrics, error
// mapping) as a gRPC one. Each call carries the REST client's address,
// worked out with the trusted proxies (see clientaddr.go). conn must carry
// ifMatchUnary. The HTTP front
// around the mux (limits, strict input, CORS, compression, errors) is in
// gateway_http.go.
func newGateway(ctx context.Context, conn *grpc.ClientConn, opts RESTOptions, jwks []byte, logger *slog.Logger, trusted proxies) (http.Handler, error) {
	f := &restFront{
		// lowerCamelCase names, and every field with its zero value too
		// ("0" pence, false, "", [], enums by name), so a client never
		// has to know a default; unset messages stay absent rather than
		// null. Unknown input fields are refused by checkRequest, and
		// here too.
		json: &runtime.JSONPb{
			MarshalOptions:   protojson.MarshalOptions{UseProtoNames: false, EmitDefaultValues: true},
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
		},
		bindings: mustLoadBindings(),
		maxBody:  cmp.Or(opts.MaxBodyBytes, DefaultMaxBodyBytes),
		logger:   logger,
	}
	f.mux = runtime.NewServeMux(
		// First, so it wraps every route registered after it.
		runtime.WithMiddlewares(f.checkRequest),
		runtime.WithMarshalerOption(runtime.MIMEWildcard, f.json),
		withCSVExport(), // Accept: text/csv downloads ExportClaimLines as CSV
		runtime.WithIncomingHeaderMatcher(incomingHeader),
		runtime.WithOutgoingHeaderMatcher(outgoingHeader),
		runtime.WithMetadata(trusted.gatewayMetadata),
		runtime.WithForwardResponseOption(etagHeader),
		runtime.WithErrorHandler(f.errorHandler),
		runtime.WithRoutingErrorHandler(f.routingError),
		// Neither a form POST read as a GET nor X-HTTP-Method-Override: a
		// request's method is its method (and a form cannot stand in for
		// a JSON request across origins).
		runtime.WithDisablePathLengthFallback(),
		runtime.WithDisableHTTPMethodOverride(),
		// GET /healthz answers from the gRPC health service, for probes that
		// speak only HTTP.
		runtime.WithHealthzEndpoint(healthpb.NewHealthClient(conn)),
	)
	if err := errors.Join(
		arrsv1.RegisterOrganisationServiceHandlerClient(ctx, f.mux, arrsv1.NewOrganisationServiceClient(conn)),
		arrsv1.RegisterCatalogueServiceHandlerClient(ctx, f.mux, arrsv1.NewCatalogueServiceClient(conn)),
		arrsv1.RegisterFundingServiceHandlerClient(ctx, f.mux, arrsv1.NewFundingServiceClient(conn)),
		arrsv1.RegisterWorkforceServiceHandlerClient(ctx, f.mux, arrsv1.NewWorkforceServiceClient(conn)),
		arrsv1.RegisterAuditServiceHandlerClient(ctx, f.mux, arrsv1.NewAuditServiceClient(conn)),
		arrsv1.RegisterClaimServiceHandlerClient(ctx, f.mux, arrsv1.NewClaimServiceClient(conn)),
		arrsv1.RegisterReportingServiceHandlerClient(ctx, f.mux, arrsv1.NewReportingServiceClient(conn)),
		arrsv1.RegisterCpdServiceHandlerClient(ctx, f.mux, arrsv1.NewCpdServiceClient(conn)),
		f.mux.HandlePath(http.MethodGet, "/openapi.json", serveOpenAPI),
		serveJWKS(f.mux, jwks),
	); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	return f.handler(opts.CORSOrigins)
}

// incomingHeader forwards X-Request-Id to gRPC metadata under the name the
// request id interceptor reads. The gateway itself forwards Authorization as
// "authorization" metadata, so it needs no rule here. The client address
// header is the gateway's own to set: a request's Grpc-Metadata-X-Arrs-Client-Addr
// is dropped. Other headers keep the gateway's default treatment.
func incomingHeader(key string) (string, bool) {
	if textproto.CanonicalMIMEHeaderKey(key) == "X-Request-Id" {
		return requestIDHeader, true
	}
	name, ok := runtime.DefaultHeaderMatcher(key)
	if ok && strings.EqualFold(name, clientAddrHeader) {
		return "", false
	}
	return name, ok
}

// outgoingHeader returns the request id as a plain X-Request-Id response
// header, where HTTP clients and proxies look for it, and drops the rest of
// the gRPC response metadata (content-type and other transport details),
// which means nothing to a REST caller.
func outgoingHeader(key string) (string, bool) {
	if key == requestIDHeader {
		return "X-Request-Id", true
	}
	return "", false
}

// serveJWKS serves the development key set beside the API, where tools that
// verify arrs's development tokens expect it.
func serveJWKS(mux *runtime.ServeMux, jwks []byte) error {
	if jwks == nil {
		return nil
	}
	return mux.HandlePath(http.MethodGet, "/.well-known/jwks.json", func(w http.ResponseWriter, _ *http.Request, _ map[string]string) {
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write(jwks)
	})
}

// serveOpenAPI serves the OpenAPI 3.0 description of this API, embedded at
// build time from gen/openapi (make generate writes it).
func serveOpenAPI(w http.ResponseWriter, _ *http.Request, _ map[string]string) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openapi.JSON)
}
