package claims

import (
	"context"
	"fmt"
	"net/url"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Editing a claim's lines: what was paid, overtime and evidence.

// maxEvidence bounds a line's evidence list; a longer one is a mistake.
const maxEvidence = 20

func (l ClaimLine) validate(vs *Violations, post Post) {
	const f = "claim_line."
	l.Costs().Validate(vs, f)
	checkWTE(vs, f+"wte", l.WTE)
	switch {
	case l.Overtime > 0 && l.WTE <= post.WTE:
		vs.Add(f+"wte", "OVERTIME_NEEDS_WTE",
			"overtime is reimbursed at plain time only, with the higher WTE worked recorded: the post is %s WTE", post.WTE)
	case l.Overtime == 0 && l.WTE > post.WTE:
		vs.Add(f+"wte", "WTE_ABOVE_POST",
			"a WTE above the post's %s is overtime: record the overtime paid with it", post.WTE)
	}
	if len(l.EvidenceURIs) > maxEvidence {
		vs.Add(f+"evidence_uris", "TOO_MANY", "at most %d evidence links", maxEvidence)
	}
	for i, u := range l.EvidenceURIs {
		parsed, err := url.Parse(u)
		if err != nil || parsed.Scheme != "https" || parsed.Host == "" || len(u) > 2000 {
			vs.Add(fmt.Sprintf("%sevidence_uris[%d]", f, i), "EVIDENCE_URI", "evidence is referenced by an https URI")
		}
	}
}

// UpdateClaimLine applies change to a line of a DRAFT or QUERIED claim under
// the line's etag, and works its cap and reimbursable amount out again.
func (s *Store) UpdateClaimLine(ctx context.Context, pcn, id, postID, etag string, change func(*ClaimLine)) (ClaimLine, error) {
	if err := mayAct(ctx, ActionEdit); err != nil {
		return ClaimLine{}, err
	}
	month, err := monthOfClaim(pcn, id)
	if err != nil {
		return ClaimLine{}, err
	}
	var out ClaimLine
	err = s.WithTx(ctx, func(tx *sqlx.Tx) error {
		// Scope first: nobody may hold another PCN's entitlement lock.
		if err := pcnVisible(ctx, tx, pcn); err != nil {
			return err
		}
		// A queried claim counts against the entitlement while it is edited,
		// so its edits take the entitlement's lock like a submission. A PCN
		// without an entitlement yet can still prepare drafts.
		entitlement, err := lockEntitlement(ctx, tx, claimName(pcn, id), pcn, month.FinancialYear())
		if err != nil && !IsKind(err, KindFailedPrecondition) {
			return err
		}
		claim, _, err := lockClaim(ctx, tx, pcn, id, "", ActionEdit)
		if err != nil {
			return err
		}
		name := claimLineName(pcn, id, postID)
		var cur ClaimLine
		if err := getOne(ctx, tx, &cur, name, `SELECT `+lineColumns+` FROM claim_lines
			WHERE pcn_code = $1 AND claim_id = $2 AND post_id = $3 FOR UPDATE`, pcn, id, postID); err != nil {
			return err
		}
		if err := checkEtag(name, etag, cur.Revision); err != nil {
			return err
		}
		next := cur
		next.EvidenceURIs = append(pq.StringArray(nil), cur.EvidenceURIs...)
		change(&next)
		next.PCNCode, next.ClaimID, next.PostID, next.RoleID = cur.PCNCode, cur.ClaimID, cur.PostID, cur.RoleID
		next.AlreadyPaidPence = cur.AlreadyPaidPence
		if claim.Kind == SupplementaryClaim && (next.WTE != cur.WTE || next.Costs() != cur.Costs()) {
			return FailedPrecondition(name, "TOP_UP_COSTS_FIXED",
				"a supplementary line tops up the approved monthly line at its costs and WTE; only its evidence may change")
		}
		cc, err := loadClaimContext(ctx, tx, pcn)
		if err != nil {
			return err
		}
		post, _ := cc.post(postID)
		var vs Violations
		next.validate(&vs, post)
		if err := vs.Err(); err != nil {
			return err
		}
		c, err := cc.lineCap(claim.Month, post, next.WTE)
		if err != nil {
			return err
		}
		next.applyCap(c)
		if out, err = writeLine(ctx, tx, next); err != nil {
			return err
		}
		// The claim's etag covers its lines.
		if _, err := tx.ExecContext(ctx, `UPDATE claims SET revision = revision + 1, update_time = now()
			WHERE pcn_code = $1 AND id = $2`, pcn, id); err != nil {
			return err
		}
		if claim.State == ClaimQueried {
			claimed := out.ReimbursablePence - cur.ReimbursablePence
			for _, l := range claim.Lines {
				claimed += l.ReimbursablePence
			}
			if err := checkWithinEntitlement(ctx, tx, entitlement, id, claimed); err != nil {
				return err
			}
		}
		return appendAudit(ctx, tx, name, "update", pcn, cur, out)
	})
	return out, err
}
