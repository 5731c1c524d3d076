package claims

import (
	"context"
	"reflect"
)

// auditedClaim is a claim as a change to it is recorded in the audit trail:
// every field of the claim, and of its lines only those the change added,
// removed or altered. It marshals with the claim's own field names; the
// outer Lines hides the claim's, so a change that left every line as it was
// records no Lines at all.
//
// A claim's lines are most of it (30 lines are ~22 KB of JSON against ~1 KB
// for the rest), and most changes to a claim leave them alone: a
// submission, a query, a rejection, a payment. Recorded whole before and
// after, they made those events ~44 KB each — two fifths of a
// submission's statement time in PostgreSQL at national scale — to say
// nothing the previous event had not said. Which lines a
// change touched is what a reader of the trail wants anyway.
type auditedClaim struct {
	Claim
	Lines []ClaimLine `json:",omitempty"`
}

// claimChange returns the audit documents of a change to a claim from
// before to after: both claims, each with only the lines that differ from
// the other's line for the same post (or that the other has not).
//
// reflect.DeepEqual errs only towards recording a line: two lines it calls
// different that are the same in JSON are recorded, never the reverse.
func claimChange(before, after Claim) (auditedClaim, auditedClaim) {
	b, a := auditedClaim{Claim: before}, auditedClaim{Claim: after}
	changed := make(map[string]ClaimLine, len(before.Lines)) // before's lines not (yet) found unchanged
	for _, l := range before.Lines {
		changed[l.PostID] = l
	}
	for _, l := range after.Lines {
		if p, ok := changed[l.PostID]; ok && reflect.DeepEqual(p, l) {
			delete(changed, l.PostID)
			continue
		}
		a.Lines = append(a.Lines, l)
	}
	for _, l := range before.Lines {
		if _, ok := changed[l.PostID]; ok {
			b.Lines = append(b.Lines, l)
		}
	}
	return b, a
}

// claimChangeRecord is the audit record of a change to a claim, documented
// as claimChange says.
func claimChangeRecord(action string, before, after Claim) AuditRecord {
	b, a := claimChange(before, after)
	return AuditRecord{Resource: after.Name(), Action: action, PCNCode: after.PCNCode, Before: b, After: a}
}

// appendClaimChange records a change to a claim in the audit trail.
func (s *Store) appendClaimChange(ctx context.Context, tx *txn, action string, before, after Claim) error {
	return s.appendAudits(ctx, tx, []AuditRecord{claimChangeRecord(action, before, after)})
}
