package main

import (
	"log/slog"
	"os"
	"testing"

	"arrs.nhs.uk/arrs/internal/buildinfo"
)

func TestTracingIsOffUnlessTheEnvironmentAsks(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want bool
	}{
		{"nothing set", nil, false},
		{"service name alone", map[string]string{"OTEL_SERVICE_NAME": "arrs-prod"}, false},
		{"an OTLP endpoint", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, true},
		{"a traces endpoint", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, true},
		{"an exporter", map[string]string{"OTEL_TRACES_EXPORTER": "console"}, true},
		{"exporter none", map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, false},
		{"SDK disabled", map[string]string{"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}, false},
		{"SDK not disabled", map[string]string{"OTEL_SDK_DISABLED": "false", "OTEL_TRACES_EXPORTER": "otlp"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tracingOn(func(k string) string { return tc.env[k] })
			if err != nil || got != tc.want {
				t.Errorf("tracingOn = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
	if _, err := tracingOn(func(k string) string { return map[string]string{"OTEL_SDK_DISABLED": "maybe"}[k] }); err == nil {
		t.Error("OTEL_SDK_DISABLED=maybe accepted")
	}
}

func TestTracerProviderFromTheEnvironment(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	tp, stop, err := tracerProvider(t.Context(), func(string) string { return "" }, buildinfo.Get(), logger)
	if err != nil || tp != nil {
		t.Fatalf("unconfigured: provider %v, %v; want none", tp, err)
	}
	if err := stop(t.Context()); err != nil {
		t.Fatal(err)
	}

	// An OTLP/HTTP exporter to a collector that is not there: building it
	// dials nothing, and stopping it has no spans to send.
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:1")
	t.Setenv("OTEL_SERVICE_NAME", "arrs-test")
	tp, stop, err = tracerProvider(t.Context(), os.Getenv, buildinfo.Get(), logger)
	if err != nil || tp == nil {
		t.Fatalf("with an OTLP endpoint: provider %v, %v; want one", tp, err)
	}
	if err := stop(t.Context()); err != nil {
		t.Errorf("stop: %v", err)
	}

	t.Setenv("OTEL_TRACES_EXPORTER", "zipkin-please")
	if _, _, err := tracerProvider(t.Context(), os.Getenv, buildinfo.Get(), logger); err == nil {
		t.Error("an unknown OTEL_TRACES_EXPORTER was accepted")
	}
}
