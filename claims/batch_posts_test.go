package claims_test

import (
	"testing"

	"github.com/google/uuid"

	"arrs.nhs.uk/arrs/claims"
)

func TestBatchCreatePostsCreatesAllInOrderWithAnEventEach(t *testing.T) {
	f := newFixture(t)
	events := countRows(t, f, "audit_events")
	posts := []claims.Post{
		ot(t, "ot-b", "Nia Evans", "ot 123456", "0.6", "2025-04-01"),
		{RoleID: "care-coordinator", ID: "cc-a", StaffName: " Megan Lewis ", WTE: dec(t, "1"), StartDate: day(t, "2025-05-01")},
		{RoleID: "care-coordinator", WTE: dec(t, "0.5"), StartDate: day(t, "2025-06-01")}, // planned, id assigned
	}
	out, err := f.store.BatchCreatePosts(f.ctx, claims.Request{}, "U12345", posts)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 3 || out[0].ID != "ot-b" || out[1].ID != "cc-a" || out[2].ID == "" {
		t.Fatalf("posts %+v, want ot-b, cc-a and an assigned id, in the order given", out)
	}
	if out[0].RegistrationNumber != "OT123456" || out[0].State != claims.PostFilled || out[1].StaffName != "Megan Lewis" ||
		out[2].State != claims.PostPlanned || out[0].WTE != dec(t, "0.6") || out[2].PCNCode != "U12345" {
		t.Errorf("posts not normalised or stated as CreatePost would: %+v", out)
	}
	for _, p := range out {
		got, err := f.store.GetPost(f.ctx, p.PCNCode, p.ID)
		if err != nil || got.Revision != p.Revision || got.StartDate != p.StartDate {
			t.Errorf("stored %s: %+v, %v; returned %+v", p.Name(), got, err, p)
		}
	}
	if n := countRows(t, f, "audit_events") - events; n != 3 {
		t.Errorf("%d audit events for 3 posts, want one each", n)
	}
}

func TestBatchCreatePostsIsAllOrNothing(t *testing.T) {
	f := newFixture(t)
	must(t)(f.store.CreatePost(f.ctx, claims.Request{}, ot(t, "ot-exists", "Amira Haddad", "OT071234", "1", "2025-04-01")))
	good := func() claims.Post { return ot(t, "ot-new", "Nia Evans", "OT123456", "0.6", "2025-04-01") }
	tests := []struct {
		name  string
		posts []claims.Post
		check func(t *testing.T, err error)
	}{
		{"a bad field is named with its index", []claims.Post{good(), ot(t, "ot-2", "B", "OT1234", "1.2", "2025-04-01")},
			func(t *testing.T, err error) { wantViolation(t, err, "requests[1].post.wte", "WTE_RANGE") }},
		{"every bad post is reported", []claims.Post{ot(t, "ot-1", "A", "PH1234", "1", "2025-04-01"), ot(t, "P_2", "B", "OT1234", "1", "2025-04-01")},
			func(t *testing.T, err error) {
				wantViolation(t, err, "requests[0].post.registration_number", "REGISTRATION_FORMAT")
				wantViolation(t, err, "requests[1].post_id", "POST_ID_FORMAT")
			}},
		{"an unknown role", []claims.Post{good(), {ID: "xx-1", RoleID: "astronaut", WTE: dec(t, "1"), StartDate: day(t, "2025-04-01")}},
			func(t *testing.T, err error) { wantViolation(t, err, "requests[1].post.role", "UNKNOWN_ROLE") }},
		{"one id twice", []claims.Post{good(), good()},
			func(t *testing.T, err error) { wantViolation(t, err, "requests[1].post_id", "DUPLICATE") }},
		{"an id that exists", []claims.Post{good(), ot(t, "ot-exists", "C", "OT555555", "1", "2025-04-01")},
			func(t *testing.T, err error) { wantKind(t, err, claims.KindAlreadyExists) }},
		{"one person in two posts of a role at once", []claims.Post{good(), ot(t, "ot-3", "Nia Evans", "OT123456", "0.4", "2025-04-01")},
			func(t *testing.T, err error) { wantReason(t, err, claims.KindAlreadyExists, "PERSON_ALREADY_IN_POST") }},
		{"no posts", nil, func(t *testing.T, err error) { wantViolation(t, err, "requests", "BATCH_SIZE") }},
		{"too many posts", make([]claims.Post, claims.MaxBatchPosts+1),
			func(t *testing.T, err error) { wantViolation(t, err, "requests", "BATCH_SIZE") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			posts, events := countRows(t, f, "posts"), countRows(t, f, "audit_events")
			_, err := f.store.BatchCreatePosts(f.ctx, claims.Request{}, "U12345", tt.posts)
			tt.check(t, err)
			if p, e := countRows(t, f, "posts")-posts, countRows(t, f, "audit_events")-events; p != 0 || e != 0 {
				t.Errorf("a refused batch wrote %d posts and %d events", p, e)
			}
		})
	}
	_, err := f.store.BatchCreatePosts(f.ctx, claims.Request{}, "U99999", []claims.Post{good()})
	wantKind(t, err, claims.KindNotFound)
}

func TestBatchCreatePostsWithARequestIDHappensOnce(t *testing.T) {
	f := newFixture(t)
	req := claims.Request{ID: uuid.NewString(), Method: "BatchCreatePosts", Fingerprint: []byte("body")}
	batch := func() []claims.Post {
		// No ids: without idempotency a retry would make more posts.
		return []claims.Post{
			{RoleID: "care-coordinator", WTE: dec(t, "1"), StartDate: day(t, "2025-04-01")},
			{RoleID: "care-coordinator", WTE: dec(t, "0.5"), StartDate: day(t, "2025-04-01")},
		}
	}
	first, err := f.store.BatchCreatePosts(f.ctx, req, "U12345", batch())
	if err != nil {
		t.Fatal(err)
	}
	again, err := f.store.BatchCreatePosts(f.ctx, req, "U12345", batch())
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 2 || again[0].Name() != first[0].Name() || again[1].Name() != first[1].Name() {
		t.Errorf("retry returned %v, want the first call's %v in order", again, first)
	}
	if n := countRows(t, f, "posts"); n != 2 {
		t.Errorf("%d posts after a retry, want 2", n)
	}
}
