package server

import (
	"encoding/base64"
	"testing"

	"arrs.nhs.uk/arrs/claims"
)

// violation returns the single field violation of err, failing otherwise.
func violation(t *testing.T, err error) claims.Violation {
	t.Helper()
	e, ok := claims.AsError(err)
	if !ok || e.Kind != claims.KindInvalid || len(e.Violations) != 1 {
		t.Fatalf("error = %v, want one INVALID violation", err)
	}
	return e.Violations[0]
}

func TestParsePageSize(t *testing.T) {
	for _, tc := range []struct {
		name string
		size int32
		want int
	}{
		{"zero means the default", 0, 50},
		{"one", 1, 1},
		{"at the maximum", 500, 500},
		{"above the maximum is clamped", 501, 500},
		{"far above the maximum is clamped", 1 << 30, 500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := parsePage(tc.size, "")
			if err != nil {
				t.Fatal(err)
			}
			if p.Size != tc.want || p.After != "" {
				t.Errorf("page = %+v, want size %d from the start", p, tc.want)
			}
		})
	}
}

func TestParsePageNegativeSizeIsInvalid(t *testing.T) {
	_, err := parsePage(-1, "")
	if v := violation(t, err); v.Field != "page_size" || v.Rule != "PAGE_SIZE_NEGATIVE" {
		t.Errorf("violation = %+v, want page_size PAGE_SIZE_NEGATIVE", v)
	}
}

func TestPageTokenResumesAfterTheLastKey(t *testing.T) {
	token := nextPageToken("pcns/U12345/posts/p7", "pcns/U12345", "STATE_FILLED")
	p, err := parsePage(20, token, "pcns/U12345", "STATE_FILLED")
	if err != nil {
		t.Fatal(err)
	}
	if p.Size != 20 || p.After != "pcns/U12345/posts/p7" {
		t.Errorf("page = %+v, want 20 after pcns/U12345/posts/p7", p)
	}
}

func TestPageTokenIsURLSafe(t *testing.T) {
	// A token travels in a REST query string, so it must need no escaping.
	token := nextPageToken("roles/occupational-therapist/rates/r?&/+", "roles/occupational-therapist")
	if _, err := base64.RawURLEncoding.DecodeString(token); err != nil {
		t.Errorf("token %q is not unpadded base64url: %v", token, err)
	}
}

func TestPageTokenBoundToTheFilter(t *testing.T) {
	token := nextPageToken("pcns/U12345", "commissioners/QNQ")
	for _, tc := range []struct {
		name   string
		filter []string
	}{
		{"another value", []string{"commissioners/QHM"}},
		{"filter dropped", nil},
		{"filter added", []string{"commissioners/QNQ", "STATE_FILLED"}},
		{"same bytes split differently", []string{"commissioners/", "QNQ"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parsePage(0, token, tc.filter...)
			if v := violation(t, err); v.Field != "page_token" || v.Rule != "PAGE_TOKEN_MISMATCH" {
				t.Errorf("violation = %+v, want page_token PAGE_TOKEN_MISMATCH", v)
			}
		})
	}
}

func TestPageTokenGarbageIsInvalid(t *testing.T) {
	for _, tc := range []struct {
		name  string
		token string
	}{
		{"not base64", "%%%"},
		{"base64 of not JSON", base64.RawURLEncoding.EncodeToString([]byte("pcns/U12345"))},
		{"JSON without a key", base64.RawURLEncoding.EncodeToString([]byte(`{"f":"00"}`))},
		{"padded standard base64", base64.StdEncoding.EncodeToString([]byte(`{"a":"pcns/U12","f":"00"}`))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parsePage(0, tc.token)
			if v := violation(t, err); v.Field != "page_token" || v.Rule != "PAGE_TOKEN_INVALID" {
				t.Errorf("violation = %+v, want page_token PAGE_TOKEN_INVALID", v)
			}
		})
	}
}

func TestParsePageReportsEveryBadField(t *testing.T) {
	_, err := parsePage(-5, "%%%")
	e, _ := claims.AsError(err)
	if e == nil || len(e.Violations) != 2 {
		t.Errorf("error = %v, want violations for page_size and page_token", err)
	}
}
