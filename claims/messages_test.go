package claims_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"arrs.nhs.uk/arrs/claims"
)

var (
	clinicalDirector = claims.WithActor(context.Background(), claims.Actor{Subject: "cd", Role: claims.RolePCNClinicalDirector, OrgKind: claims.OrgPCN, OrgCode: "U12345"})
	manager          = claims.WithActor(context.Background(), claims.Actor{Subject: "pm", Role: claims.RolePCNManager, OrgKind: claims.OrgPCN, OrgCode: "U12345"})
)

// TestAQueryIsAThreadWithItsAuthorsInTheAuditTrail: the approver's
// question, the PCN's reply with evidence, a further question on the
// still-queried claim and its answer come back in order, numbered, each
// with who wrote it, and each is an audit event in the claim's history.
func TestAQueryIsAThreadWithItsAuthorsInTheAuditTrail(t *testing.T) {
	f := submitted(t)
	must(t)(f.store.QueryClaim(approverA, "U12345", "2025-04", "", "Is there a payslip for April?"))
	must(t)(f.store.ReplyToClaimQuery(manager, "U12345", "2025-04", "", "Yes: attached.", []string{"https://evidence.example/april"}))
	must(t)(f.store.QueryClaim(approverB, "U12345", "2025-04", "", "And the overtime sheet?"))
	c, err := f.store.ReplyToClaimQuery(clinicalDirector, "U12345", "2025-04", "", "No overtime in April.", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.State != claims.ClaimQueried || c.ReviewNote != "And the overtime sheet?" {
		t.Errorf("after the replies the claim is %s with note %q; want queried with the newest question", c.State, c.ReviewNote)
	}
	want := []struct {
		kind         claims.MessageKind
		author       string
		role         claims.AccessRole
		organisation string
		text         string
		evidence     string
	}{
		{claims.MessageQuestion, "approver-a", claims.RoleCommissionerApprover, "commissioners/QNQ", "Is there a payslip for April?", "[]"},
		{claims.MessageReply, "pm", claims.RolePCNManager, "pcns/U12345", "Yes: attached.", "[https://evidence.example/april]"},
		{claims.MessageQuestion, "approver-b", claims.RoleCommissionerApprover, "commissioners/QNQ", "And the overtime sheet?", "[]"},
		{claims.MessageReply, "cd", claims.RolePCNClinicalDirector, "pcns/U12345", "No overtime in April.", "[]"},
	}
	got, err := f.store.GetClaim(f.ctx, "U12345", "2025-04")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Messages) != len(want) {
		t.Fatalf("the thread has %d messages, want %d: %+v", len(got.Messages), len(want), got.Messages)
	}
	for i, w := range want {
		m := got.Messages[i]
		if m.Number != i+1 || m.Kind != w.kind || m.Author != w.author || m.Role != w.role || m.Organisation != w.organisation ||
			m.Text != w.text || fmt.Sprint(m.EvidenceURIs) != w.evidence || m.CreateTime.IsZero() {
			t.Errorf("message %d = %+v; want %+v", i+1, m, w)
		}
	}
	events, _, err := f.store.ListAuditEvents(clinicalDirector, "pcns/U12345/claims/2025-04", claims.Page{Size: 100})
	if err != nil {
		t.Fatal(err)
	}
	var trail []string
	for _, e := range events {
		if strings.Contains(e.Resource, "/messages/") {
			trail = append(trail, fmt.Sprintf("%s %s by %s (%s)", e.Action, e.Resource, e.Subject, e.Role))
		}
	}
	wantTrail := "[ask pcns/U12345/claims/2025-04/messages/1 by approver-a (commissioner-approver) " +
		"reply pcns/U12345/claims/2025-04/messages/2 by pm (pcn-manager) " +
		"ask pcns/U12345/claims/2025-04/messages/3 by approver-b (commissioner-approver) " +
		"reply pcns/U12345/claims/2025-04/messages/4 by cd (pcn-clinical-director)]"
	if fmt.Sprint(trail) != wantTrail {
		t.Errorf("the audit trail of the thread is\n%v\nwant\n%s", trail, wantTrail)
	}
}

// TestWhoMayReplyAndWhen: the PCN's clinical director and manager reply to
// a queried claim of their own PCN, in words, with https evidence; anyone
// else, any other state, an empty reply or a stale etag is refused and
// changes nothing.
func TestWhoMayReplyAndWhen(t *testing.T) {
	f := submitted(t)
	must(t)(f.store.QueryClaim(approverA, "U12345", "2025-04", "", "Payslip?"))
	queried, err := f.store.GetClaim(f.ctx, "U12345", "2025-04")
	if err != nil {
		t.Fatal(err)
	}
	otherPCN := claims.WithActor(context.Background(), claims.Actor{Subject: "x", Role: claims.RolePCNClinicalDirector, OrgKind: claims.OrgPCN, OrgCode: "U23456"})
	for _, tt := range []struct {
		name     string
		as       context.Context
		claim    string
		etag     string
		text     string
		evidence []string
		kind     claims.Kind
		reason   string
	}{
		{"the manager replies", manager, "2025-04", "", "Attached.", nil, 0, ""},
		{"the clinical director replies, with the etag", clinicalDirector, "2025-04", claims.Etag(queried.Revision + 1), "And again.", []string{"https://e.example/1"}, 0, ""},
		{"an approver cannot reply", approverA, "2025-04", "", "Hm.", nil, claims.KindPermissionDenied, "PERMISSION_DENIED"},
		{"finance cannot reply", finance, "2025-04", "", "Hm.", nil, claims.KindPermissionDenied, "PERMISSION_DENIED"},
		{"another PCN does not see the claim", otherPCN, "2025-04", "", "Hm.", nil, claims.KindNotFound, "RESOURCE_NOT_FOUND"},
		{"a submitted claim has no open query", clinicalDirector, "2025-05", "", "Unasked.", nil, claims.KindFailedPrecondition, "CLAIM_STATE"},
		{"an empty reply", clinicalDirector, "2025-04", "", "  ", nil, claims.KindInvalid, "INVALID_ARGUMENT"},
		{"a reply too long", clinicalDirector, "2025-04", "", strings.Repeat("x", 2001), nil, claims.KindInvalid, "INVALID_ARGUMENT"},
		{"evidence not https", clinicalDirector, "2025-04", "", "See this.", []string{"http://e.example/1"}, claims.KindInvalid, "INVALID_ARGUMENT"},
		{"a stale etag", clinicalDirector, "2025-04", claims.Etag(queried.Revision), "Late.", nil, claims.KindConflict, "ETAG_MISMATCH"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before, err := f.store.GetClaim(f.ctx, "U12345", tt.claim)
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.store.ReplyToClaimQuery(tt.as, "U12345", tt.claim, tt.etag, tt.text, tt.evidence)
			after, getErr := f.store.GetClaim(f.ctx, "U12345", tt.claim)
			if getErr != nil {
				t.Fatal(getErr)
			}
			if tt.reason == "" {
				if err != nil || len(after.Messages) != len(before.Messages)+1 || after.Revision != before.Revision+1 || after.State != claims.ClaimQueried {
					t.Errorf("got %v: %d → %d messages, revision %d → %d, %s", err, len(before.Messages), len(after.Messages),
						before.Revision, after.Revision, after.State)
				}
				return
			}
			e, ok := claims.AsError(err)
			if !ok || e.Kind != tt.kind || (tt.kind != claims.KindInvalid && e.Reason != tt.reason) {
				t.Errorf("got %v; want kind %d reason %s", err, tt.kind, tt.reason)
			}
			if len(after.Messages) != len(before.Messages) || after.Revision != before.Revision {
				t.Errorf("a refused reply changed the claim: %d → %d messages, revision %d → %d",
					len(before.Messages), len(after.Messages), before.Revision, after.Revision)
			}
		})
	}
}

// TestResubmittingAQueriedClaimNeedsAReply: while the newest message is a
// question, SubmitClaim is FAILED_PRECONDITION QUERY_UNANSWERED naming it,
// and changes nothing; once answered, the claim goes back to review.
func TestResubmittingAQueriedClaimNeedsAReply(t *testing.T) {
	f := submitted(t)
	steps := []struct {
		name     string
		do       func() error
		unasked  string // the question a resubmission would be refused for; "" = accepted
		messages int
	}{
		{"queried", func() error {
			_, err := f.store.QueryClaim(approverA, "U12345", "2025-04", "", "Payslip?")
			return err
		}, "Payslip?", 1},
		{"answered", func() error {
			_, err := f.store.ReplyToClaimQuery(manager, "U12345", "2025-04", "", "Attached.", nil)
			return err
		}, "", 2},
		{"asked again before resubmission", func() error {
			_, err := f.store.QueryClaim(approverB, "U12345", "2025-04", "", "Which week?")
			return err
		}, "Which week?", 3},
		{"answered again", func() error {
			_, err := f.store.ReplyToClaimQuery(clinicalDirector, "U12345", "2025-04", "", "The first.", nil)
			return err
		}, "", 4},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if s.unasked == "" {
			continue
		}
		before, _ := f.store.GetClaim(f.ctx, "U12345", "2025-04")
		_, err := f.store.SubmitClaim(clinicalDirector, claims.Request{}, "U12345", "2025-04", "")
		e, ok := claims.AsError(err)
		if !ok || e.Kind != claims.KindFailedPrecondition || e.Reason != "QUERY_UNANSWERED" ||
			!strings.Contains(e.Message, s.unasked) || !strings.Contains(e.Message, fmt.Sprintf("messages/%d", s.messages)) {
			t.Errorf("%s: resubmitting got %v; want QUERY_UNANSWERED naming %q", s.name, err, s.unasked)
		}
		after, _ := f.store.GetClaim(f.ctx, "U12345", "2025-04")
		if after.State != claims.ClaimQueried || after.Revision != before.Revision || len(after.Messages) != s.messages {
			t.Errorf("%s: a refused resubmission changed the claim (%s, revision %d → %d)", s.name, after.State, before.Revision, after.Revision)
		}
	}
	c, err := f.store.SubmitClaim(clinicalDirector, claims.Request{}, "U12345", "2025-04", "")
	if err != nil || c.State != claims.ClaimSubmitted {
		t.Fatalf("resubmitting the answered claim: %s, %v", c.State, err)
	}
	if got, _ := f.store.GetClaim(f.ctx, "U12345", "2025-04"); len(got.Messages) != 4 {
		t.Errorf("the resubmitted claim keeps %d messages; want its whole thread, 4", len(got.Messages))
	}
}

// TestEachSideHoldsTheClaimForItsDays works through a claim's rounds on the
// store's clock: the commissioner holds it from each submission to its
// review, the PCN from each query to its resubmission; a further question
// does not restart the PCN's holding, and the days count the sum of the
// seconds, the holding under way included.
func TestEachSideHoldsTheClaimForItsDays(t *testing.T) {
	f := submitted(t) // the clock stands at 10 July 2025, 12:00
	start := time.Date(2025, 7, 10, 12, 0, 0, 0, time.UTC)
	var now time.Time
	store := claims.NewStore(f.store.DB(), claims.WithClock(func() time.Time { return now }))
	// The fixture submitted April at the start: the commissioner's first
	// holding began then.
	steps := []struct {
		hours            int // since the submission
		do               func() error
		commissioner, pc int
	}{
		// 2½ days with the commissioner: 2 whole days, none the PCN's.
		{60, nil, 2, 0},
		// Queried at 3 days: the commissioner's holding ends at 3.
		{72, func() error { _, err := store.QueryClaim(approverA, "U12345", "2025-04", "", "Payslip?"); return err }, 3, 0},
		// A further question 1½ days later leaves the PCN's holding running.
		{108, func() error { _, err := store.QueryClaim(approverB, "U12345", "2025-04", "", "And?"); return err }, 3, 1},
		{120, func() error {
			_, err := store.ReplyToClaimQuery(manager, "U12345", "2025-04", "", "Attached.", nil)
			return err
		}, 3, 2},
		// Resubmitted at 5¼ days: the PCN held it 54 hours, 2 whole days.
		{126, func() error {
			_, err := store.SubmitClaim(clinicalDirector, claims.Request{}, "U12345", "2025-04", "")
			return err
		}, 3, 2},
		// 36 hours more with the commissioner: 72 + 36 = 108 hours, 4 days.
		{162, nil, 4, 2},
		// Approved: the holdings end; the days stand.
		{170, func() error {
			_, err := store.ApproveClaim(approverA, claims.Request{}, "U12345", "2025-04", "", nil)
			return err
		}, 4, 2},
		{1000, nil, 4, 2},
	}
	for _, s := range steps {
		now = start.Add(time.Duration(s.hours) * time.Hour)
		if s.do != nil {
			if err := s.do(); err != nil {
				t.Fatalf("at %d hours: %v", s.hours, err)
			}
		}
		c, err := store.GetClaim(f.ctx, "U12345", "2025-04")
		if err != nil {
			t.Fatal(err)
		}
		commissioner, pcn := c.HeldDays(c.State, now)
		if commissioner != s.commissioner || pcn != s.pc {
			t.Errorf("at %d hours (%s): the commissioner held it %d days and the PCN %d; want %d and %d",
				s.hours, c.State, commissioner, pcn, s.commissioner, s.pc)
		}
	}
}

// TestTheReviewQueueShowsQueriedClaimsAfterTheSubmitted: the commissioner's
// queue lists what it must act on first, then what waits for a PCN's reply,
// each page following on from the last even when a listed claim moves.
func TestTheReviewQueueShowsQueriedClaimsAfterTheSubmitted(t *testing.T) {
	f := submitted(t)
	must(t)(f.store.QueryClaim(approverA, "U12345", "2025-04", "", "Payslip?"))
	later := claims.NewStore(f.store.DB(), claims.WithClock(func() time.Time { return time.Now().Add(72 * time.Hour) }))
	items, next, err := later.ReviewQueue(approverA, "QNQ", claims.Page{Size: 1})
	if err != nil || len(items) != 1 || next == "" {
		t.Fatalf("first page = %+v %q %v", items, next, err)
	}
	if it := items[0]; it.Claim.ID != "2025-05" || it.WaitingForPCN || it.CommissionerHeldDays < 2 || it.PCNHeldDays != 0 {
		t.Errorf("first = %s waiting for the PCN %v, held %d/%d days; want May, with the commissioner", it.Claim.ID,
			it.WaitingForPCN, it.CommissionerHeldDays, it.PCNHeldDays)
	}
	// May is approved between the pages: the reader's place is kept.
	must(t)(f.store.ApproveClaim(approverA, claims.Request{}, "U12345", "2025-05", "", nil))
	items, next, err = later.ReviewQueue(approverA, "QNQ", claims.Page{Size: 1, After: next})
	if err != nil || len(items) != 1 || next != "" {
		t.Fatalf("second page = %+v %q %v", items, next, err)
	}
	if it := items[0]; it.Claim.ID != "2025-04" || !it.WaitingForPCN || it.DaysWaiting < 2 || it.PCNHeldDays < 2 || len(it.Flags) == 0 {
		t.Errorf("second = %s waiting for the PCN %v for %d days (held %d/%d), flags %v; want April, the PCN's, flagged",
			it.Claim.ID, it.WaitingForPCN, it.DaysWaiting, it.CommissionerHeldDays, it.PCNHeldDays, it.Flags)
	}
	_, _, err = later.ReviewQueue(approverA, "QNQ", claims.Page{Size: 1, After: "pcns/U12345/claims/2025-04"})
	wantReason(t, err, claims.KindInvalid, "INVALID_ARGUMENT")
}
