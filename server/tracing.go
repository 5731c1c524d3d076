package server

import (
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc/filters"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/grpc"
)

// Tracing. Every gRPC call, and every REST request with the gRPC call the
// gateway makes for it, is a span of the provider in Config.TracerProvider.
// A caller's W3C trace context (traceparent, tracestate) is honoured on
// both: the REST span continues the caller's trace, the gateway passes it
// on to its gRPC call, and the call's log line names the trace. That holds
// with tracing off too (a no-op provider keeps the incoming trace's
// identity without recording anything), so arrs's log lines can be found
// from an upstream trace whether or not arrs exports spans.
//
// The propagator is passed explicitly, never read from OpenTelemetry's
// globals, whose default propagates nothing. Baggage is not propagated:
// nothing in arrs reads it, and a caller's baggage is not ours to pass on.
// Metrics stay with Prometheus (see server.go), so the instrumentation gets
// a no-op meter provider.

// traceContext reads and writes W3C trace context.
var traceContext propagation.TextMapPropagator = propagation.TraceContext{}

// tracerProvider returns tp, or a no-op provider when tracing is off.
func tracerProvider(tp trace.TracerProvider) trace.TracerProvider {
	if tp == nil {
		return tracenoop.NewTracerProvider()
	}
	return tp
}

// grpcServerTracing starts a server span for every call but health checks,
// which orchestrators make every few seconds.
func grpcServerTracing(tp trace.TracerProvider) grpc.ServerOption {
	return grpc.StatsHandler(otelgrpc.NewServerHandler(otelgrpcOptions(tp)...))
}

// gatewayTracing makes the gateway's gRPC calls client spans of the REST
// request's span and sends its trace context with them.
func gatewayTracing(tp trace.TracerProvider) grpc.DialOption {
	return grpc.WithStatsHandler(otelgrpc.NewClientHandler(otelgrpcOptions(tp)...))
}

// otelgrpcOptions are the server's and the gateway's alike: spans from tp,
// W3C trace context, no metrics (Prometheus has them), no health checks.
func otelgrpcOptions(tp trace.TracerProvider) []otelgrpc.Option {
	return []otelgrpc.Option{
		otelgrpc.WithTracerProvider(tp),
		otelgrpc.WithPropagators(traceContext),
		otelgrpc.WithMeterProvider(metricnoop.NewMeterProvider()),
		otelgrpc.WithFilter(filters.Not(filters.HealthCheck())),
	}
}

// httpTracing starts a server span for every REST request but /healthz,
// continuing the caller's trace. Spans are named by HTTP method only: the
// path holds resource names, too many to name spans by, and the gRPC
// span beneath names the method.
func httpTracing(next http.Handler, tp trace.TracerProvider) http.Handler {
	return otelhttp.NewHandler(next, "rest",
		otelhttp.WithTracerProvider(tp),
		otelhttp.WithPropagators(traceContext),
		otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()),
		otelhttp.WithFilter(func(r *http.Request) bool { return r.URL.Path != "/healthz" }),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return "HTTP " + r.Method }),
	)
}
