package server

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"

	"arrs.nhs.uk/arrs/claims"
)

// Page sizes for every List method (AIP-158).
const (
	defaultPageSize = 50
	maxPageSize     = 500
)

// pageRequest is a validated List page: at most Size results whose key (the
// resource name) sorts after After; After is empty for the first page. A
// handler asks the store for Size+1 rows so it knows whether to return a
// next_page_token without a second query.
type pageRequest struct {
	Size  int
	After string
}

// pageToken is what a next_page_token encodes. Filter binds the token to the
// request that produced it, so a client cannot page through one listing with
// a token from another and silently skip or repeat results.
type pageToken struct {
	After  string `json:"a"`
	Filter string `json:"f"`
}

// parsePage validates a List request's page_size and page_token. filter is
// every request field other than the page fields that selects what is
// listed (parent, commissioner, state, ...), in a fixed order; pass the same
// values to nextPageToken.
func parsePage(size int32, token string, filter ...string) (pageRequest, error) {
	var vs claims.Violations
	p := pageRequest{Size: int(size)}
	switch {
	case size < 0:
		vs.Add("page_size", "PAGE_SIZE_NEGATIVE", "page_size must not be negative")
	case size == 0:
		p.Size = defaultPageSize
	case size > maxPageSize:
		p.Size = maxPageSize
	}
	if token != "" {
		t, ok := decodePageToken(token)
		switch {
		case !ok:
			vs.Add("page_token", "PAGE_TOKEN_INVALID", "page_token is not a token this service returned")
		case t.Filter != filterHash(filter):
			vs.Add("page_token", "PAGE_TOKEN_MISMATCH", "page_token was returned for a request with different arguments; repeat the first request's arguments or start again without a token")
		default:
			p.After = t.After
		}
	}
	return p, vs.Err()
}

// nextPageToken returns the token for the page after the one whose last
// result has key lastKey; filter is as for parsePage. A handler returns it
// only when more results follow, since an empty token ends the listing.
func nextPageToken(lastKey string, filter ...string) string {
	// Marshalling a struct of two strings cannot fail.
	b, _ := json.Marshal(pageToken{After: lastKey, Filter: filterHash(filter)})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodePageToken(token string) (pageToken, bool) {
	var t pageToken
	b, err := base64.RawURLEncoding.DecodeString(token)
	// The key goes into SQL as a parameter: it must be text PostgreSQL
	// accepts, and a client can write any token it likes.
	if err != nil || json.Unmarshal(b, &t) != nil || t.After == "" || !plainText(t.After) {
		return pageToken{}, false
	}
	return t, true
}

// filterHash fingerprints the filter values. Each value is length-prefixed
// so that ("ab", "c") and ("a", "bc") differ. It guards against mistakes, not
// forgery: a forged token only reaches rows the caller could list anyway.
func filterHash(filter []string) string {
	h := sha256.New()
	var n [binary.MaxVarintLen64]byte
	for _, f := range filter {
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(f)))])
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}
