package server

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"arrs.nhs.uk/arrs/claims"
	"arrs.nhs.uk/arrs/internal/pgtest"
	"arrs.nhs.uk/arrs/server/auth"
)

var testConsole = fstest.MapFS{
	"index.html":         {Data: []byte(`<!doctype html><title>arrs</title><script type="module" src="/assets/console.js"></script>`)},
	"assets/console.js":  {Data: []byte(`console.log("hi")`)},
	"assets/console.css": {Data: []byte(strings.Repeat("body{color:#212b32}\n", 200))},
}

// The console is served at / with a strict policy, its own routes fall
// back to index.html, and the API's paths stay the API's.
func TestConsoleIsServedWithSecurityHeaders(t *testing.T) {
	r := startServerWith(t, claims.NewStore(pgtest.NewDB(t)), func(c *Config) { c.Console = testConsole })
	base := "http://" + r.HTTPAddr()
	for _, tc := range []struct{ path, contentType, body string }{
		{"/", "text/html", "<script type=\"module\""},
		{"/claims/2026-03", "text/html", "<script type=\"module\""},
		{"/assets/console.js", "text/javascript", "console.log"},
	} {
		resp, body := get(t, base+tc.path, nil)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), tc.contentType) || !strings.Contains(string(body), tc.body) {
			t.Errorf("GET %s: %d %s %q", tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		for header, want := range map[string]string{
			"Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
			"Referrer-Policy":         "no-referrer",
			"X-Content-Type-Options":  "nosniff",
		} {
			if got := resp.Header.Get(header); got != want {
				t.Errorf("GET %s: %s = %q, want %q", tc.path, header, got, want)
			}
		}
	}
	if resp, _ := get(t, base+"/assets/console.css", http.Header{"Accept-Encoding": {"gzip"}}); resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("the stylesheet: Content-Encoding %q, CSP %q; want gzip, with the policy", resp.Header.Get("Content-Encoding"), resp.Header.Get("Content-Security-Policy"))
	}
	// Revalidated by ETag, so an upgrade never runs a cached older script.
	js, _ := get(t, base+"/assets/console.js", nil)
	if etag := js.Header.Get("ETag"); etag == "" || js.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("console.js: ETag %q, Cache-Control %q", etag, js.Header.Get("Cache-Control"))
	} else if resp, _ := get(t, base+"/assets/console.js", http.Header{"If-None-Match": {etag}}); resp.StatusCode != http.StatusNotModified {
		t.Errorf("console.js with If-None-Match: %d, want 304", resp.StatusCode)
	}
	if resp, _ := get(t, base+"/assets/missing.js", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a missing asset: %d, want 404", resp.StatusCode)
	}
	// The API's own paths are untouched: JSON, not the console.
	for path, want := range map[string]int{"/openapi.json": 200, "/v1/pcns": 401, "/v1/nothing": 404, "/.well-known/jwks.json": 404} {
		resp, _ := get(t, base+path, nil)
		if resp.StatusCode != want || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || resp.Header.Get("Content-Security-Policy") != "" {
			t.Errorf("GET %s: %d %s, CSP %q; want %d JSON from the API", path, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Security-Policy"), want)
		}
	}
}

// POST /auth/dev/token exists only when the server is given the
// development key (cmd/arrsd gives it only when no identity provider is
// configured), and the token it mints is one the API accepts.
func TestDevTokenEndpointOnlyWithTheDevelopmentKey(t *testing.T) {
	store := claims.NewStore(pgtest.NewDB(t))
	without := startServerWith(t, store, func(c *Config) { c.Console = testConsole })
	reply := send(t, "http://"+without.HTTPAddr(), restCall{method: http.MethodPost, path: "/auth/dev/token",
		header: http.Header{"Content-Type": {"application/json"}}, body: strings.NewReader(`{"role":"pcn-manager","org":"U12345","subject":"x"}`)})
	if reply.status != http.StatusNotFound || strings.Contains(string(reply.body), `"token":`) {
		t.Fatalf("without the development key: %d %s", reply.status, reply.body)
	}

	dev, err := auth.LoadOrCreateDevKeys(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	with := startServerWith(t, store, func(c *Config) {
		c.DevTokens = dev
		c.Authenticator = auth.NewAuthenticator(dev.Verifier(), nil)
	})
	base := "http://" + with.HTTPAddr()
	json := http.Header{"Content-Type": {"application/json"}}
	for _, tc := range []struct {
		name   string
		header http.Header
		body   string
		want   int
	}{
		{"not JSON", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, "role=pcn-manager", http.StatusUnsupportedMediaType},
		{"unknown field", json, `{"role":"pcn-manager","org":"U12345","subject":"x","admin":true}`, http.StatusBadRequest},
		{"role and organisation that do not fit", json, `{"role":"pcn-manager","org":"QNQ","subject":"x"}`, http.StatusBadRequest},
		{"no subject", json, `{"role":"pcn-manager","org":"U12345"}`, http.StatusBadRequest},
	} {
		if r := send(t, base, restCall{method: http.MethodPost, path: "/auth/dev/token", header: tc.header, body: strings.NewReader(tc.body)}); r.status != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, r.status, r.body, tc.want)
		}
	}
	reply = send(t, base, restCall{method: http.MethodPost, path: "/auth/dev/token", header: json,
		body: strings.NewReader(`{"role":"pcn-manager","org":"U12345","subject":"pat@riverside.example"}`)})
	if reply.status != http.StatusOK || reply.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("mint: %d %v %s", reply.status, reply.header, reply.body)
	}
	token, _ := reply.json(t)["token"].(string)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	id, err := dev.Verifier().Verify(ctx, token)
	if err != nil || id.Subject != "pat@riverside.example" || id.OrgCode != "U12345" || id.Role != claims.RolePCNManager {
		t.Fatalf("the minted token verifies as %+v, %v", id, err)
	}
	if r := send(t, base, restCall{method: http.MethodGet, path: "/v1/pcns/U12345", token: token}); r.status == http.StatusUnauthorized {
		t.Errorf("the API refused the minted token: %s", r.body)
	}
}

// The console learns how to sign in from /auth/config; with an identity
// provider, its policy lets it reach the provider and nothing else.
func TestConsoleSignInConfig(t *testing.T) {
	r := startServerWith(t, claims.NewStore(pgtest.NewDB(t)), func(c *Config) {
		c.Console = testConsole
		c.OIDC = &OIDCClient{Issuer: "https://login.example.nhs.uk/tenant", ClientID: "arrs-console"}
	})
	base := "http://" + r.HTTPAddr()
	resp, body := get(t, base+"/auth/config", nil)
	if resp.StatusCode != http.StatusOK || string(body) != `{"mode":"oidc","issuer":"https://login.example.nhs.uk/tenant","clientId":"arrs-console"}` {
		t.Errorf("/auth/config: %d %s", resp.StatusCode, body)
	}
	resp, _ = get(t, base+"/", nil)
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.HasSuffix(csp, "; connect-src 'self' https://login.example.nhs.uk") {
		t.Errorf("CSP with an identity provider: %q", csp)
	}
}
