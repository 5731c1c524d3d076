package server

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"arrs.nhs.uk/arrs/claims"
)

// Conversions between the wire forms of arrs.v1 and the domain's types. Each
// parse records a field violation rather than failing, so one response names
// every bad field.

func parseDate(vs *claims.Violations, field, s string) claims.Date {
	d, err := claims.ParseDate(s)
	if err != nil {
		vs.Add(field, "DATE_FORMAT", "%s", err)
	}
	return d
}

func parseDecimal(vs *claims.Violations, field, s string) claims.Decimal {
	if s == "" {
		vs.Add(field, "REQUIRED", "a decimal number is required")
		return 0
	}
	d, err := claims.ParseDecimal(s)
	if err != nil {
		vs.Add(field, "DECIMAL_FORMAT", "%s", err)
	}
	return d
}

func parseYear(vs *claims.Violations, field, s string) claims.FinancialYear {
	y, err := claims.ParseFinancialYear(s)
	if err != nil {
		vs.Add(field, "FINANCIAL_YEAR_FORMAT", "%s", err)
	}
	return y
}

func timestamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

// createRequest binds a create call to its request_id for idempotency: the
// fingerprint is a digest of the whole request, so a request_id reused with a
// different body is refused rather than answered with the wrong resource.
func createRequest(ctx context.Context, requestID string, req proto.Message) (claims.Request, error) {
	method, _ := grpc.Method(ctx)
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(req)
	if err != nil {
		return claims.Request{}, fmt.Errorf("fingerprint request: %w", err)
	}
	sum := sha256.Sum256(b)
	return claims.Request{ID: requestID, Method: method, Fingerprint: sum[:]}, nil
}

// updatePaths returns the fields an update touches: the mask's paths, or
// every mutable field when the mask is empty (AIP-134). A path outside
// mutable is a bad update_mask.
func updatePaths(mask *fieldmaskpb.FieldMask, mutable ...string) (map[string]bool, error) {
	paths := mask.GetPaths()
	if len(paths) == 0 || (len(paths) == 1 && paths[0] == "*") {
		paths = mutable
	}
	set := make(map[string]bool, len(paths))
	var vs claims.Violations
	for _, p := range paths {
		p = snakeCase(p)
		if !slices.Contains(mutable, p) {
			vs.Add("update_mask", "FIELD_NOT_MUTABLE", "%q is not a field this update can change", p)
		}
		set[p] = true
	}
	return set, vs.Err()
}

// requireName records a violation when a resource name field is empty.
func requireName(vs *claims.Violations, field, name string) {
	if name == "" {
		vs.Add(field, "REQUIRED", "the resource name is required")
	}
}

// reverse inverts an enum mapping so one table serves both directions.
func reverse[K, V comparable](m map[K]V) map[V]K {
	out := make(map[V]K, len(m))
	for k, v := range m {
		out[v] = k
	}
	return out
}

// tokenFor returns the next_page_token continuing after the key the store
// returned, or "" when the listing is complete.
func tokenFor(after string, filter ...string) string {
	if after == "" {
		return ""
	}
	return nextPageToken(after, filter...)
}

func (p pageRequest) store() claims.Page { return claims.Page{After: p.After, Size: p.Size} }

// snakeCase turns a JSON field name into the proto one. protojson does so for
// a FieldMask in a JSON body, but the gateway passes a mask given as a query
// parameter (?updateMask=grossSalaryPence) through as written.
func snakeCase(path string) string {
	var b strings.Builder
	for _, r := range path {
		if r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
