package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"arrs.nhs.uk/arrs/claims"
)

// probe is a stand-in service for the chain to wrap: what its Check does
// depends on the service name asked about.
type probe struct {
	healthpb.UnimplementedHealthServer
}

func (probe) Check(ctx context.Context, req *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	switch req.Service {
	case "panic":
		panic("handler bug")
	case "missing":
		return nil, claims.NotFound("commissioners/QNQ")
	}
	return &healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}, nil
}

func (probe) Watch(_ *healthpb.HealthCheckRequest, _ healthpb.Health_WatchServer) error {
	panic("stream bug")
}

// syncBuffer is a log destination safe to read while the server writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines returns the JSON log records written so far.
func (b *syncBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func newJSONLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// chainHarness serves probe behind the production interceptor chain.
type chainHarness struct {
	client   healthpb.HealthClient
	logs     *syncBuffer
	registry *prometheus.Registry
}

func newChainHarness(t *testing.T) chainHarness {
	t.Helper()
	logs := &syncBuffer{}
	logger := newJSONLogger(logs)
	registry := prometheus.NewRegistry()
	metrics := grpcprom.NewServerMetrics()
	registry.MustRegister(metrics)
	s := grpc.NewServer(interceptorOptions(logger, metrics, newAccess(testIdentities, ReflectionOff), nil)...)
	healthpb.RegisterHealthServer(s, probe{})
	conn := serveAndDial(t, s)
	return chainHarness{client: healthpb.NewHealthClient(conn), logs: logs, registry: registry}
}

// serveAndDial serves s on a loopback port for the test's life and returns
// a plaintext client connection to it.
func serveAndDial(t *testing.T, s *grpc.Server) *grpc.ClientConn {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(lis) }()
	t.Cleanup(s.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func (h chainHarness) check(t *testing.T, service, requestID string) (metadata.MD, error) {
	t.Helper()
	ctx := t.Context()
	if requestID != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, requestIDHeader, requestID)
	}
	var header metadata.MD
	_, err := h.client.Check(ctx, &healthpb.HealthCheckRequest{Service: service}, grpc.Header(&header))
	return header, err
}

func TestChainRecoversFromAPanicAsInternal(t *testing.T) {
	h := newChainHarness(t)
	_, err := h.check(t, "panic", "req-panic")
	st := status.Convert(err)
	if st.Code() != codes.Internal || st.Message() != "internal error" {
		t.Errorf("status = %v, want INTERNAL internal error", st)
	}
	if _, err := h.check(t, "", ""); err != nil {
		t.Errorf("server unusable after a panic: %v", err)
	}
	var logged bool
	for _, l := range h.logs.lines(t) {
		if l["msg"] == "panic" && l["panic"] == "handler bug" && strings.Contains(l["stack"].(string), "probe.Check") {
			logged = true
		}
	}
	if !logged {
		t.Error("panic not logged with its stack")
	}
}

func TestChainRecoversFromAStreamPanic(t *testing.T) {
	h := newChainHarness(t)
	stream, err := h.client.Watch(t.Context(), &healthpb.HealthCheckRequest{})
	if err == nil {
		_, err = stream.Recv()
	}
	if status.Code(err) != codes.Internal {
		t.Errorf("err = %v, want INTERNAL", err)
	}
}

func TestChainMapsDomainErrorsBeforeLoggingAndMetrics(t *testing.T) {
	h := newChainHarness(t)
	_, err := h.check(t, "missing", "req-missing")
	st := status.Convert(err)
	if st.Code() != codes.NotFound {
		t.Fatalf("status = %v, want NOT_FOUND", st)
	}
	if info, _ := details(t, st); info == nil || info.Reason != "RESOURCE_NOT_FOUND" {
		t.Errorf("ErrorInfo = %v, want RESOURCE_NOT_FOUND", info)
	}

	var line map[string]any
	for _, l := range h.logs.lines(t) {
		if l["msg"] == "call" && l["request_id"] == "req-missing" {
			line = l
		}
	}
	if line == nil {
		t.Fatal("call not logged with its request id")
	}
	if line["method"] != "/grpc.health.v1.Health/Check" || line["code"] != "NotFound" || line["via"] != "grpc" || line["client"] != "127.0.0.1" || line["duration_ms"] == nil {
		t.Errorf("log line = %v, want method, code NotFound, via grpc, client 127.0.0.1 and duration", line)
	}

	families, err := h.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var counted bool
	for _, f := range families {
		if f.GetName() != "grpc_server_handled_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["grpc_method"] == "Check" && labels["grpc_code"] == "NotFound" && m.GetCounter().GetValue() == 1 {
				counted = true
			}
		}
	}
	if !counted {
		t.Error("grpc_server_handled_total{grpc_method=Check,grpc_code=NotFound} is not 1")
	}
}

func TestAccessAttachesTheActorForTheStore(t *testing.T) {
	ctx := metadata.NewIncomingContext(withRequestID(t.Context()), metadata.Pairs("authorization", "Bearer cd-own"))
	info := &grpc.UnaryServerInfo{FullMethod: "/arrs.v1.WorkforceService/FillPost"}
	var got claims.Actor
	_, err := accessUnary(newAccess(testIdentities, ReflectionOff))(ctx, nil, info, func(ctx context.Context, _ any) (any, error) {
		got, _ = claims.ActorFrom(ctx)
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != "cd1" || got.Role != claims.RolePCNClinicalDirector || got.OrgCode != "U12345" ||
		got.RPC != info.FullMethod || got.RequestID == "" {
		t.Errorf("actor = %+v", got)
	}
}

func TestChainRequestID(t *testing.T) {
	h := newChainHarness(t)
	for _, tc := range []struct {
		name, sent string
		kept       bool
	}{
		{"a caller's id is kept", "7f3c2a10-client", true},
		{"none sent gets a new one", "", false},
		{"an id with spaces is replaced", "two words", false},
		{"an overlong id is replaced", strings.Repeat("a", 129), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			header, err := h.check(t, "", tc.sent)
			if err != nil {
				t.Fatal(err)
			}
			got := header.Get(requestIDHeader)
			if len(got) != 1 {
				t.Fatalf("x-request-id header = %v, want one value", got)
			}
			if tc.kept && got[0] != tc.sent {
				t.Errorf("x-request-id = %q, want %q", got[0], tc.sent)
			}
			if _, err := uuid.Parse(got[0]); !tc.kept && err != nil {
				t.Errorf("x-request-id = %q, want a new UUID", got[0])
			}
		})
	}
}
