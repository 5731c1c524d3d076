package server

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"testing"

	"arrs.nhs.uk/arrs/claims"
	"arrs.nhs.uk/arrs/gen/openapi"
	"arrs.nhs.uk/arrs/internal/pgtest"
	arrsproto "arrs.nhs.uk/arrs/proto"
	"arrs.nhs.uk/arrs/server/auth"
)

// restCall is one request to the REST gateway.
type restCall struct {
	method, path, token string
	header              http.Header
	body                io.Reader
	contentLength       int64 // with body: -1 sends it chunked; 0 lets net/http work it out
}

// restReply is what came back: status, headers and the body, as sent.
type restReply struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the reply's body.
func (r restReply) json(t *testing.T) map[string]any {
	t.Helper()
	var out map[string]any
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.body)
	}
	return out
}

// errorInfo returns the reason of the reply's google.rpc.ErrorInfo, and
// "field REASON" for each BadRequest field violation.
func (r restReply) errorInfo(t *testing.T) (reason string, violations []string) {
	t.Helper()
	var st struct {
		Details []struct {
			Type            string `json:"@type"`
			Reason, Domain  string
			FieldViolations []struct{ Field, Reason string }
		}
	}
	if err := json.Unmarshal(r.body, &st); err != nil {
		t.Fatalf("error body is not a google.rpc.Status: %v: %s", err, r.body)
	}
	for _, d := range st.Details {
		switch d.Type {
		case "type.googleapis.com/google.rpc.ErrorInfo":
			if d.Domain != errorDomain {
				t.Errorf("ErrorInfo domain %q", d.Domain)
			}
			reason = d.Reason
		case "type.googleapis.com/google.rpc.BadRequest":
			for _, v := range d.FieldViolations {
				violations = append(violations, v.Field+" "+v.Reason)
			}
		}
	}
	return reason, violations
}

func send(t *testing.T, base string, c restCall) restReply {
	t.Helper()
	body := c.body
	if body == nil {
		body = http.NoBody
	}
	req, err := http.NewRequestWithContext(t.Context(), c.method, base+c.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if c.contentLength != 0 {
		req.ContentLength = c.contentLength
	}
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	// No transparent decompression: the tests look at what was sent.
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatalf("%s %s: %v", c.method, c.path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return restReply{status: resp.StatusCode, header: resp.Header, body: b}
}

func jsonBody(s string) (http.Header, io.Reader) {
	return http.Header{"Content-Type": {"application/json"}}, strings.NewReader(s)
}

// zeros is an endless body that costs nothing to send.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// Not parallel: the allocation figures are the process's, so nothing else
// may run meanwhile.
func TestAnOversizedBodyIsRefusedBeforeItIsRead(t *testing.T) {
	r := startServer(t, claims.NewStore(pgtest.NewDB(t)))
	base := "http://" + r.HTTPAddr()
	const size = 64 << 20
	for _, tc := range []struct {
		name          string
		contentLength int64
	}{
		{"with Content-Length", size},
		{"chunked", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			reply := send(t, base, restCall{method: http.MethodPost, path: "/v1/pcns/U12345/posts",
				header: http.Header{"Content-Type": {"application/json"}}, body: io.LimitReader(zeros{}, size),
				contentLength: tc.contentLength})
			runtime.ReadMemStats(&after)
			allocated := after.TotalAlloc - before.TotalAlloc
			t.Logf("a %d MiB body without a token: %d, %.1f MiB allocated by the whole process (client and server), heap %+.1f MiB",
				size>>20, reply.status, float64(allocated)/(1<<20), (float64(after.HeapAlloc)-float64(before.HeapAlloc))/(1<<20))
			if reply.status != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d %s, want 413", reply.status, reply.body)
			}
			if reason, _ := reply.errorInfo(t); reason != "REQUEST_TOO_LARGE" {
				t.Errorf("reason %q, want REQUEST_TOO_LARGE", reason)
			}
			// The body is never held: at most the limit (1 MiB) is read,
			// plus buffers, whoever sends it.
			if allocated > 8<<20 {
				t.Errorf("%d bytes allocated for a refused %d-byte body", allocated, size)
			}
		})
	}
}

func TestABodyAtTheConfiguredLimitIsRead(t *testing.T) {
	t.Parallel()
	r := startServerWith(t, claims.NewStore(pgtest.NewDB(t)), func(c *Config) { c.REST.MaxBodyBytes = 64 })
	base := "http://" + r.HTTPAddr()
	h, b := jsonBody(`{"reason": "` + strings.Repeat("x", 60) + `"}`)
	if reply := send(t, base, restCall{method: http.MethodPost, path: "/v1/pcns/U12345/claims/2026-10:withdraw", header: h, body: b}); reply.status != http.StatusRequestEntityTooLarge {
		t.Errorf("73 bytes over a 64-byte limit: %d", reply.status)
	}
	h, b = jsonBody(`{"reason": "short"}`)
	if reply := send(t, base, restCall{method: http.MethodPost, path: "/v1/pcns/U12345/claims/2026-10:withdraw", header: h, body: b}); reply.status != http.StatusUnauthorized {
		t.Errorf("a small body without a token: %d, want 401 (it got as far as authentication)", reply.status)
	}
}

func TestUnknownFieldsAreRefusedAndNamed(t *testing.T) {
	a := startAPI(t)
	base := "http://" + a.HTTPAddr()
	tests := []struct {
		name, method, path, body string
		want                     []string
	}{
		{"a misspelt field creating a post", http.MethodPost, "/v1/pcns/U12345/posts?postId=ot-typo",
			`{"role": "roles/occupational-therapist", "wte": "0.6", "startDate": "2026-03-02", "focusCohrt": "FOCUS_COHORT_FRAIL_OLDER_PEOPLE"}`,
			[]string{"post.focusCohrt UNKNOWN_FIELD"}},
		{"a misspelt query parameter", http.MethodGet, "/v1/pcns/U12345/posts?pageSiz=2&role=roles/pharmacist", "",
			[]string{"pageSiz UNKNOWN_FIELD"}},
		{"a path field in the query", http.MethodGet, "/v1/pcns/U12345/posts?parent=pcns/U23456", "",
			[]string{"parent UNKNOWN_FIELD"}},
		{"nested, in a custom method's body", http.MethodPost, "/v1/pcns/U12345/claims/2026-10:approve",
			`{"adjustments": [{"line": "pcns/U12345/claims/2026-10/lines/pharmacist-1", "approvedPence": "1", "reasn": "x"}], "eTag": "1"}`,
			[]string{"adjustments[0].reasn UNKNOWN_FIELD", "eTag UNKNOWN_FIELD"}},
		{"the query of a method whose body is the request", http.MethodPost, "/v1/pcns/U12345/posts/ot-mental-health-plan:recruit?etag=1", `{}`,
			[]string{"etag UNKNOWN_FIELD"}},
		{"a body where the method takes none", http.MethodPost, "/v1/pcns/U12345/claims?claimId=2026-11", `{"claimId": "2026-11"}`,
			[]string{"body UNKNOWN_FIELD"}},
		{"a misspelt field in a PATCH", http.MethodPatch, "/v1/pcns/U12345/posts/ot-frailty?updateMask=wte", `{"wte": "0.5", "staff_nam": "x"}`,
			[]string{"post.staff_nam UNKNOWN_FIELD"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := restCall{method: tt.method, path: tt.path, token: "cd-own"}
			if tt.body != "" {
				c.header, c.body = jsonBody(tt.body)
			}
			reply := send(t, base, c)
			reason, got := reply.errorInfo(t)
			if reply.status != http.StatusBadRequest || reason != "INVALID_ARGUMENT" || fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("%d %s %v, want 400 INVALID_ARGUMENT %v: %s", reply.status, reason, got, tt.want, reply.body)
			}
		})
	}
	if reply := send(t, base, restCall{method: http.MethodGet, path: "/v1/pcns/U12345/posts/ot-typo", token: "cd-own"}); reply.status != http.StatusNotFound {
		t.Errorf("the post with a misspelt field was created: %d", reply.status)
	}
	// Proto names are as good as JSON names, in the body and the query.
	h, b := jsonBody(`{"role": "roles/occupational-therapist", "wte": "0.6", "start_date": "2026-03-02"}`)
	if reply := send(t, base, restCall{method: http.MethodPost, path: "/v1/pcns/U12345/posts?post_id=ot-snake", token: "cd-own", header: h, body: b}); reply.status != http.StatusOK {
		t.Errorf("proto field names: %d %s", reply.status, reply.body)
	}
}

func TestBodiesMustBeJSON(t *testing.T) {
	a := startAPI(t)
	base := "http://" + a.HTTPAddr()
	post := func(contentType, body string) restReply {
		return send(t, base, restCall{method: http.MethodPost, path: "/v1/pcns/U12345/posts?postId=ot-json", token: "cd-own",
			header: http.Header{"Content-Type": {contentType}}, body: strings.NewReader(body)})
	}
	good := `{"role": "roles/occupational-therapist", "wte": "0.6", "startDate": "2026-03-02"}`
	for _, tc := range []struct {
		contentType, body string
		status            int
		reason            string
	}{
		{"text/plain", good, http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE"},
		{"application/x-www-form-urlencoded", "role=roles%2Foccupational-therapist", http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE"},
		{"application/json; charset=latin1", good, http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE"},
		{"application/json", `{"role": "roles/occupational-therapist",`, http.StatusBadRequest, "INVALID_JSON"},
		{"application/json", `{"role": "roles/occupational-therapist"} {}`, http.StatusBadRequest, "INVALID_JSON"},
		{"application/json", `{"role": "roles/occupational-therapist", "wte": 0.6}`, http.StatusBadRequest, "INVALID_JSON"},
		{"Application/JSON; charset=UTF-8", good, http.StatusOK, ""},
	} {
		reply := post(tc.contentType, tc.body)
		if reply.status != tc.status {
			t.Errorf("%s %s: %d %s, want %d", tc.contentType, tc.body, reply.status, reply.body, tc.status)
			continue
		}
		if tc.reason != "" {
			if reason, _ := reply.errorInfo(t); reason != tc.reason {
				t.Errorf("%s %s: reason %q, want %s", tc.contentType, tc.body, reason, tc.reason)
			}
		}
	}
	// No Content-Type at all, and no token: 415 before authentication.
	reply := send(t, base, restCall{method: http.MethodPost, path: "/v1/pcns/U12345/posts", body: strings.NewReader(good)})
	if reply.status != http.StatusUnsupportedMediaType {
		t.Errorf("no Content-Type: %d, want 415", reply.status)
	}
}

func TestETagHeaderAndIfMatch(t *testing.T) {
	a := startAPI(t)
	base := "http://" + a.HTTPAddr()
	const post = "/v1/pcns/U12345/posts/ot-return-to-work"
	read := send(t, base, restCall{method: http.MethodGet, path: post, token: "cd-own"})
	etag := read.json(t)["etag"].(string)
	if got := read.header.Get("ETag"); got != `"`+etag+`"` {
		t.Fatalf("ETag %q, want the post's etag %q quoted", got, etag)
	}
	patch := func(ifMatch, body string) restReply {
		h, b := jsonBody(body)
		if ifMatch != "" {
			h.Set("If-Match", ifMatch)
		}
		return send(t, base, restCall{method: http.MethodPatch, path: post + "?updateMask=wte", token: "cd-own", header: h, body: b})
	}
	for _, ifMatch := range []string{`"stale"`, `W/"` + etag + `"`} {
		reply := patch(ifMatch, `{"wte": "0.9"}`)
		if reason, _ := reply.errorInfo(t); reply.status != http.StatusPreconditionFailed || reason != "ETAG_MISMATCH" {
			t.Errorf("If-Match %s: %d %s, want 412 ETAG_MISMATCH", ifMatch, reply.status, reply.body)
		}
	}
	if reply := patch(`"`+etag+`"`, `{"wte": "0.9", "etag": "stale"}`); reply.status != http.StatusPreconditionFailed {
		t.Errorf("If-Match disagreeing with the body's etag: %d, want 412", reply.status)
	}
	updated := patch(`"`+etag+`"`, `{"wte": "0.9"}`)
	newEtag, _ := updated.json(t)["etag"].(string)
	if updated.status != http.StatusOK || newEtag == etag || updated.header.Get("ETag") != `"`+newEtag+`"` {
		t.Fatalf("If-Match current: %d ETag %s %s", updated.status, updated.header.Get("ETag"), updated.body)
	}
	// The body's etag works as before: a stale one is 409 ABORTED.
	if reply := patch("", `{"wte": "0.8", "etag": "`+etag+`"}`); reply.status != http.StatusConflict {
		t.Errorf("a stale etag in the body: %d, want 409", reply.status)
	}
	if reply := patch("*", `{"wte": "0.8"}`); reply.status != http.StatusOK {
		t.Errorf("If-Match *: %d, want 200", reply.status)
	}
	// Reads: a stale If-Match is 412, a current one (among others) 200.
	cur := send(t, base, restCall{method: http.MethodGet, path: post, token: "cd-own"}).header.Get("ETag")
	for ifMatch, want := range map[string]int{`"` + etag + `"`: http.StatusPreconditionFailed, `"x", ` + cur: http.StatusOK} {
		if reply := send(t, base, restCall{method: http.MethodGet, path: post, token: "cd-own", header: http.Header{"If-Match": {ifMatch}}}); reply.status != want {
			t.Errorf("GET If-Match %s: %d, want %d", ifMatch, reply.status, want)
		}
	}
	// A custom method.
	h, b := jsonBody(`{}`)
	h.Set("If-Match", `"stale"`)
	if reply := send(t, base, restCall{method: http.MethodPost, path: "/v1/pcns/U12345/posts/ot-mental-health-plan:recruit", token: "cd-own", header: h, body: b}); reply.status != http.StatusPreconditionFailed {
		t.Errorf("recruit with a stale If-Match: %d, want 412", reply.status)
	}
	// A write's response carries the new ETag: a claim line.
	h, b = jsonBody(`{"grossSalaryPence": "440000"}`)
	line := send(t, base, restCall{method: http.MethodPatch, path: "/v1/pcns/U12345/claims/2026-11/lines/splw-1?updateMask=grossSalaryPence", token: "cd-own", header: h, body: b})
	if line.status != http.StatusOK || line.header.Get("ETag") != `"`+line.json(t)["etag"].(string)+`"` {
		t.Errorf("claim line update: %d ETag %q %s", line.status, line.header.Get("ETag"), line.body)
	}
}

func TestMethodsAreAnsweredWithAllow(t *testing.T) {
	a := startAPI(t)
	base := "http://" + a.HTTPAddr()
	for _, tc := range []struct {
		method, path, allow string
	}{
		{http.MethodDelete, "/v1/pcns/U12345/posts/ot-frailty", "GET, PATCH, HEAD, OPTIONS"},
		{http.MethodPut, "/v1/pcns/U12345/posts", "GET, POST, HEAD, OPTIONS"},
		{http.MethodGet, "/v1/auditEvents:verify", "POST, OPTIONS"},
		{http.MethodPost, "/healthz", "GET, HEAD, OPTIONS"},
		{http.MethodPost, "/openapi.json", "GET, HEAD, OPTIONS"},
	} {
		reply := send(t, base, restCall{method: tc.method, path: tc.path, token: "cd-own"})
		reason, _ := reply.errorInfo(t)
		if reply.status != http.StatusMethodNotAllowed || reply.header.Get("Allow") != tc.allow || reason != "METHOD_NOT_ALLOWED" {
			t.Errorf("%s %s: %d Allow %q %s; want 405 Allow %q", tc.method, tc.path, reply.status, reply.header.Get("Allow"), reason, tc.allow)
		}
		opts := send(t, base, restCall{method: http.MethodOptions, path: tc.path})
		if opts.status != http.StatusNoContent || opts.header.Get("Allow") != tc.allow {
			t.Errorf("OPTIONS %s: %d Allow %q", tc.path, opts.status, opts.header.Get("Allow"))
		}
	}
	head := send(t, base, restCall{method: http.MethodHead, path: "/v1/pcns/U12345/posts/ot-frailty", token: "cd-own"})
	if head.status != http.StatusOK || len(head.body) != 0 || head.header.Get("ETag") == "" {
		t.Errorf("HEAD: %d, %d bytes, ETag %q", head.status, len(head.body), head.header.Get("ETag"))
	}
	unknown := send(t, base, restCall{method: http.MethodGet, path: "/v1/nothing/here", token: "cd-own"})
	if reason, _ := unknown.errorInfo(t); unknown.status != http.StatusNotFound || reason != "PATH_NOT_FOUND" || unknown.header.Get("X-Request-Id") == "" {
		t.Errorf("unknown path: %d %s, request id %q", unknown.status, reason, unknown.header.Get("X-Request-Id"))
	}
}

func TestUnauthenticatedIsABearerChallenge(t *testing.T) {
	t.Parallel()
	dev, err := auth.LoadOrCreateDevKeys(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := startServerWith(t, claims.NewStore(pgtest.NewDB(t)), func(c *Config) { c.Authenticator = auth.NewAuthenticator(dev.Verifier(), nil) })
	base := "http://" + r.HTTPAddr()
	for _, tc := range []struct{ name, authorization, challenge, reason string }{
		{"no token", "", `Bearer realm="arrs"`, "CREDENTIALS_MISSING"},
		{"an unknown token", "Bearer not-a-token", `Bearer realm="arrs", error="invalid_token"`, "TOKEN_INVALID"},
		{"another scheme", "Basic dXNlcjpwYXNz", `Bearer realm="arrs", error="invalid_token"`, "TOKEN_INVALID"},
	} {
		c := restCall{method: http.MethodGet, path: "/v1/pcns/U12345"}
		if tc.authorization != "" {
			c.header = http.Header{"Authorization": {tc.authorization}}
		}
		reply := send(t, base, c)
		reason, _ := reply.errorInfo(t)
		if reply.status != http.StatusUnauthorized || reply.header.Get("WWW-Authenticate") != tc.challenge || reason != tc.reason {
			t.Errorf("%s: %d WWW-Authenticate %q reason %s", tc.name, reply.status, reply.header.Get("WWW-Authenticate"), reason)
		}
	}
}

func TestAcceptIsNegotiated(t *testing.T) {
	a := startAPI(t)
	base := "http://" + a.HTTPAddr()
	const export = "/v1/commissioners/QNQ/claimLines:export?month=2026-08"
	for _, tc := range []struct {
		accept, want string
	}{
		{"", "application/json"},
		{"text/csv", "text/csv"},
		{"TEXT/CSV; charset=UTF-8", "text/csv"},
		{"text/csv;header=present", "text/csv"},
		{"application/json;q=0.5, text/csv;q=0.9", "text/csv"},
		{"text/csv;q=0.1, application/json", "application/json"},
		{"text/*", "text/csv"},
		{"*/*", "application/json"},
		{"text/html, application/xhtml+xml, */*;q=0.8", "application/json"},
		{"text/csv;q=0, */*;q=0.1", "application/json"},
		{"text/html", "406"},
		{"text/csv;q=0", "406"},
	} {
		reply := send(t, base, restCall{method: http.MethodGet, path: export, token: "finance-own", header: http.Header{"Accept": {tc.accept}}})
		got := strings.SplitN(reply.header.Get("Content-Type"), ";", 2)[0]
		if reply.status == http.StatusNotAcceptable {
			got = "406"
		}
		if got != tc.want {
			t.Errorf("Accept %q: %d %s, want %s", tc.accept, reply.status, reply.header.Get("Content-Type"), tc.want)
		}
	}
}

func TestLargeJSONIsGzipped(t *testing.T) {
	a := startAPI(t)
	base := "http://" + a.HTTPAddr()
	gz := http.Header{"Accept-Encoding": {"gzip"}}
	list := send(t, base, restCall{method: http.MethodGet, path: "/v1/pcns/-/posts", token: "national", header: gz})
	if list.status != http.StatusOK || list.header.Get("Content-Encoding") != "gzip" || !strings.Contains(list.header.Get("Vary"), "Accept-Encoding") {
		t.Fatalf("12 posts: %d Content-Encoding %q Vary %q", list.status, list.header.Get("Content-Encoding"), list.header.Get("Vary"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(list.body))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil || !json.Valid(plain) || len(plain) <= len(list.body) {
		t.Errorf("gzip body: %d bytes from %d, valid JSON %v, %v", len(plain), len(list.body), json.Valid(plain), err)
	}
	small := send(t, base, restCall{method: http.MethodGet, path: "/v1/commissioners/QNQ", token: "national", header: gz})
	if small.status != http.StatusOK || small.header.Get("Content-Encoding") != "" || !json.Valid(small.body) {
		t.Errorf("one commissioner (%d bytes) compressed: %q", len(small.body), small.header.Get("Content-Encoding"))
	}
	plainList := send(t, base, restCall{method: http.MethodGet, path: "/v1/pcns/-/posts", token: "national"})
	if plainList.header.Get("Content-Encoding") != "" {
		t.Errorf("compressed for a client that did not ask")
	}
}

func TestZeroValuesAreWritten(t *testing.T) {
	a := startAPI(t)
	base := "http://" + a.HTTPAddr()
	post := send(t, base, restCall{method: http.MethodGet, path: "/v1/pcns/U12345/posts/ot-frailty", token: "cd-own"}).json(t)
	for _, field := range []string{"endDate", "employer", "baseline", "focusCohort"} {
		if _, ok := post[field]; !ok {
			t.Errorf("post has no %s: %v", field, post)
		}
	}
	// The demo's October claim awaits review: nothing approved or paid yet.
	first := send(t, base, restCall{method: http.MethodGet, path: "/v1/pcns/U12345/claims/2026-10", token: "cd-own"}).json(t)
	if first["approvedPence"] != "0" || first["paidPence"] != "0" || first["reviewer"] != "" {
		t.Errorf("a submitted claim's zero amounts: %v", first)
	}
	if _, ok := first["payment"]; ok {
		t.Errorf("an unset message is written (as null?): %v", first["payment"])
	}
}

func TestCORS(t *testing.T) {
	t.Parallel()
	const console = "https://console.example.nhs.uk"
	withOrigins := startServerWith(t, claims.NewStore(pgtest.NewDB(t)), func(c *Config) { c.REST.CORSOrigins = []string{console} })
	sameOrigin := startServer(t, claims.NewStore(pgtest.NewDB(t)))
	preflight := func(base, origin string) restReply {
		return send(t, base, restCall{method: http.MethodOptions, path: "/v1/pcns/U12345/posts/ot-frailty", header: http.Header{
			"Origin": {origin}, "Access-Control-Request-Method": {"PATCH"},
			"Access-Control-Request-Headers": {"authorization, content-type, if-match"}}})
	}
	base := "http://" + withOrigins.HTTPAddr()
	reply := preflight(base, console)
	if reply.status != http.StatusNoContent || reply.header.Get("Access-Control-Allow-Origin") != console ||
		reply.header.Get("Access-Control-Allow-Methods") != "PATCH" ||
		reply.header.Get("Access-Control-Allow-Headers") != "authorization, content-type, if-match" ||
		reply.header.Get("Access-Control-Allow-Credentials") != "" || reply.header.Get("Access-Control-Max-Age") == "" {
		t.Errorf("preflight from the console: %d %v", reply.status, reply.header)
	}
	if reply := preflight(base, "https://evil.example"); reply.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from another origin allowed: %v", reply.header)
	}
	get := send(t, base, restCall{method: http.MethodGet, path: "/v1/pcns/U12345/posts/ot-frailty", token: "cd-own",
		header: http.Header{"Origin": {console}}})
	exposed := strings.Split(strings.ReplaceAll(get.header.Get("Access-Control-Expose-Headers"), " ", ""), ",")
	for _, h := range []string{"Etag", "X-Request-Id", "Content-Disposition"} {
		if !slices.ContainsFunc(exposed, func(e string) bool { return strings.EqualFold(e, h) }) {
			t.Errorf("%s not exposed: %q", h, exposed)
		}
	}
	if get.header.Get("Access-Control-Allow-Origin") != console || get.header.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("GET from the console: %v", get.header)
	}
	// An error answered before the gateway still carries CORS headers, so
	// the page can read it.
	tooBig := send(t, base, restCall{method: http.MethodPost, path: "/v1/pcns/U12345/posts", header: http.Header{
		"Origin": {console}, "Content-Type": {"application/json"}}, body: io.LimitReader(zeros{}, 2<<20), contentLength: 2 << 20})
	if tooBig.status != http.StatusRequestEntityTooLarge || tooBig.header.Get("Access-Control-Allow-Origin") != console {
		t.Errorf("413 without CORS headers: %d %v", tooBig.status, tooBig.header)
	}

	// None configured: same origin only, no CORS headers at all.
	base = "http://" + sameOrigin.HTTPAddr()
	reply = preflight(base, console)
	if reply.header.Get("Access-Control-Allow-Origin") != "" || reply.status != http.StatusNoContent || reply.header.Get("Allow") == "" {
		t.Errorf("preflight with no origins configured: %d %v", reply.status, reply.header)
	}
	for k := range send(t, base, restCall{method: http.MethodGet, path: "/v1/pcns/U12345", token: "cd-own", header: http.Header{"Origin": {console}}}).header {
		if strings.HasPrefix(k, "Access-Control-") {
			t.Errorf("CORS header %s with no origins configured", k)
		}
	}
}

func TestCORSOriginsAreChecked(t *testing.T) {
	for _, origin := range []string{"*", "console.example.nhs.uk", "https://console.example.nhs.uk/", "https://console.example.nhs.uk/app", "ftp://x"} {
		if err := checkOrigin(origin); err == nil {
			t.Errorf("origin %q accepted", origin)
		}
	}
	for _, origin := range []string{"https://console.example.nhs.uk", "http://localhost:5173"} {
		if err := checkOrigin(origin); err != nil {
			t.Errorf("origin %q: %v", origin, err)
		}
	}
}

func TestOpenAPIIsServedAndCoversEveryRoute(t *testing.T) {
	r := startServer(t, claims.NewStore(pgtest.NewDB(t)))
	reply := send(t, "http://"+r.HTTPAddr(), restCall{method: http.MethodGet, path: "/openapi.json"})
	if reply.status != http.StatusOK || !bytes.Equal(reply.body, openapi.JSON) {
		t.Fatalf("GET /openapi.json without a token: %d, %d bytes", reply.status, len(reply.body))
	}
	var doc struct {
		OpenAPI string
		Paths   map[string]map[string]struct {
			OperationID string
			Security    *[]map[string][]string
		}
	}
	if err := json.Unmarshal(reply.body, &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.0") {
		t.Fatalf("not OpenAPI 3.0: %q %v", doc.OpenAPI, err)
	}
	// Every HTTP rule is documented, at its path with its variables named.
	bindings, err := loadBindings(arrsproto.HTTPRules)
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		if strings.Contains(path, "{name") {
			t.Errorf("%s: a catch-all path variable", path)
		}
		for method, op := range ops {
			documented[op.OperationID] = true
			open := op.Security != nil && len(*op.Security) == 0
			if open != (path == "/healthz" || path == "/openapi.json") {
				t.Errorf("%s %s: security %v", method, path, op.Security)
			}
		}
	}
	for key, b := range bindings {
		id := string(b.rpc.Parent().Name()) + "_" + string(b.rpc.Name())
		if !documented[id] {
			t.Errorf("%s (%s) is not in the document", key, id)
		}
	}
	if len(bindings) != 90 {
		t.Errorf("%d HTTP rules, want 90", len(bindings))
	}
}
