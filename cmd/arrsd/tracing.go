package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"arrs.nhs.uk/arrs/internal/buildinfo"
)

// tracingOn reports whether the standard OpenTelemetry environment asks for
// spans to be exported. Tracing is off unless an exporter
// (OTEL_TRACES_EXPORTER other than "none") or an OTLP endpoint
// (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set,
// and OTEL_SDK_DISABLED=true turns it off regardless. The specification's
// default, an OTLP exporter to localhost, would have every unconfigured
// arrsd retrying a collector that is not there.
func tracingOn(getenv func(string) string) (bool, error) {
	if v := getenv("OTEL_SDK_DISABLED"); v != "" {
		disabled, err := strconv.ParseBool(v)
		if err != nil {
			return false, fmt.Errorf("OTEL_SDK_DISABLED: %w", err)
		}
		if disabled {
			return false, nil
		}
	}
	switch getenv("OTEL_TRACES_EXPORTER") {
	case "none":
		return false, nil
	case "":
		return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "", nil
	}
	return true, nil
}

// tracerProvider returns the provider of arrsd's spans, exporting them as
// the OTEL_* environment says (exporter, protocol, endpoint, headers,
// sampler, batching, resource attributes), or nil when tracing is off. The
// returned func flushes and stops it.
func tracerProvider(ctx context.Context, getenv func(string) string, info buildinfo.Info, logger *slog.Logger) (trace.TracerProvider, func(context.Context) error, error) {
	noop := func(context.Context) error { return nil }
	on, err := tracingOn(getenv)
	if err != nil || !on {
		logger.DebugContext(ctx, "tracing off: no OTEL_TRACES_EXPORTER or OTEL_EXPORTER_OTLP_*ENDPOINT set")
		return nil, noop, err
	}
	exporter, err := autoexport.NewSpanExporter(ctx)
	if err != nil {
		return nil, noop, fmt.Errorf("tracing: %w", err)
	}
	// service.name defaults to arrs; OTEL_SERVICE_NAME and
	// OTEL_RESOURCE_ATTRIBUTES, read last, override it.
	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName("arrs"), semconv.ServiceVersion(info.Version)),
		resource.WithTelemetrySDK(),
		resource.WithHost(),
		resource.WithFromEnv(),
	)
	if err != nil {
		return nil, noop, errors.Join(fmt.Errorf("tracing resource: %w", err), exporter.Shutdown(ctx))
	}
	// The sampler follows OTEL_TRACES_SAMPLER (default: parent-based,
	// always on) and batching OTEL_BSP_*: the SDK reads them itself.
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter), sdktrace.WithResource(res))
	// The SDK reports export failures (a collector down, say) through
	// OpenTelemetry's global error handler, by default the standard
	// logger; send them to the JSON log instead.
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		logger.Warn("tracing: export failed", "error", err)
	}))
	name := cmp.Or(getenv("OTEL_TRACES_EXPORTER"), "otlp")
	logger.InfoContext(ctx, "tracing on", "exporter", name, "service_name", serviceName(res))
	return tp, tp.Shutdown, nil
}

func serviceName(res *resource.Resource) string {
	v, _ := res.Set().Value(semconv.ServiceNameKey)
	return v.AsString()
}
