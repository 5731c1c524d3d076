package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/klauspost/compress/gzhttp"

	"arrs.nhs.uk/arrs/claims"
)

// The web console (web/console, built into web/dist) is served by the REST
// listener at /, on the same origin as the API, so the browser needs no
// CORS. Every console response carries a strict policy: scripts and styles
// only from this origin (the console has no inline script or style), no
// framing, no referrer.
const consoleCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// apiPrefixes are the paths that belong to the API, never the console: a
// miss under them is the API's 404 (JSON), not the console's index.html.
var apiPrefixes = []string{"/v1/", "/openapi.json", "/healthz", "/.well-known/", "/auth/"}

// DevTokenMinter mints development tokens: auth.DevKeys. Set in Config only
// when the development key is in use.
type DevTokenMinter interface {
	Mint(subject string, role claims.AccessRole, org string, ttl time.Duration) (string, error)
}

// devTokenTTL is how long a token from POST /auth/dev/token lasts: the
// console signs in again when it runs out.
const devTokenTTL = 30 * time.Minute

// OIDCClient is how the console signs users in with the identity provider:
// OpenID Connect authorization code with PKCE, as a public client.
type OIDCClient struct {
	// Issuer is the provider's issuer URL (its discovery document is at
	// Issuer + "/.well-known/openid-configuration"); the same as the
	// tokens' required issuer.
	Issuer string
	// ClientID is the console's client id at the provider.
	ClientID string
}

// signInConfig is GET /auth/config: how the console signs users in.
type signInConfig struct {
	// Mode is "development" (choose a demo user), "oidc" or "none".
	Mode     string `json:"mode"`
	Issuer   string `json:"issuer,omitempty"`
	ClientID string `json:"clientId,omitempty"`
}

// withConsole routes the REST listener's requests: the development token
// endpoint (when minter is set), the console's sign-in configuration, the
// API (api), and everything else to the console (when console is set).
func withConsole(api http.Handler, console fs.FS, minter DevTokenMinter, oidc *OIDCClient) http.Handler {
	var site http.Handler
	csp := consoleCSP
	cfg := signInConfig{Mode: "none"}
	switch {
	case minter != nil:
		cfg.Mode = "development"
	case oidc != nil:
		cfg = signInConfig{Mode: "oidc", Issuer: oidc.Issuer, ClientID: oidc.ClientID}
		// The console fetches the provider's discovery document and token
		// endpoint; the provider's origin is the only other it may reach.
		if u, err := url.Parse(oidc.Issuer); err == nil && u.Host != "" {
			csp += "; connect-src 'self' " + u.Scheme + "://" + u.Host
		}
	}
	if console != nil {
		// The stylesheet is NHS.UK frontend's, about 280 kB: compressed,
		// a tenth of that.
		site = gzhttp.GzipHandler(consoleHandler(console, csp))
	}
	config, _ := json.Marshal(cfg)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case minter != nil && r.URL.Path == "/auth/dev/token":
			serveDevToken(w, r, minter)
		case site != nil && r.URL.Path == "/auth/config" && r.Method == http.MethodGet:
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-cache")
			_, _ = w.Write(config)
		case site == nil || isAPIPath(r.URL.Path):
			api.ServeHTTP(w, r)
		default:
			site.ServeHTTP(w, r)
		}
	})
}

func isAPIPath(p string) bool {
	for _, prefix := range apiPrefixes {
		if p == strings.TrimSuffix(prefix, "/") || strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}

// consoleHandler serves the console's files: assets by name, and
// index.html for every other path, so the console's own routes
// (/claims/2026-03) load the app, which then reads the path. Asset names do
// not change between builds, so every response is revalidated (no-cache)
// against an ETag of its content: an upgraded arrsd is never mixed with a
// cached older script.
func consoleHandler(fsys fs.FS, csp string) http.Handler {
	files := map[string]consoleFile{}
	_ = fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		files[name] = consoleFile{data: data, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
		return nil
	})
	index, ok := files["index.html"]
	if !ok {
		index = consoleFile{data: []byte("<!doctype html><title>arrs</title><p>The console is not built: run make web.</p>")}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		f, contentType := index, "text/html; charset=utf-8"
		if strings.HasPrefix(name, "assets/") {
			var ok bool
			if f, ok = files[name]; !ok {
				http.NotFound(w, r)
				return
			}
			contentType = mime.TypeByExtension(path.Ext(name))
		}
		if contentType != "" {
			h.Set("Content-Type", contentType)
		}
		h.Set("Cache-Control", "no-cache")
		if f.etag != "" {
			h.Set("ETag", f.etag)
		}
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.data))
	})
}

// consoleFile is one of the console's files, read once.
type consoleFile struct {
	data []byte
	etag string
}

// devTokenRequest is the body of POST /auth/dev/token.
type devTokenRequest struct {
	Role    string `json:"role"`
	Org     string `json:"org"`
	Subject string `json:"subject"`
}

// serveDevToken mints a development token for the role, organisation and
// subject asked for: the console's "choose a demo user". It exists only
// while arrsd signs its own development tokens (no identity provider, not
// production), when anyone who can reach arrsd could run `arrsd token`
// anyway. It takes JSON only, so a cross-origin form cannot call it.
func serveDevToken(w http.ResponseWriter, r *http.Request, minter DevTokenMinter) {
	w.Header().Set("Cache-Control", "no-store")
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeJSONError(w, http.StatusMethodNotAllowed, "use POST")
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		writeJSONError(w, http.StatusUnsupportedMediaType, "the body must be application/json")
		return
	}
	var req devTokenRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, 4096))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeJSONError(w, http.StatusBadRequest, "the body must be {role, org, subject}")
		return
	}
	if req.Subject == "" {
		writeJSONError(w, http.StatusBadRequest, "subject is required")
		return
	}
	tok, err := minter.Mint(req.Subject, claims.AccessRole(req.Role), req.Org, devTokenTTL)
	if err != nil {
		writeJSONError(w, http.StatusBadRequest, "that role and organisation do not go together")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"token":     tok,
		"expiresIn": int(devTokenTTL / time.Second),
	})
}

func writeJSONError(w http.ResponseWriter, code int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": message})
}
