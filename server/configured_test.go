package server

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"arrs.nhs.uk/arrs/claims"
	"arrs.nhs.uk/arrs/internal/pgtest"
)

// configured is a Server started from a Config the test chose, logging into
// a buffer the test can read.
type configured struct {
	*Server
	conn *grpc.ClientConn
	logs *syncBuffer
}

// startConfigured serves cfg on a fresh database until the test ends. Unset
// addresses, timeouts and the authenticator get startServer's defaults.
func startConfigured(t *testing.T, cfg Config) configured {
	t.Helper()
	for _, addr := range []*string{&cfg.GRPCAddr, &cfg.HTTPAddr, &cfg.MetricsAddr} {
		if *addr == "" {
			*addr = "127.0.0.1:0"
		}
	}
	cfg.ShutdownTimeout = 5 * time.Second
	cfg.HealthInterval = 20 * time.Millisecond
	if cfg.Authenticator == nil {
		cfg.Authenticator = testIdentities
	}
	logs := &syncBuffer{}
	s, err := New(cfg, claims.NewStore(pgtest.NewDB(t)), newJSONLogger(logs))
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	conn, err := grpc.NewClient(s.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return configured{Server: s, conn: conn, logs: logs}
}

// callLine returns the call log line of the request with id requestID,
// failing the test if there is none.
func (c configured) callLine(t *testing.T, requestID string) map[string]any {
	t.Helper()
	for _, l := range c.logs.lines(t) {
		if l["msg"] == "call" && l["request_id"] == requestID {
			return l
		}
	}
	t.Fatalf("no call logged with request id %s", requestID)
	return nil
}
