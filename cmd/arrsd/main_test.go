package main

import (
	"errors"
	"flag"
	"io"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"arrs.nhs.uk/arrs/server"
)

var defaultREST = server.RESTOptions{MaxBodyBytes: server.DefaultMaxBodyBytes}

func TestParseConfigFlagBeatsEnvBeatsDefault(t *testing.T) {
	env := map[string]string{
		"ARRS_GRPC_ADDR": "0.0.0.0:7000",
		"DATABASE_URL":   "postgres://db/arrs",
		"ARRS_DEMO":      "true",
		"ARRS_LOG_LEVEL": "debug",
	}
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want config
	}{
		{"defaults", nil, nil, config{command: "serve", grpcAddr: "127.0.0.1:9090", httpAddr: "127.0.0.1:8080",
			metricsAddr: "127.0.0.1:9464", dataDir: ".data", logLevel: slog.LevelInfo, maxConns: 20, maxIdle: 20, environment: "development", reflection: server.ReflectionPublic, maxStreams: 100, healthInterval: 2 * time.Second, checkpointInterval: time.Hour, rest: defaultREST}},
		{"environment", []string{"serve"}, env, config{command: "serve", grpcAddr: "0.0.0.0:7000", httpAddr: "127.0.0.1:8080",
			metricsAddr: "127.0.0.1:9464", databaseURL: "postgres://db/arrs", dataDir: ".data", demo: true, logLevel: slog.LevelDebug, maxConns: 20, maxIdle: 20, environment: "development", reflection: server.ReflectionPublic, maxStreams: 100, healthInterval: 2 * time.Second, checkpointInterval: time.Hour, rest: defaultREST}},
		{"flags win", []string{"--grpc-addr=:1", "--database-url=postgres://other/arrs", "--demo=false", "--log-level=warn", "--data-dir=/tmp/a"}, env,
			config{command: "serve", grpcAddr: ":1", httpAddr: "127.0.0.1:8080", metricsAddr: "127.0.0.1:9464",
				databaseURL: "postgres://other/arrs", dataDir: "/tmp/a", logLevel: slog.LevelWarn, maxConns: 20, maxIdle: 20, environment: "development", reflection: server.ReflectionPublic, maxStreams: 100, healthInterval: 2 * time.Second, checkpointInterval: time.Hour, rest: defaultREST}},
		{"REST limits and origins", []string{"--max-request-bytes=2048"}, map[string]string{
			"ARRS_MAX_REQUEST_BYTES": "4096", "ARRS_CORS_ORIGINS": "https://a.example, https://b.example:8443"},
			config{command: "serve", grpcAddr: "127.0.0.1:9090", httpAddr: "127.0.0.1:8080", metricsAddr: "127.0.0.1:9464",
				dataDir: ".data", logLevel: slog.LevelInfo, maxConns: 20, maxIdle: 20, environment: "development", reflection: server.ReflectionPublic, maxStreams: 100, healthInterval: 2 * time.Second, checkpointInterval: time.Hour,
				rest: server.RESTOptions{MaxBodyBytes: 2048, CORSOrigins: []string{"https://a.example", "https://b.example:8443"}}}},
		{"migrate", []string{"migrate", "--data-dir=d"}, nil, config{command: "migrate", dataDir: "d", logLevel: slog.LevelInfo}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseConfig(tc.args, func(k string) string { return tc.env[k] }, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("config = %+v\nwant     %+v", got, tc.want)
			}
		})
	}
}

func TestParseConfigRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
	}{
		{"an unknown command", []string{"serv"}, nil},
		{"serve flags on migrate", []string{"migrate", "--demo"}, nil},
		{"a bad ARRS_DEMO", nil, map[string]string{"ARRS_DEMO": "yes please"}},
		{"a bad ARRS_LOG_LEVEL", nil, map[string]string{"ARRS_LOG_LEVEL": "loud"}},
		{"a bad trusted proxy", []string{"--trusted-proxies=10.0.0.0/8,proxy.example"}, nil},
		{"a bad ARRS_TRUSTED_PROXIES", nil, map[string]string{"ARRS_TRUSTED_PROXIES": "10.0.0.0/33"}},
		{"a bad ARRS_MAX_REQUEST_BYTES", nil, map[string]string{"ARRS_MAX_REQUEST_BYTES": "1MiB"}},
		{"an unknown reflection access", []string{"--reflection=everyone"}, nil},
		{"a health interval of zero", []string{"--health-interval=0s"}, nil},
		{"a negative stream limit", []string{"--max-concurrent-streams=-1"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := parseConfig(tc.args, func(k string) string { return tc.env[k] }, io.Discard); err == nil {
				t.Error("accepted")
			}
		})
	}
}

func TestParseConfigHelpIsNotAFailure(t *testing.T) {
	_, err := parseConfig([]string{"-h"}, func(string) string { return "" }, io.Discard)
	if !errors.Is(err, flag.ErrHelp) {
		t.Errorf("err = %v, want flag.ErrHelp", err)
	}
}

func TestReflectionIsOffInProductionUnlessAsked(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want server.ReflectionAccess
	}{
		{"development", nil, nil, server.ReflectionPublic},
		{"production", []string{"--environment=production"}, nil, server.ReflectionOff},
		{"production from the environment", nil, map[string]string{"ARRS_ENVIRONMENT": "production"}, server.ReflectionOff},
		{"production, asked for with a token", []string{"--environment=production", "--reflection=authenticated"}, nil, server.ReflectionAuthenticated},
		{"development, turned off", nil, map[string]string{"ARRS_REFLECTION": "off"}, server.ReflectionOff},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseConfig(tc.args, func(k string) string { return tc.env[k] }, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if c.reflection != tc.want {
				t.Errorf("reflection = %v, want %v", c.reflection, tc.want)
			}
		})
	}
}
