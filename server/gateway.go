package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/encoding/protojson"

	arrsv1 "arrs.nhs.uk/arrs/gen/arrs/v1"
)

// newGateway returns the REST/JSON handler for the arrs.v1 API. It calls the
// gRPC server through conn, a client connection to the server's own
// listener, rather than the in-process Register…HandlerServer, so every REST
// request passes the same interceptors (auth, logging, metrics, error
// mapping) as a gRPC one. Each call carries the REST client's address,
// worked out with the trusted proxies (see clientaddr.go).
func newGateway(ctx context.Context, conn *grpc.ClientConn, trusted proxies) (http.Handler, error) {
	mux := runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, &runtime.JSONPb{
			// lowerCamelCase names, and no fields the server left unset, as
			// the OpenAPI description says.
			MarshalOptions: protojson.MarshalOptions{UseProtoNames: false, EmitUnpopulated: false},
			// Unknown input fields are ignored so an older server accepts a
			// newer client's requests.
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: true},
		}),
		withCSVExport(), // Accept: text/csv downloads ExportClaimLines as CSV
		runtime.WithIncomingHeaderMatcher(incomingHeader),
		runtime.WithOutgoingHeaderMatcher(outgoingHeader),
		runtime.WithMetadata(trusted.gatewayMetadata),
		// GET /healthz answers from the gRPC health service, for probes that
		// speak only HTTP.
		runtime.WithHealthzEndpoint(healthpb.NewHealthClient(conn)),
	)
	if err := errors.Join(
		arrsv1.RegisterOrganisationServiceHandlerClient(ctx, mux, arrsv1.NewOrganisationServiceClient(conn)),
		arrsv1.RegisterCatalogueServiceHandlerClient(ctx, mux, arrsv1.NewCatalogueServiceClient(conn)),
		arrsv1.RegisterFundingServiceHandlerClient(ctx, mux, arrsv1.NewFundingServiceClient(conn)),
		arrsv1.RegisterWorkforceServiceHandlerClient(ctx, mux, arrsv1.NewWorkforceServiceClient(conn)),
		arrsv1.RegisterAuditServiceHandlerClient(ctx, mux, arrsv1.NewAuditServiceClient(conn)),
		arrsv1.RegisterClaimServiceHandlerClient(ctx, mux, arrsv1.NewClaimServiceClient(conn)),
	); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	return mux, nil
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

// withJWKS serves the development key set beside the API, where tools that
// verify arrs's development tokens expect it.
func withJWKS(next http.Handler, jwks []byte) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write(jwks)
	})
	mux.Handle("/", next)
	return mux
}
