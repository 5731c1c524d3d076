package server

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	arrsv1 "arrs.nhs.uk/arrs/gen/arrs/v1"
)

func TestCheckTextRules(t *testing.T) {
	t.Parallel()
	line := textRule{max: 10}
	prose := textRule{max: 10, prose: true}
	tests := []struct {
		name string
		s    string
		rule textRule
		want string
	}{
		{"plain text", "Nia Evans", line, ""},
		{"accents and emoji count as characters", "Siân 🙂 é", line, ""},
		{"exactly the limit", strings.Repeat("é", 10), line, ""},
		{"one over the limit", strings.Repeat("a", 11), line, "LENGTH"},
		{"NUL", "a\x00b", line, "CONTROL_CHARACTER"},
		{"NUL in prose too", "a\x00b", prose, "CONTROL_CHARACTER"},
		{"escape", "a\x1bb", line, "CONTROL_CHARACTER"},
		{"DEL", "a\x7fb", line, "CONTROL_CHARACTER"},
		{"C1 control", "a\u0085b", line, "CONTROL_CHARACTER"},
		{"a line break in a one-line field", "a\nb", line, "CONTROL_CHARACTER"},
		{"a tab in a one-line field", "a\tb", line, "CONTROL_CHARACTER"},
		{"line breaks and tabs in prose", "a\r\nb\tc", prose, ""},
		{"invalid UTF-8", "a\xffb", line, "UTF8"},
		{"a lone surrogate's bytes", "\xed\xa0\x80", prose, "UTF8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, _ := checkText(tc.s, tc.rule); got != tc.want {
				t.Errorf("checkText(%q) = %q, want %q", tc.s, got, tc.want)
			}
		})
	}
}

// TestEveryStringIsCheckedAtTheBoundary sends strings that break the text
// rules in fields at every depth: each is INVALID_ARGUMENT naming the field
// and rule, and nothing is written.
func TestEveryStringIsCheckedAtTheBoundary(t *testing.T) {
	a := startAPI(t)
	claimsClient := arrsv1.NewClaimServiceClient(a.conn)
	post := func(change func(*arrsv1.Post)) *arrsv1.CreatePostRequest {
		p := &arrsv1.Post{Role: "roles/occupational-therapist", StaffName: "Nia Evans", RegistrationNumber: "OT123456",
			Wte: "0.6", StartDate: "2025-04-17"}
		change(p)
		return &arrsv1.CreatePostRequest{Parent: "pcns/U12345", Post: p}
	}
	forged := base64.RawURLEncoding.EncodeToString([]byte(`{"a":"pcns/U12345/posts/x\u0000","f":"` + filterHash([]string{"pcns/U12345", ""}) + `"}`))
	tests := []struct {
		name  string
		token string
		call  func(ctx context.Context) error
		want  []string
	}{
		{"NUL in a nested field", "cd-own", func(ctx context.Context) error {
			_, err := a.work.CreatePost(ctx, post(func(p *arrsv1.Post) { p.Employer = "Riverside\x00" }))
			return err
		}, []string{"post.employer CONTROL_CHARACTER"}},
		{"a line break in a name", "cd-own", func(ctx context.Context) error {
			_, err := a.work.CreatePost(ctx, post(func(p *arrsv1.Post) { p.StaffName = "Nia\nEvans" }))
			return err
		}, []string{"post.staff_name CONTROL_CHARACTER"}},
		{"an overlong name and a bad request id together", "cd-own", func(ctx context.Context) error {
			req := post(func(p *arrsv1.Post) { p.StaffName = strings.Repeat("N", 201) })
			req.RequestId = "\x01"
			_, err := a.work.CreatePost(ctx, req)
			return err
		}, []string{"post.staff_name LENGTH", "request_id CONTROL_CHARACTER"}},
		{"an element of a repeated field deep in a batch", "cd-own", func(ctx context.Context) error {
			_, err := claimsClient.BatchUpdateClaimLines(ctx, &arrsv1.BatchUpdateClaimLinesRequest{
				Parent: "pcns/U12345/claims/2026-11",
				Requests: []*arrsv1.UpdateClaimLineRequest{
					{ClaimLine: &arrsv1.ClaimLine{Name: "pcns/U12345/claims/2026-11/lines/a"}},
					{ClaimLine: &arrsv1.ClaimLine{Name: "pcns/U12345/claims/2026-11/lines/b", EvidenceUris: []string{"https://e.example/1", "x\x00"}}},
				}})
			return err
		}, []string{"requests[1].claim_line.evidence_uris[1] CONTROL_CHARACTER"}},
		{"a rejection's reason over its 2000 characters", "approver-own", func(ctx context.Context) error {
			_, err := claimsClient.RejectClaim(ctx, &arrsv1.RejectClaimRequest{Name: "pcns/U12345/claims/2026-10", Reason: strings.Repeat("x", 2001)})
			return err
		}, []string{"reason LENGTH"}},
		{"a withdrawal's reason over its 1000 characters", "cd-own", func(ctx context.Context) error {
			_, err := claimsClient.WithdrawClaim(ctx, &arrsv1.WithdrawClaimRequest{Name: "pcns/U12345/claims/2026-10", Reason: strings.Repeat("é", 1001)})
			return err
		}, []string{"reason LENGTH"}},
		{"NUL in a CSV import", "cd-own", func(ctx context.Context) error {
			_, err := claimsClient.ImportClaimLines(ctx, &arrsv1.ImportClaimLinesRequest{Parent: "pcns/U12345/claims/2026-11", CsvData: "post,gross_salary\nx,1\x00"})
			return err
		}, []string{"csv_data CONTROL_CHARACTER"}},
		{"a forged page token whose key holds NUL", "cd-own", func(ctx context.Context) error {
			_, err := a.work.ListPosts(ctx, &arrsv1.ListPostsRequest{Parent: "pcns/U12345", PageToken: forged})
			return err
		}, []string{"page_token PAGE_TOKEN_INVALID"}},
		{"a budget for 9999-00", "cd-own", func(ctx context.Context) error {
			_, err := claimsClient.GetBudget(ctx, &arrsv1.GetBudgetRequest{Name: "pcns/U12345/budgets/9999-00"})
			return err
		}, []string{"name RESOURCE_NAME_FORMAT"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, got := violations(tc.call(as(t.Context(), tc.token)))
			slices.Sort(got)
			if code != codes.InvalidArgument || !slices.Equal(got, tc.want) {
				t.Errorf("= %v %v, want INVALID_ARGUMENT %v", code, got, tc.want)
			}
		})
	}
	// Line breaks are prose: a reason may have them (the claim is then
	// rejected or not on its merits, not refused as text).
	_, err := claimsClient.RejectClaim(as(t.Context(), "approver-own"), &arrsv1.RejectClaimRequest{
		Name: "pcns/U12345/claims/2026-10", Reason: "Line 3 has no evidence.\r\nPlease attach the payslip.\tThanks"})
	if _, got := violations(err); slices.ContainsFunc(got, func(v string) bool { return strings.HasPrefix(v, "reason ") }) {
		t.Errorf("a reason with line breaks was refused as text: %v", got)
	}
	posts, err := a.work.ListPosts(as(t.Context(), "cd-own"), &arrsv1.ListPostsRequest{Parent: "pcns/U12345", PageSize: 500})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range posts.GetPosts() {
		if strings.ContainsRune(p.GetEmployer(), 0) || len(p.GetStaffName()) > 200 || strings.Contains(p.GetStaffName(), "\n") {
			t.Errorf("a refused post was written: %v", p)
		}
	}
}

// rawCodec sends and receives bytes as they are, to put malformed messages
// on the wire.
type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(*v.(*[]byte))}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	*v.(*[]byte) = data.Materialize()
	return nil
}

func (rawCodec) Name() string { return "proto" }

var _ encoding.CodecV2 = rawCodec{}

// invokeRaw calls method with body as the request's bytes.
func invokeRaw(ctx context.Context, conn *grpc.ClientConn, method string, body []byte) error {
	var out []byte
	return conn.Invoke(ctx, method, &body, &out, grpc.ForceCodecV2(rawCodec{}))
}

func TestAMessageThatDoesNotParseIsInvalidArgument(t *testing.T) {
	a := startAPI(t)
	valid, err := proto.Marshal(&arrsv1.CreatePostRequest{Parent: "pcns/U12345", Post: &arrsv1.Post{StaffName: "Nia"}})
	if err != nil {
		t.Fatal(err)
	}
	// Field 1 (parent), length 2, bytes that are not UTF-8.
	badUTF8 := []byte{0x0a, 0x02, 0xff, 0xfe}
	for _, tc := range []struct {
		name string
		body []byte
	}{
		{"a string that is not UTF-8", badUTF8},
		{"a message cut short", valid[:len(valid)-2]},
		{"random bytes", []byte{0xff, 0xff, 0xff, 0xff, 0x0f}},
		{"a length beyond the end", []byte{0x0a, 0x7f, 'p'}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, token := range []string{"cd-own", ""} {
				ctx := t.Context()
				if token != "" {
					ctx = as(ctx, token)
				}
				err := invokeRaw(ctx, a.conn, "/arrs.v1.WorkforceService/CreatePost", tc.body)
				if code, _ := violations(err); code != codes.InvalidArgument || !strings.Contains(err.Error(), "does not parse") {
					t.Errorf("as %q: %v, want INVALID_ARGUMENT", token, err)
				}
			}
		})
	}
}

func TestRESTBadTextIs400NotAServerError(t *testing.T) {
	a := startAPI(t)
	base := "http://" + a.HTTPAddr() + "/v1/"
	tests := []struct {
		name, method, path, body string
		want                     int
		contains                 string
	}{
		{"NUL in a JSON string", http.MethodPost, "pcns/U12345/posts",
			`{"role":"roles/occupational-therapist","wte":"0.5","startDate":"2025-05-01","employer":"a\u0000b"}`, 400, "post.employer"},
		{"an unknown enum name", http.MethodPost, "pcns/U12345/posts",
			`{"role":"roles/occupational-therapist","wte":"0.5","startDate":"2025-05-01","focusCohort":"NOT_AN_ENUM"}`, 400, "focusCohort"},
		{"invalid UTF-8 in the path", http.MethodGet, "pcns/U%ff%fe/posts", "", 400, "INVALID_UTF8"},
		{"invalid UTF-8 in the query", http.MethodGet, "pcns/U12345/posts?role=%ff", "", 400, "INVALID_UTF8"},
		{"NUL in the path", http.MethodGet, "pcns/U12345/posts/a%00b", "", 400, "CONTROL_CHARACTER"},
		{"a budget for 9999-00", http.MethodGet, "pcns/U12345/budgets/9999-00", "", 400, "RESOURCE_NAME_FORMAT"},
		{"a lone surrogate escape in JSON", http.MethodPost, "pcns/U12345/posts",
			`{"role":"roles/occupational-therapist","wte":"0.5","startDate":"2025-05-01","staffName":"\ud800"}`, 400, ""},
		{"a method the path does not have", http.MethodDelete, "pcns/U12345/posts", "", 405, "METHOD_NOT_ALLOWED"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tc.method, base+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer cd-own")
			if tc.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.want || !strings.Contains(string(body), tc.contains) {
				t.Errorf("= %d %s, want %d mentioning %q", resp.StatusCode, body, tc.want, tc.contains)
			}
			if tc.want == 405 && resp.Header.Get("Allow") == "" {
				t.Error("405 without Allow")
			}
		})
	}
}

// TestAnOversizedMessageIsRefusedUnread: gRPC refuses a message over
// maxRecvMsgBytes from its length prefix, before reading it, as
// RESOURCE_EXHAUSTED, not INTERNAL.
func TestAnOversizedMessageIsRefusedUnread(t *testing.T) {
	a := startAPI(t)
	body, err := proto.Marshal(&arrsv1.ImportClaimLinesRequest{Parent: "pcns/U12345/claims/2026-11", CsvData: strings.Repeat("x", maxRecvMsgBytes)})
	if err != nil {
		t.Fatal(err)
	}
	err = invokeRaw(as(t.Context(), "cd-own"), a.conn, "/arrs.v1.ClaimService/ImportClaimLines", body)
	if code := status.Code(err); code != codes.ResourceExhausted {
		t.Errorf("a %d-byte message: %v, want RESOURCE_EXHAUSTED", len(body), err)
	}
}

// Every field a person writes prose in takes line breaks and as many
// characters as its proto comment says; a new prose field without a rule
// would get the 200-character one-line default.
func TestProseFieldsHaveTheirRules(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		msg   proto.Message
		field string
		max   int
	}{
		{&arrsv1.QueryClaimRequest{}, "question", 2000},
		{&arrsv1.RejectClaimRequest{}, "reason", 2000},
		{&arrsv1.ReplyToClaimQueryRequest{}, "text", 2000},
		{&arrsv1.WithdrawClaimRequest{}, "reason", 1000},
	} {
		f := tc.msg.ProtoReflect().Descriptor().Fields().ByName(protoreflect.Name(tc.field))
		if f == nil {
			t.Fatalf("%T has no field %s", tc.msg, tc.field)
		}
		if r := ruleFor(f); !r.prose || r.max != tc.max {
			t.Errorf("%s: rule %+v, want prose of at most %d", f.FullName(), r, tc.max)
		}
	}
}
