package server

import (
	"context"
	"net/http"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/metadata"

	arrsv1 "arrs.nhs.uk/arrs/gen/arrs/v1"
)

// A caller's W3C trace context: trace 4bf9…4736, the caller's span 00f0…02b7.
const (
	callerTraceID     = "4bf92f3577b34da6a3ce929d0e0e4736"
	callerSpanID      = "00f067aa0ba902b7"
	callerTraceparent = "00-" + callerTraceID + "-" + callerSpanID + "-01"
)

func newRecordingProvider(t *testing.T) (*sdktrace.TracerProvider, *tracetest.InMemoryExporter) {
	t.Helper()
	exporter := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp, exporter
}

// awaitSpan waits for an exported span named name of the given kind and
// returns it: a server span ends just after the response is sent.
func awaitSpan(t *testing.T, exporter *tracetest.InMemoryExporter, name string, kind trace.SpanKind) tracetest.SpanStub {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, s := range exporter.GetSpans() {
			if s.Name == name && s.SpanKind == kind {
				return s
			}
		}
		if time.Now().After(deadline) {
			var names []string
			for _, s := range exporter.GetSpans() {
				names = append(names, s.Name+" ("+s.SpanKind.String()+")")
			}
			t.Fatalf("no %v span %q exported; have %v", kind, name, names)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

const listCommissioners = "/arrs.v1.OrganisationService/ListCommissioners"

func TestAnIncomingTraceparentIsHonouredOverGRPC(t *testing.T) {
	t.Parallel()
	tp, exporter := newRecordingProvider(t)
	c := startConfigured(t, Config{TracerProvider: tp})

	ctx := metadata.AppendToOutgoingContext(t.Context(),
		"authorization", "Bearer hub", "traceparent", callerTraceparent, requestIDHeader, "traced-grpc")
	if _, err := arrsv1.NewOrganisationServiceClient(c.conn).ListCommissioners(ctx, &arrsv1.ListCommissionersRequest{}); err != nil {
		t.Fatal(err)
	}

	span := awaitSpan(t, exporter, listCommissioners[1:], trace.SpanKindServer)
	if span.SpanContext.TraceID().String() != callerTraceID || span.Parent.SpanID().String() != callerSpanID {
		t.Errorf("server span in trace %s under %s, want trace %s under the caller's span %s",
			span.SpanContext.TraceID(), span.Parent.SpanID(), callerTraceID, callerSpanID)
	}
	line := c.callLine(t, "traced-grpc")
	if line["trace_id"] != callerTraceID || line["span_id"] != span.SpanContext.SpanID().String() {
		t.Errorf("log line trace_id, span_id = %v, %v; want %s, %s", line["trace_id"], line["span_id"], callerTraceID, span.SpanContext.SpanID())
	}
}

func TestAnIncomingTraceparentIsHonouredOverREST(t *testing.T) {
	t.Parallel()
	tp, exporter := newRecordingProvider(t)
	c := startConfigured(t, Config{TracerProvider: tp})

	resp, body := get(t, "http://"+c.HTTPAddr()+"/v1/commissioners", http.Header{
		"Authorization": {"Bearer hub"}, "Traceparent": {callerTraceparent}, "X-Request-Id": {"traced-rest"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/commissioners = %d %s", resp.StatusCode, body)
	}

	// The REST request's span continues the caller's trace; the gateway's
	// gRPC call is its child, and the gRPC server's span the call's child.
	rest := awaitSpan(t, exporter, "HTTP GET", trace.SpanKindServer)
	client := awaitSpan(t, exporter, listCommissioners[1:], trace.SpanKindClient)
	server := awaitSpan(t, exporter, listCommissioners[1:], trace.SpanKindServer)
	for _, s := range []tracetest.SpanStub{rest, client, server} {
		if s.SpanContext.TraceID().String() != callerTraceID {
			t.Errorf("span %q (%v) is in trace %s, want the caller's %s", s.Name, s.SpanKind, s.SpanContext.TraceID(), callerTraceID)
		}
	}
	if rest.Parent.SpanID().String() != callerSpanID {
		t.Errorf("REST span's parent = %s, want the caller's span %s", rest.Parent.SpanID(), callerSpanID)
	}
	if client.Parent.SpanID() != rest.SpanContext.SpanID() || server.Parent.SpanID() != client.SpanContext.SpanID() {
		t.Errorf("spans do not nest: REST %s ← client %s (parent %s) ← server %s (parent %s)",
			rest.SpanContext.SpanID(), client.SpanContext.SpanID(), client.Parent.SpanID(),
			server.SpanContext.SpanID(), server.Parent.SpanID())
	}
	line := c.callLine(t, "traced-rest")
	if line["trace_id"] != callerTraceID || line["via"] != viaREST {
		t.Errorf("log line = %v, want trace_id %s via rest", line, callerTraceID)
	}
}

// With tracing off nothing is recorded, but the caller's trace id still
// reaches the log line, over gRPC and over REST.
func TestTracingOffStillLogsTheCallersTraceID(t *testing.T) {
	t.Parallel()
	c := startConfigured(t, Config{})

	ctx := metadata.AppendToOutgoingContext(t.Context(),
		"authorization", "Bearer hub", "traceparent", callerTraceparent, requestIDHeader, "untraced-grpc")
	if _, err := arrsv1.NewOrganisationServiceClient(c.conn).ListCommissioners(ctx, &arrsv1.ListCommissionersRequest{}); err != nil {
		t.Fatal(err)
	}
	resp, body := get(t, "http://"+c.HTTPAddr()+"/v1/commissioners", http.Header{
		"Authorization": {"Bearer hub"}, "Traceparent": {callerTraceparent}, "X-Request-Id": {"untraced-rest"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/commissioners = %d %s", resp.StatusCode, body)
	}
	for _, id := range []string{"untraced-grpc", "untraced-rest"} {
		if line := c.callLine(t, id); line["trace_id"] != callerTraceID {
			t.Errorf("%s: log line = %v, want trace_id %s", id, line, callerTraceID)
		}
	}

	// Without a traceparent and with tracing off there is no trace to name.
	if _, err := arrsv1.NewOrganisationServiceClient(c.conn).ListCommissioners(
		metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer hub", requestIDHeader, "no-trace"),
		&arrsv1.ListCommissionersRequest{}); err != nil {
		t.Fatal(err)
	}
	if line := c.callLine(t, "no-trace"); line["trace_id"] != nil {
		t.Errorf("log line = %v, want no trace_id", line)
	}
}
