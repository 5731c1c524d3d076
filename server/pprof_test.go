package server

import (
	"net/http"
	"strings"
	"testing"

	"arrs.nhs.uk/arrs/claims"
	"arrs.nhs.uk/arrs/internal/pgtest"
)

// Go's profiles are served on the metrics port only when asked for: they
// show the program's internals, so they are off unless an operator turns
// them on for a diagnosis.
func TestProfilesAreServedOnlyWhenAskedFor(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDB(t)
	for _, on := range []bool{false, true} {
		r := startServerWith(t, claims.NewStore(db), func(c *Config) { c.Profiling = on })
		resp, body := get(t, "http://"+r.MetricsAddr()+"/debug/pprof/", nil)
		switch {
		case on && (resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "goroutine")):
			t.Errorf("profiling on: /debug/pprof/ = %d %.100s, want the index", resp.StatusCode, body)
		case !on && resp.StatusCode != http.StatusNotFound:
			t.Errorf("profiling off: /debug/pprof/ = %d, want 404", resp.StatusCode)
		}
		if resp, _ := get(t, "http://"+r.HTTPAddr()+"/debug/pprof/", nil); on && resp.StatusCode == http.StatusOK {
			t.Error("profiles are served on the API's port too")
		}
	}
}
