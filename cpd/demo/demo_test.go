package demo_test

import (
	"os"
	"testing"
	"time"

	"arrs.nhs.uk/arrs/claims"
	claimsdemo "arrs.nhs.uk/arrs/claims/demo"
	"arrs.nhs.uk/arrs/cpd"
	"arrs.nhs.uk/arrs/cpd/demo"
	"arrs.nhs.uk/arrs/internal/pgtest"
	"arrs.nhs.uk/arrs/migrations"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m, migrations.Up)) }

// The demo shows a request in every state, a stale need and a course with
// a place taken, and loading it twice changes nothing.
func TestTheDemoShowsEveryState(t *testing.T) {
	now := time.Date(2026, time.December, 6, 9, 30, 0, 0, time.UTC)
	store := claims.NewStore(pgtest.NewDB(t), claims.WithClock(func() time.Time { return now }))
	for range 2 {
		if err := claimsdemo.Load(t.Context(), store); err != nil {
			t.Fatal(err)
		}
	}
	ctx := claims.WithActor(t.Context(), claims.Actor{Subject: "h", Role: claims.RoleTrainingHubOfficer,
		OrgKind: claims.OrgTrainingHub, OrgCode: demo.Hub})
	s := cpd.NewStore(store)
	reqs, _, err := s.ListRequests(ctx, "-", "", claims.Page{Size: 50})
	if err != nil {
		t.Fatal(err)
	}
	// The other hub's practice has a request (seen by NHS England), so the
	// Frimley officer not seeing it is the scoping, not an empty table.
	all, _, err := s.ListRequests(claims.WithActor(t.Context(), claims.System("test")), "K81020", "", claims.Page{Size: 50})
	if err != nil || len(all) == 0 {
		t.Fatalf("K81020's requests = %v, %v; want the demo's", all, err)
	}
	states := map[cpd.State]int{}
	for _, r := range reqs {
		states[r.State]++
		if r.ODSCode == "K81020" {
			t.Errorf("the Frimley hub sees another hub's practice's request %s", r.Name())
		}
	}
	for _, st := range []cpd.State{cpd.StateSubmitted, cpd.StateApproved, cpd.StatePartFunded, cpd.StateRejected, cpd.StatePaid} {
		if states[st] == 0 {
			t.Errorf("no demo request is %s (%v)", st, states)
		}
	}
	needs, _, err := s.ListNeeds(ctx, "K81001", claims.Page{Size: 50})
	if err != nil {
		t.Fatal(err)
	}
	stale := 0
	for _, n := range needs {
		if n.Stale {
			stale++
		}
	}
	if stale != 1 {
		t.Errorf("%d stale needs at K81001, want 1", stale)
	}
	c, err := s.GetCourse(ctx, cpd.CourseName(demo.Hub, "diabetes-update"))
	if err != nil || c.PlacesAllocated != 1 {
		t.Errorf("course places allocated = %d (%v), want 1", c.PlacesAllocated, err)
	}
}
