package server

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"

	arrsv1 "arrs.nhs.uk/arrs/gen/arrs/v1"
)

func TestBatchCreatePostsOverGRPCAndREST(t *testing.T) {
	a := startAPI(t)
	cd := as(t.Context(), "cd-own")
	post := func(id, wte string) *arrsv1.CreatePostRequest {
		return &arrsv1.CreatePostRequest{PostId: id, Post: &arrsv1.Post{Role: "roles/care-coordinator", Wte: wte, StartDate: "2026-04-01"}}
	}
	before, err := a.work.ListPosts(cd, &arrsv1.ListPostsRequest{Parent: "pcns/U12345", PageSize: 500})
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		req  *arrsv1.BatchCreatePostsRequest
		code codes.Code
		want []string
	}{
		{"a bad field named by its request", &arrsv1.BatchCreatePostsRequest{Parent: "pcns/U12345",
			Requests: []*arrsv1.CreatePostRequest{post("cc-batch-1", "1"), post("cc-batch-2", "1.5")}},
			codes.InvalidArgument, []string{"requests[1].post.wte WTE_RANGE"}},
		{"a request of another parent, with a request id of its own", &arrsv1.BatchCreatePostsRequest{Parent: "pcns/U12345",
			Requests: []*arrsv1.CreatePostRequest{func() *arrsv1.CreatePostRequest {
				r := post("cc-batch-1", "1")
				r.Parent, r.RequestId = "pcns/U23456", uuid.NewString()
				return r
			}()}},
			codes.InvalidArgument, []string{"requests[0].parent PARENT_MISMATCH", "requests[0].request_id BATCH_REQUEST_ID"}},
		{"empty", &arrsv1.BatchCreatePostsRequest{Parent: "pcns/U12345"}, codes.InvalidArgument, []string{"requests BATCH_SIZE"}},
		{"an unknown PCN", &arrsv1.BatchCreatePostsRequest{Parent: "pcns/U99999",
			Requests: []*arrsv1.CreatePostRequest{post("cc-batch-1", "1")}}, codes.NotFound, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := a.work.BatchCreatePosts(cd, tt.req)
			code, got := violations(err)
			slices.Sort(got)
			if code != tt.code || fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %s %v, want %s %v", code, got, tt.code, tt.want)
			}
		})
	}
	after, err := a.work.ListPosts(cd, &arrsv1.ListPostsRequest{Parent: "pcns/U12345", PageSize: 500})
	if err != nil || len(after.GetPosts()) != len(before.GetPosts()) {
		t.Fatalf("refused batches changed the posts: %d before, %d after (%v)", len(before.GetPosts()), len(after.GetPosts()), err)
	}

	// Another PCN's clinical director may not add posts to this one.
	_, err = a.work.BatchCreatePosts(as(t.Context(), "cd-foreign"), &arrsv1.BatchCreatePostsRequest{Parent: "pcns/U12345",
		Requests: []*arrsv1.CreatePostRequest{post("cc-batch-1", "1")}})
	if code, _ := violations(err); code != codes.NotFound {
		t.Errorf("another PCN's clinical director: %v, want NOT_FOUND: another PCN is not there to it", err)
	}

	// Through the REST gateway, as a browser or a payroll tool would send it.
	status, body := do(t, "cd-own", http.MethodPost, "http://"+a.HTTPAddr()+"/v1/pcns/U12345/posts:batchCreate", map[string]any{
		"requestId": uuid.NewString(),
		"requests": []map[string]any{
			{"postId": "cc-batch-1", "post": map[string]any{"role": "roles/care-coordinator", "wte": "1", "startDate": "2026-04-01", "staffName": "Ade Bello"}},
			{"postId": "cc-batch-2", "post": map[string]any{"role": "roles/care-coordinator", "wte": "0.5", "startDate": "2026-05-01"}},
		},
	})
	posts, _ := body["posts"].([]any)
	if status != http.StatusOK || len(posts) != 2 {
		t.Fatalf("POST posts:batchCreate = %d %v", status, body)
	}
	first, _ := posts[0].(map[string]any)
	second, _ := posts[1].(map[string]any)
	if first["name"] != "pcns/U12345/posts/cc-batch-1" || first["state"] != "STATE_FILLED" ||
		second["name"] != "pcns/U12345/posts/cc-batch-2" || second["state"] != "STATE_PLANNED" {
		t.Errorf("created %v", posts)
	}
	got, err := a.work.GetPost(cd, &arrsv1.GetPostRequest{Name: "pcns/U12345/posts/cc-batch-2"})
	if err != nil || got.GetWte() != "0.5" {
		t.Errorf("GetPost of a batch's post = %v, %v", got, err)
	}
}
