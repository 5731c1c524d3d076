package claims_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"arrs.nhs.uk/arrs/claims"
)

// TestEveryStateAndActionFollowsTheTransitionTable puts a claim in every
// state and tries every action on it: an action the table allows succeeds
// and leaves the claim in the state the table names; every other is refused
// with FAILED_PRECONDITION (CLAIM_STATE) naming the state, and changes
// nothing.
func TestEveryStateAndActionFollowsTheTransitionTable(t *testing.T) {
	cd := claims.WithActor(context.Background(), claims.Actor{Subject: "cd", Role: claims.RolePCNClinicalDirector, OrgKind: claims.OrgPCN, OrgCode: "U12345"})
	// One month per action, so each action meets a claim of its own. On
	// 10 December 2025, April to November are in arrears.
	months := map[claims.ClaimAction]string{}
	for i, a := range claims.ClaimActions {
		months[a] = fmt.Sprintf("2025-%02d", 4+i)
	}
	// into drives a fresh claim for m to state.
	into := map[claims.ClaimState]func(f claimsFixture, m string) error{}
	draft := func(f claimsFixture, m string) error {
		if _, err := f.store.CreateClaim(cd, claims.Request{}, "U12345", month(t, m)); err != nil {
			return err
		}
		_, err := f.store.UpdateClaimLine(cd, "U12345", m, "cc-1", "", func(l *claims.ClaimLine) { l.GrossSalary = 330000 })
		return err
	}
	then := func(before claims.ClaimState, step func(f claimsFixture, m string) error) func(f claimsFixture, m string) error {
		return func(f claimsFixture, m string) error {
			if err := into[before](f, m); err != nil {
				return err
			}
			return step(f, m)
		}
	}
	into[claims.ClaimDraft] = draft
	into[claims.ClaimSubmitted] = then(claims.ClaimDraft, func(f claimsFixture, m string) error {
		_, err := f.store.SubmitClaim(cd, claims.Request{}, "U12345", m, "")
		return err
	})
	into[claims.ClaimWithdrawn] = then(claims.ClaimDraft, func(f claimsFixture, m string) error {
		_, err := f.store.WithdrawClaim(cd, "U12345", m, "", "drafted by mistake")
		return err
	})
	into[claims.ClaimApproved] = then(claims.ClaimSubmitted, func(f claimsFixture, m string) error {
		_, err := f.store.ApproveClaim(approverA, claims.Request{}, "U12345", m, "", nil)
		return err
	})
	into[claims.ClaimPaid] = then(claims.ClaimApproved, func(f claimsFixture, m string) error {
		_, err := f.store.RecordClaimPayment(finance, claims.Request{}, "U12345", m, "", claims.Payment{Date: day(t, "2025-12-10"), Reference: "REM-1"})
		return err
	})
	into[claims.ClaimRejected] = then(claims.ClaimSubmitted, func(f claimsFixture, m string) error {
		_, err := f.store.RejectClaim(approverA, "U12345", m, "", "not our post")
		return err
	})
	// A queried claim whose question is answered: the state's every action
	// is then open (an unanswered one may not be resubmitted, see
	// TestResubmittingAQueriedClaimNeedsAReply).
	into[claims.ClaimQueried] = then(claims.ClaimSubmitted, func(f claimsFixture, m string) error {
		if _, err := f.store.QueryClaim(approverA, "U12345", m, "", "is there a payslip?"); err != nil {
			return err
		}
		_, err := f.store.ReplyToClaimQuery(cd, "U12345", m, "", "yes, attached", []string{"https://evidence.example/payslip"})
		return err
	})
	// act takes action on m as someone allowed to.
	act := map[claims.ClaimAction]func(f claimsFixture, m string) error{
		claims.ActionEdit: func(f claimsFixture, m string) error {
			_, err := f.store.UpdateClaimLine(cd, "U12345", m, "cc-1", "", func(l *claims.ClaimLine) { l.GrossSalary = 320000 })
			return err
		},
		claims.ActionSubmit: func(f claimsFixture, m string) error {
			_, err := f.store.SubmitClaim(cd, claims.Request{}, "U12345", m, "")
			return err
		},
		claims.ActionWithdraw: func(f claimsFixture, m string) error {
			_, err := f.store.WithdrawClaim(cd, "U12345", m, "", "no longer needed")
			return err
		},
		claims.ActionApprove: func(f claimsFixture, m string) error {
			_, err := f.store.ApproveClaim(approverB, claims.Request{}, "U12345", m, "", nil)
			return err
		},
		claims.ActionReject: func(f claimsFixture, m string) error {
			_, err := f.store.RejectClaim(approverB, "U12345", m, "", "duplicate")
			return err
		},
		claims.ActionQuery: func(f claimsFixture, m string) error {
			_, err := f.store.QueryClaim(approverB, "U12345", m, "", "which payslip?")
			return err
		},
		claims.ActionReply: func(f claimsFixture, m string) error {
			_, err := f.store.ReplyToClaimQuery(cd, "U12345", m, "", "and the overtime sheet", nil)
			return err
		},
		claims.ActionPay: func(f claimsFixture, m string) error {
			_, err := f.store.RecordClaimPayment(finance, claims.Request{}, "U12345", m, "", claims.Payment{Date: day(t, "2025-12-10"), Reference: "REM-2"})
			return err
		},
	}
	if len(into) != len(claims.ClaimStates) || len(act) != len(claims.ClaimActions) {
		t.Fatalf("the test covers %d states and %d actions; the table has %d and %d",
			len(into), len(act), len(claims.ClaimStates), len(claims.ClaimActions))
	}

	// The scheme's rules, written out independently of the table: a PCN
	// prepares and submits; a commissioner approves, rejects or queries a
	// submitted claim, and may ask a further question of a queried one,
	// which the PCN may answer; finance pays an approved one; a draft or a
	// claim still awaiting review may be withdrawn.
	type pair struct {
		from   claims.ClaimState
		action claims.ClaimAction
	}
	rules := map[pair]claims.ClaimState{
		{claims.ClaimDraft, claims.ActionEdit}:         claims.ClaimDraft,
		{claims.ClaimQueried, claims.ActionEdit}:       claims.ClaimQueried,
		{claims.ClaimDraft, claims.ActionSubmit}:       claims.ClaimSubmitted,
		{claims.ClaimQueried, claims.ActionSubmit}:     claims.ClaimSubmitted,
		{claims.ClaimDraft, claims.ActionWithdraw}:     claims.ClaimWithdrawn,
		{claims.ClaimSubmitted, claims.ActionWithdraw}: claims.ClaimWithdrawn,
		{claims.ClaimSubmitted, claims.ActionApprove}:  claims.ClaimApproved,
		{claims.ClaimSubmitted, claims.ActionReject}:   claims.ClaimRejected,
		{claims.ClaimSubmitted, claims.ActionQuery}:    claims.ClaimQueried,
		{claims.ClaimQueried, claims.ActionQuery}:      claims.ClaimQueried,
		{claims.ClaimQueried, claims.ActionReply}:      claims.ClaimQueried,
		{claims.ClaimApproved, claims.ActionPay}:       claims.ClaimPaid,
	}
	for _, from := range claims.ClaimStates {
		for _, action := range claims.ClaimActions {
			want, wantOK := rules[pair{from, action}]
			if got, ok := claims.NextClaimState(from, action); got != want || ok != wantOK {
				t.Errorf("the table takes a %s claim by %s to %q (%v); the rules say %q (%v)", from, action, got, ok, want, wantOK)
			}
		}
	}

	for _, from := range claims.ClaimStates {
		t.Run(string(from), func(t *testing.T) {
			f := newClaimsFixture(t, "2025-12-10", "1000000")
			must(t)(f.store.CreatePost(f.ctx, claims.Request{}, careCoordinator(t, "cc-1", "Megan Lewis", "2025-04-01")))
			for _, action := range claims.ClaimActions {
				m := months[action]
				if err := into[from](f, m); err != nil {
					t.Fatalf("putting %s into %s: %v", m, from, err)
				}
				before, err := f.store.GetClaim(f.ctx, "U12345", m)
				if err != nil {
					t.Fatal(err)
				}
				err = act[action](f, m)
				after, getErr := f.store.GetClaim(f.ctx, "U12345", m)
				if getErr != nil {
					t.Fatal(getErr)
				}
				to, allowed := rules[pair{from, action}]
				if allowed {
					if err != nil || after.State != to {
						t.Errorf("%s on a %s claim: got %s, %v; the table says %s", action, from, after.State, err, to)
					}
					continue
				}
				e, ok := claims.AsError(err)
				if !ok || e.Kind != claims.KindFailedPrecondition || e.Reason != "CLAIM_STATE" || !strings.Contains(e.Message, string(from)) {
					t.Errorf("%s on a %s claim: got %v; want FAILED_PRECONDITION CLAIM_STATE naming %s", action, from, err, from)
				}
				if after.Revision != before.Revision || after.State != from {
					t.Errorf("a refused %s changed the %s claim (revision %d → %d, state %s)", action, from, before.Revision, after.Revision, after.State)
				}
			}
		})
	}
}

// TestOnlyTheTablesActorsMayAct checks who may take each action is the
// table's to say: a PCN manager may prepare but not submit, an approver may
// not pay, finance may not approve.
func TestOnlyTheTablesActorsMayAct(t *testing.T) {
	f := submitted(t)
	manager := claims.WithActor(context.Background(), claims.Actor{Subject: "pm", Role: claims.RolePCNManager, OrgKind: claims.OrgPCN, OrgCode: "U12345"})
	_, err := f.store.SubmitClaim(manager, claims.Request{}, "U12345", "2025-04", "")
	wantReason(t, err, claims.KindPermissionDenied, "PERMISSION_DENIED")
	_, err = f.store.RecordClaimPayment(approverA, claims.Request{}, "U12345", "2025-04", "", claims.Payment{Date: day(t, "2025-07-10"), Reference: "R"})
	wantReason(t, err, claims.KindPermissionDenied, "PERMISSION_DENIED")
	_, err = f.store.ApproveClaim(finance, claims.Request{}, "U12345", "2025-04", "", nil)
	wantReason(t, err, claims.KindPermissionDenied, "PERMISSION_DENIED")
}
