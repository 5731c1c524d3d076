package server

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/rs/cors"
)

// corsMaxAge is how long, in seconds, a browser may cache a preflight's
// answer.
const corsMaxAge = 600

// withCORS lets the configured browser origins call the API from pages of
// their own (CORS), with rs/cors answering preflights. Credentials (cookies)
// are never allowed: callers authenticate with a bearer token. Browsers may
// read the ETag (for If-Match), the request id (to report a problem) and an
// export's Content-Disposition. With no origins configured the API is
// same-origin only and sends no CORS headers at all.
func withCORS(h http.Handler, origins []string) (http.Handler, error) {
	if len(origins) == 0 {
		return h, nil
	}
	for _, o := range origins {
		if err := checkOrigin(o); err != nil {
			return nil, err
		}
	}
	return cors.New(cors.Options{
		AllowedOrigins:   origins,
		AllowedMethods:   []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPatch},
		AllowedHeaders:   []string{"Authorization", "Content-Type", "If-Match", "X-Request-Id"},
		ExposedHeaders:   []string{"ETag", "X-Request-Id", "Content-Disposition", "WWW-Authenticate"},
		AllowCredentials: false,
		MaxAge:           corsMaxAge,
	}).Handler(h), nil
}

// checkOrigin accepts an origin as a browser sends it: scheme and host
// (and port), nothing else. "*" is refused: every origin would be a
// decision to write down, not a default.
func checkOrigin(origin string) error {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("CORS origin %q: want scheme://host[:port], for example https://console.example.nhs.uk", origin)
	}
	return nil
}
