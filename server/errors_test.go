package server

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"arrs.nhs.uk/arrs/claims"
)

// details splits a status's details into the kinds arrs sends (RetryInfo,
// on UNAVAILABLE, is checked where it matters).
func details(t *testing.T, st *status.Status) (*errdetails.ErrorInfo, *errdetails.BadRequest) {
	t.Helper()
	var info *errdetails.ErrorInfo
	var br *errdetails.BadRequest
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			info = d
		case *errdetails.BadRequest:
			br = d
		case *errdetails.RetryInfo:
			if st.Code() != codes.Unavailable {
				t.Errorf("RetryInfo on %v", st.Code())
			}
		default:
			t.Errorf("unexpected detail %T", d)
		}
	}
	return info, br
}

func TestToStatusMapsEachDomainKindToOneCodeWithErrorInfo(t *testing.T) {
	for _, tc := range []struct {
		name     string
		err      error
		code     codes.Code
		reason   string
		resource string
	}{
		{"not found", claims.NotFound("commissioners/QNQ"), codes.NotFound, "RESOURCE_NOT_FOUND", "commissioners/QNQ"},
		{"already exists", claims.AlreadyExists("pcns/U12345", "PCN U12345 exists"), codes.AlreadyExists, "RESOURCE_EXISTS", "pcns/U12345"},
		{"etag mismatch is aborted", claims.EtagMismatch("pcns/U12345/posts/p1"), codes.Aborted, "ETAG_MISMATCH", "pcns/U12345/posts/p1"},
		{"state forbids", claims.FailedPrecondition("pcns/U12345/posts/p1", "POST_ENDED", "the post has ended"), codes.FailedPrecondition, "POST_ENDED", "pcns/U12345/posts/p1"},
		{"wrapped domain error", fmt.Errorf("get pcn: %w", claims.NotFound("pcns/U12345")), codes.NotFound, "RESOURCE_NOT_FOUND", "pcns/U12345"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, internal := toStatus(context.Background(), tc.err)
			if internal {
				t.Error("domain error reported as internal")
			}
			if st.Code() != tc.code {
				t.Errorf("code = %v, want %v", st.Code(), tc.code)
			}
			info, br := details(t, st)
			if info == nil {
				t.Fatal("no ErrorInfo")
			}
			if info.Reason != tc.reason || info.Domain != "arrs.nhs.uk" || info.Metadata["resource"] != tc.resource {
				t.Errorf("ErrorInfo = %v, want reason %s, domain arrs.nhs.uk, resource %s", info, tc.reason, tc.resource)
			}
			if br != nil {
				t.Errorf("BadRequest on a %v error: %v", tc.code, br)
			}
		})
	}
}

func TestToStatusInvalidCarriesEveryFieldViolation(t *testing.T) {
	var vs claims.Violations
	vs.Add("post.wte", "WTE_RANGE", "wte must be between 0 and 1, not %s", "1.2")
	vs.Add("post.role", "REQUIRED", "role is required")
	st, _ := toStatus(context.Background(), vs.Err())
	if st.Code() != codes.InvalidArgument {
		t.Fatalf("code = %v, want InvalidArgument", st.Code())
	}
	if !strings.Contains(st.Message(), "post.wte") {
		t.Errorf("message %q does not name the field", st.Message())
	}
	info, br := details(t, st)
	if info == nil || info.Reason != "INVALID_ARGUMENT" || info.Metadata != nil {
		t.Errorf("ErrorInfo = %v, want reason INVALID_ARGUMENT and no resource", info)
	}
	if br == nil {
		t.Fatal("no BadRequest")
	}
	want := []*errdetails.BadRequest_FieldViolation{
		{Field: "post.wte", Reason: "WTE_RANGE", Description: "wte must be between 0 and 1, not 1.2"},
		{Field: "post.role", Reason: "REQUIRED", Description: "role is required"},
	}
	if len(br.FieldViolations) != len(want) {
		t.Fatalf("violations = %v, want %v", br.FieldViolations, want)
	}
	for i, v := range br.FieldViolations {
		if v.Field != want[i].Field || v.Reason != want[i].Reason || v.Description != want[i].Description {
			t.Errorf("violation %d = %v, want %v", i, v, want[i])
		}
	}
}

func TestToStatusNonDomainErrors(t *testing.T) {
	const unavailable = "the database is unavailable; retry shortly"
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel := context.WithTimeout(context.Background(), 0)
	defer cancel()
	background := context.Background()
	for _, tc := range []struct {
		name     string
		ctx      context.Context
		err      error
		code     codes.Code
		message  string
		reason   string
		internal bool
	}{
		{"SQL text never reaches the caller", background, errors.New(`pq: relation "posts" does not exist`), codes.Internal, "internal error", "INTERNAL", true},
		{"domain error of no known kind is a bug", background, &claims.Error{Reason: "X", Message: "secret"}, codes.Internal, "internal error", "INTERNAL", true},
		{"context cancelled", background, fmt.Errorf("list: %w", context.Canceled), codes.Canceled, "the request was cancelled", "CANCELLED", false},
		{"the caller's deadline", expired, context.DeadlineExceeded, codes.DeadlineExceeded, "the request ran out of time", "DEADLINE_EXCEEDED", false},
		{"arrs's own deadline waiting for the database", background, fmt.Errorf("begin: %w", context.DeadlineExceeded), codes.Unavailable, unavailable, "DATABASE_UNAVAILABLE", false},
		// Which database errors mean "unavailable" is claims.DatabaseUnavailable's
		// to say (and test); these show the mapping.
		{"a connection already closed", background, sql.ErrConnDone, codes.Unavailable, unavailable, "DATABASE_UNAVAILABLE", false},
		{"a refused dial", background, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, codes.Unavailable, unavailable, "DATABASE_UNAVAILABLE", false},
		{"driver error after the caller gave up", cancelled, errors.New("pq: canceling statement due to user request"), codes.Canceled, "the request was cancelled", "CANCELLED", false},
		{"driver error after the deadline", expired, errors.New("pq: canceling statement due to user request"), codes.DeadlineExceeded, "the request ran out of time", "DEADLINE_EXCEEDED", false},
		{"a deliberate status passes through", background, status.Error(codes.Unimplemented, "method ListPosts not implemented"), codes.Unimplemented, "method ListPosts not implemented", "", false},
		{"an internal status is still logged", background, status.Error(codes.Internal, "boom"), codes.Internal, "boom", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, internal := toStatus(tc.ctx, tc.err)
			if st.Code() != tc.code || st.Message() != tc.message {
				t.Errorf("status = %v %q, want %v %q", st.Code(), st.Message(), tc.code, tc.message)
			}
			if internal != tc.internal {
				t.Errorf("internal = %v, want %v", internal, tc.internal)
			}
			info, _ := details(t, st)
			switch {
			case tc.reason == "" && info != nil:
				t.Errorf("ErrorInfo %v added to a status that passed through", info)
			case tc.reason != "" && (info == nil || info.Reason != tc.reason || info.Domain != "arrs.nhs.uk"):
				t.Errorf("ErrorInfo = %v, want reason %s in arrs.nhs.uk", info, tc.reason)
			}
		})
	}
}
