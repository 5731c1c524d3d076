package server

import (
	"crypto/tls"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// With HTTPTLS set, REST and /metrics are served over HTTPS only, with the
// configured certificate.
func TestRESTAndMetricsServeHTTPS(t *testing.T) {
	t.Parallel()
	ca := newMTLSCA(t, "arrs test CA")
	cert := ca.issue(t, "arrs", true, "")
	c := startConfigured(t, Config{
		HTTPTLS: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
	})
	awaitHealth(t, c.conn, healthpb.HealthCheckResponse_SERVING)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: mtlsPool(ca), MinVersion: tls.VersionTLS12},
		// Let the client negotiate HTTP/2 if the server offers it.
		ForceAttemptHTTP2: true,
	}}
	fetch := func(t *testing.T, client *http.Client, url string) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer hub")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}

	for _, url := range []string{
		"https://" + c.HTTPAddr() + "/v1/commissioners",
		"https://" + c.HTTPAddr() + "/healthz",
		"https://" + c.MetricsAddr() + "/metrics",
	} {
		resp, body := fetch(t, client, url)
		if resp.StatusCode != http.StatusOK || resp.TLS == nil {
			t.Errorf("GET %s = %d (TLS %v) %.200s, want 200 over TLS", url, resp.StatusCode, resp.TLS != nil, body)
		}
	}
	if resp, _ := fetch(t, client, "https://"+c.HTTPAddr()+"/healthz"); resp.ProtoMajor != 2 {
		t.Errorf("REST over TLS spoke %s, want HTTP/2", resp.Proto)
	}
	// Plain HTTP is refused: Go's TLS server answers a plaintext request
	// with 400 and closes the connection.
	for _, addr := range []string{c.HTTPAddr(), c.MetricsAddr()} {
		resp, body := fetch(t, http.DefaultClient, "http://"+addr+"/healthz")
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "HTTPS") {
			t.Errorf("plain HTTP to %s = %d %q, want 400 asking for HTTPS", addr, resp.StatusCode, body)
		}
	}
}
