package server

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	"arrs.nhs.uk/arrs/claims"
	"arrs.nhs.uk/arrs/internal/pgtest"
)

// listServices asks reflection for the service list as token ("" for no
// credentials) and returns the call's code.
func listServices(ctx context.Context, conn *grpc.ClientConn, token string) codes.Code {
	if token != "" {
		ctx = as(ctx, token)
	}
	stream, err := reflectionpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err == nil {
		err = stream.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}})
	}
	// A Send the server has already closed the stream on says only io.EOF;
	// the call's status comes from Recv.
	if err == nil || errors.Is(err, io.EOF) {
		_, err = stream.Recv()
	}
	return status.Code(err)
}

func TestReflectionFollowsTheConfiguredAccess(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDB(t)
	tests := []struct {
		name       string
		reflection ReflectionAccess
		token      string
		want       codes.Code
	}{
		// Production's default: reflection is not served at all.
		{"off refuses an anonymous caller", ReflectionOff, "", codes.Unimplemented},
		{"off refuses an authenticated caller", ReflectionOff, "national", codes.Unimplemented},
		{"authenticated refuses an anonymous caller", ReflectionAuthenticated, "", codes.Unauthenticated},
		{"authenticated refuses a forged token", ReflectionAuthenticated, "forged", codes.Unauthenticated},
		{"authenticated serves any role", ReflectionAuthenticated, "hub", codes.OK},
		// Development's default.
		{"public serves an anonymous caller", ReflectionPublic, "", codes.OK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := startServerWith(t, claims.NewStore(db), func(c *Config) { c.Reflection = tc.reflection })
			if got := listServices(t.Context(), r.conn, tc.token); got != tc.want {
				t.Errorf("reflection = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestHealthWatchIsOpenWithoutCredentials(t *testing.T) {
	t.Parallel()
	r := startServer(t, claims.NewStore(pgtest.NewDB(t)))
	awaitHealth(t, r.conn, healthpb.HealthCheckResponse_SERVING)
	stream, err := healthpb.NewHealthClient(r.conn).Watch(t.Context(), &healthpb.HealthCheckRequest{})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("Watch = %v, %v; want SERVING", resp.GetStatus(), err)
	}
}

// streamingService is a streaming service the policy has no line for, as
// a streaming RPC added without one would be.
type streamingService struct {
	testgrpc.UnimplementedTestServiceServer
}

func (streamingService) FullDuplexCall(s testgrpc.TestService_FullDuplexCallServer) error {
	return s.Send(&testgrpc.StreamingOutputCallResponse{})
}

func TestAStreamingMethodWithoutAPolicyLineIsDenied(t *testing.T) {
	t.Parallel()
	s := grpc.NewServer(interceptorOptions(newJSONLogger(t.Output()), grpcprom.NewServerMetrics(),
		newAccess(testIdentities, ReflectionOff), nil)...)
	testgrpc.RegisterTestServiceServer(s, streamingService{})
	conn := serveAndDial(t, s)
	for _, tc := range []struct {
		token string
		want  codes.Code
	}{
		{"", codes.Unauthenticated},
		{"national", codes.PermissionDenied},
		{"cd-own", codes.PermissionDenied},
	} {
		ctx := t.Context()
		if tc.token != "" {
			ctx = as(ctx, tc.token)
		}
		stream, err := testgrpc.NewTestServiceClient(conn).FullDuplexCall(ctx)
		if err == nil {
			_, err = stream.Recv()
		}
		if got := status.Code(err); got != tc.want {
			t.Errorf("as %q: %v, want %v", tc.token, err, tc.want)
		}
	}
}

func TestOneConnectionHoldsAtMostTheStreamLimit(t *testing.T) {
	t.Parallel()
	r := startServerWith(t, claims.NewStore(pgtest.NewDB(t)), func(c *Config) { c.MaxConcurrentStreams = 2 })
	awaitHealth(t, r.conn, healthpb.HealthCheckResponse_SERVING)
	watch := func(ctx context.Context) error {
		stream, err := healthpb.NewHealthClient(r.conn).Watch(ctx, &healthpb.HealthCheckRequest{})
		if err == nil {
			_, err = stream.Recv()
		}
		return err
	}
	first, cancelFirst := context.WithCancel(t.Context())
	for range 2 {
		if err := watch(first); err != nil {
			t.Fatal(err)
		}
	}
	// The third waits for a free stream, and here runs out of time.
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if err := watch(ctx); status.Code(err) != codes.DeadlineExceeded {
		t.Errorf("a third concurrent stream: %v, want it held back until DEADLINE_EXCEEDED", err)
	}
	// Closing the first two frees the connection for more.
	cancelFirst()
	ctx, cancel = context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := watch(ctx); err != nil {
		t.Errorf("a stream after the others closed: %v", err)
	}
}
