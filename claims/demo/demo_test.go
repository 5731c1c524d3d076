package demo

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"arrs.nhs.uk/arrs/claims"
	"arrs.nhs.uk/arrs/internal/pgtest"
	"arrs.nhs.uk/arrs/migrations"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m, migrations.Up)) }

// loadDays are days the demo is loaded "on": one in the first half of a
// financial year, whose oldest claims are in the year before, and one in its
// second half.
var loadDays = []string{"2026-12-02", "2027-06-15"}

// at returns 09:30 in England on day, before the 10:00 the stories' steps
// are taken at.
func at(t *testing.T, day string) time.Time {
	t.Helper()
	d, err := time.ParseInLocation(time.DateOnly, day, london)
	if err != nil {
		t.Fatal(err)
	}
	return d.Add(9*time.Hour + 30*time.Minute)
}

func loadOn(t *testing.T, db *sqlx.DB, now time.Time) *claims.Store {
	t.Helper()
	store := claims.NewStore(db, claims.WithClock(func() time.Time { return now }))
	if err := Load(t.Context(), store); err != nil {
		t.Fatalf("Load on %s: %v", now.Format(time.DateOnly), err)
	}
	return store
}

func TestLoadIsAboutTheDayItRuns(t *testing.T) {
	for _, day := range loadDays {
		t.Run(day, func(t *testing.T) {
			t.Parallel()
			db := pgtest.NewDB(t)
			db.SetMaxOpenConns(8)
			now := at(t, day)
			store := loadOn(t, db, now)
			ctx := claims.WithActor(t.Context(), claims.System("test"))
			current := claims.FinancialYearOf(claims.DateOf(now))

			for _, p := range pcns {
				for _, y := range []claims.FinancialYear{current - 1, current} {
					if _, err := store.GetEntitlement(ctx, p.Code, y); err != nil {
						t.Errorf("%s has no entitlement for %s: %v", p.Code, y, err)
					}
				}
				b, err := store.GetBudget(ctx, p.Code, current)
				if err != nil {
					t.Fatal(err)
				}
				if b.EntitlementPence == 0 || b.RemainingPence() < 0 || b.RemainingPence() > b.EntitlementPence {
					t.Errorf("%s's budget for %s: entitlement %d, remaining %d", p.Code, current, b.EntitlementPence, b.RemainingPence())
				}
			}

			queue, _, err := store.ReviewQueue(ctx, "QNQ", claims.Page{Size: 100})
			if err != nil {
				t.Fatal(err)
			}
			if len(queue) < 2 {
				t.Errorf("%d claims await review, want some", len(queue))
			}
			for _, item := range queue {
				if item.DaysWaiting < 5 || item.DaysWaiting > 45 {
					t.Errorf("%s has waited %d days, want 5 to 45", item.Claim.Name(), item.DaysWaiting)
				}
			}

			all := listClaims(t, store, ctx)
			states := map[claims.ClaimState]int{}
			supplementary := 0
			for _, c := range all {
				states[c.State]++
				if c.Kind == claims.SupplementaryClaim {
					supplementary++
				}
				if c.Reviewer != "" && c.Reviewer == c.Submitter {
					t.Errorf("%s was submitted and reviewed by %s", c.Name(), c.Reviewer)
				}
				if c.State == claims.ClaimQueried || c.State == claims.ClaimRejected {
					if c.ReviewNote == "" {
						t.Errorf("%s is %s without a note", c.Name(), c.State)
					}
				}
			}
			for _, want := range []claims.ClaimState{claims.ClaimPaid, claims.ClaimApproved, claims.ClaimSubmitted,
				claims.ClaimQueried, claims.ClaimRejected, claims.ClaimDraft} {
				if states[want] == 0 {
					t.Errorf("no %s claim; have %v", want, states)
				}
			}
			if supplementary == 0 {
				t.Error("no supplementary claim: the backdated award offered no top-up")
			}
			waits := make([]string, len(queue))
			for i, item := range queue {
				waits[i] = fmt.Sprintf("%s %dd", item.Claim.Name(), item.DaysWaiting)
			}
			t.Logf("claims by state %v, %d supplementary; review queue %v", states, supplementary, waits)

			if v, err := store.VerifyAudit(ctx); err != nil || !v.OK {
				t.Errorf("audit chain: %+v, %v", v, err)
			}
		})
	}
}

func listClaims(t *testing.T, store *claims.Store, ctx context.Context) []claims.Claim {
	t.Helper()
	all, _, err := store.ListClaims(ctx, claims.ClaimFilter{}, claims.Page{Size: 500})
	if err != nil {
		t.Fatal(err)
	}
	return all
}

func TestLoadTwiceOnADayChangesNothing(t *testing.T) {
	for _, day := range loadDays {
		t.Run(day, func(t *testing.T) {
			t.Parallel()
			db := pgtest.NewDB(t)
			db.SetMaxOpenConns(8)
			loadOn(t, db, at(t, day))
			before := rowCounts(t, db)
			loadOn(t, db, at(t, day).Add(7*time.Hour))
			if after := rowCounts(t, db); !maps.Equal(before, after) {
				t.Errorf("a second load changed the row counts:\nbefore %v\nafter  %v", before, after)
			}
		})
	}
}

// TestLoadOnALaterDayMovesTheStoriesOn loads the demo, then again five
// weeks later on the same database, as make run on a kept .data does.
func TestLoadOnALaterDayMovesTheStoriesOn(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDB(t)
	db.SetMaxOpenConns(8)
	first := at(t, "2027-03-20")
	loadOn(t, db, first)
	store := loadOn(t, db, first.AddDate(0, 0, 35))
	ctx := claims.WithActor(t.Context(), claims.System("test"))
	// February's draft was submitted; December's approved claim is paid.
	for id, want := range map[string]claims.ClaimState{"2027-02": claims.ClaimSubmitted, "2026-12": claims.ClaimPaid} {
		c, err := store.GetClaim(ctx, "U12345", id)
		if err != nil || c.State != want {
			t.Errorf("Riverside's %s is %s (%v), want %s", id, c.State, err, want)
		}
	}
	if _, err := store.GetEntitlement(ctx, "U34567", 2027); err != nil {
		t.Errorf("no entitlement for the new financial year: %v", err)
	}
	if v, err := store.VerifyAudit(ctx); err != nil || !v.OK {
		t.Errorf("audit chain: %+v, %v", v, err)
	}
}

// rowCounts counts the rows of every table.
func rowCounts(t *testing.T, db *sqlx.DB) map[string]int {
	t.Helper()
	var tables []string
	if err := db.SelectContext(t.Context(), &tables, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, table := range tables {
		var n int
		if err := db.GetContext(t.Context(), &n, "SELECT count(*) FROM "+pq.QuoteIdentifier(table)); err != nil {
			t.Fatal(err)
		}
		counts[table] = n
	}
	if counts["audit_events"] == 0 || counts["claims"] == 0 {
		t.Fatalf("nothing loaded: %v", counts)
	}
	return counts
}

// TestStoriesFitEveryDay places the stories on every day of five years and
// checks what Load relies on: each step after the month has ended and after
// the step before it, each PCN's months distinct, and every claim in review
// waiting 5 to 45 days.
func TestStoriesFitEveryDay(t *testing.T) {
	first := claims.NewDate(2026, time.January, 1)
	for today := first; today.Before(claims.NewDate(2031, time.January, 1)); today = today.AddDays(1) {
		seen := map[string]bool{}
		states := map[claims.ClaimState]bool{}
		for _, s := range stories(today) {
			name := s.pcn + "/" + s.month.String()
			if seen[name] {
				t.Fatalf("%s: %s told twice", today, name)
			}
			seen[name] = true
			states[s.state] = true
			steps := []claims.Date{s.month.Last(), s.submitted, s.reviewed, s.paid, today}
			steps = slices.DeleteFunc(steps, claims.Date.IsZero)
			for i := 1; i < len(steps); i++ {
				if !steps[i-1].Before(steps[i]) {
					t.Fatalf("%s: %s's steps are out of order: %v", today, name, steps)
				}
			}
			if s.state == claims.ClaimSubmitted {
				if waited := s.submitted.DaysUntil(today); waited < 6 || waited > 44 {
					t.Fatalf("%s: %s waits %d days", today, name, waited)
				}
			}
		}
		if len(states) != 6 {
			t.Fatalf("%s: the stories end in %d states, want 6: %v", today, len(states), fmt.Sprint(states))
		}
	}
}

// The demo's reference data includes 2026-27: the national pool of £1,754m
// and its rate, both marked illustrative (provisional); the GP rule ending on
// 31 March 2026 with the new GP maximum from 1 April, illustrative; the ICB's
// local role in its PCNs' catalogue; and a GP five years after CCT in post
// from May 2026, claimed in the current year's months.
func TestDemoLivesIn2026To27WithItsRules(t *testing.T) {
	t.Parallel()
	db := pgtest.NewDB(t)
	db.SetMaxOpenConns(8)
	store := loadOn(t, db, at(t, "2026-12-06"))
	ctx := claims.WithActor(t.Context(), claims.System("test"))

	y, err := store.GetFundingYear(ctx, year("2026-27"))
	if err != nil || y.NationalPoolPence != 175_400_000_000 || !y.Illustrative {
		t.Errorf("2026-27 = %+v, %v; want a provisional pool of £1,754m", y, err)
	}
	gp, err := store.GetRole(ctx, "general-practitioner")
	if err != nil || len(gp.Rules) != 1 || gp.Rules[0].EffectiveTo.String() != "2026-03-31" {
		t.Errorf("the GP role = %+v, %v; want its CCT rule to end on 2026-03-31", gp, err)
	}
	rate, err := store.GetRate(ctx, "general-practitioner", date("2026-04-01"))
	if err != nil || rate.NationalPence != 15839900 || !rate.Illustrative {
		t.Errorf("the GP's 2026/27 maximum = %+v, %v", rate, err)
	}
	pcn := claims.WithActor(t.Context(), claims.Actor{Subject: "cd", Role: claims.RolePCNClinicalDirector, OrgKind: claims.OrgPCN, OrgCode: "U12345"})
	if r, err := store.GetRole(pcn, "frailty-practitioner"); err != nil || r.CommissionerCode != "QNQ" {
		t.Errorf("Riverside's catalogue lacks its ICB's local role: %+v, %v", r, err)
	}
	c, err := store.GetClaim(ctx, "U34567", "2026-10")
	if err != nil {
		t.Fatal(err)
	}
	var claimed bool
	for _, l := range c.Lines {
		claimed = claimed || l.PostID == "gp-1"
	}
	if c.Year != year("2026-27") || !claimed {
		t.Errorf("Kingsgate's October 2026 claim (%s) has no line for its GP: %+v", c.Year, c.Lines)
	}
}
