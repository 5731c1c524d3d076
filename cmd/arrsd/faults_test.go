package main

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	arrsv1 "arrs.nhs.uk/arrs/gen/arrs/v1"
	"arrs.nhs.uk/arrs/internal/pgtest"
)

// kill ends the replica with SIGKILL, as an out-of-memory kill or a lost
// node would: no shutdown, no draining, connections cut mid-transaction.
func (r *replica) kill(t *testing.T) {
	t.Helper()
	r.killed = true
	if err := r.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.exited:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s still running 10s after SIGKILL", r.name)
	}
}

// killWriters is how many clients keep creating posts while arrsd is
// killed under them.
const killWriters = 8

// TestKillingArrsdMidWriteLosesNoAcknowledgedWrite creates posts from
// several clients, each with a request id, kills arrsd with SIGKILL while
// they run, and starts another arrsd on the same database. Every create
// that was acknowledged is there; every one that was not is safe to retry
// with its request id, and makes its post exactly once (whether or not the
// killed process had committed it); and the audit chain holds one event
// per post and verifies.
func TestKillingArrsdMidWriteLosesNoAcknowledgedWrite(t *testing.T) {
	bin := arrsdBinary(t)
	url := pgtest.NewDatabase(t)
	// The store, the first arrsd and the one after share a data directory
	// and so the signing key and the audit key.
	store, dataDir := openStore(t, url)
	seedPCNWithOnePost(t, store)
	first := startReplicas(t, bin, url, dataDir, 1)[0]
	ctx := asClinicalDirector(t, dataDir)

	type attempt struct {
		req *arrsv1.CreatePostRequest
		err error
	}
	var (
		mu       sync.Mutex
		attempts []attempt
	)
	work := arrsv1.NewWorkforceServiceClient(first.conn)
	writing, stopWriting := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for w := range killWriters {
		wg.Go(func() {
			for i := 0; writing.Err() == nil; i++ {
				req := &arrsv1.CreatePostRequest{Parent: "pcns/" + pcnCode, PostId: fmt.Sprintf("kill-%d-%d", w, i),
					RequestId: uuid.NewString(), Post: &arrsv1.Post{Role: "roles/care-coordinator",
						StaffName: fmt.Sprintf("Writer %d number %d", w, i), Wte: "0.1", StartDate: "2025-04-01"}}
				callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
				_, err := work.CreatePost(callCtx, req)
				cancel()
				mu.Lock()
				attempts = append(attempts, attempt{req, err})
				mu.Unlock()
				if err != nil {
					return // the process is gone; the rest is the retry's
				}
			}
		})
	}
	// Kill once writes are flowing, so some are in flight.
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(attempts)
		mu.Unlock()
		if n >= 40 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	first.kill(t)
	wg.Wait()
	stopWriting()

	second := startReplicas(t, bin, url, dataDir, 1)[0]
	work = arrsv1.NewWorkforceServiceClient(second.conn)
	acknowledged, retried, committedUnacknowledged := 0, 0, 0
	cutOff := map[codes.Code]int{}
	for _, a := range attempts {
		name := a.req.GetParent() + "/posts/" + a.req.GetPostId()
		if a.err == nil {
			acknowledged++
			p, err := work.GetPost(ctx, &arrsv1.GetPostRequest{Name: name})
			if err != nil || p.GetStaffName() != a.req.GetPost().GetStaffName() {
				t.Errorf("acknowledged %s lost after the kill: %v %v", name, p, err)
			}
			continue
		}
		if code := status.Code(a.err); code != codes.Unavailable && code != codes.DeadlineExceeded && code != codes.Canceled {
			t.Errorf("%s as arrsd died: %v, want UNAVAILABLE (or a timeout)", name, a.err)
		}
		retried++
		cutOff[status.Code(a.err)]++
		if _, err := work.GetPost(ctx, &arrsv1.GetPostRequest{Name: name}); err == nil {
			committedUnacknowledged++ // the retry must return it, not make another
		}
		p, err := work.CreatePost(ctx, a.req)
		if err != nil || p.GetName() != name {
			t.Errorf("retrying %s with its request id: %v %v", name, p, err)
		}
	}
	t.Logf("%d creates acknowledged before SIGKILL; %d cut off (%v), of which %d had committed, retried",
		acknowledged, retried, cutOff, committedUnacknowledged)
	if acknowledged == 0 || retried == 0 {
		t.Errorf("the kill came at the wrong moment: %d acknowledged, %d cut off", acknowledged, retried)
	}
	if n := countInDB(t, store, `SELECT count(*) FROM posts WHERE id LIKE 'kill-%'`); n != len(attempts) {
		t.Errorf("%d posts in the database, want exactly one per request: %d", n, len(attempts))
	}
	if n := countInDB(t, store, `SELECT count(*) FROM audit_events WHERE resource LIKE 'pcns/`+pcnCode+`/posts/kill-%'`); n != len(attempts) {
		t.Errorf("%d audit events for the posts, want one per post: %d", n, len(attempts))
	}
	verifyAuditChain(t, store)
}
