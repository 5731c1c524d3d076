package claims

import (
	"context"
	"fmt"
	"net/url"
	"slices"

	"github.com/lib/pq"
)

// Editing a claim's lines: what was paid, overtime and evidence.

// maxEvidence bounds a line's evidence list; a longer one is a mistake.
const maxEvidence = 20

// validate checks the line against its post; f prefixes the field names.
func (l ClaimLine) validate(vs *Violations, f string, post Post) {
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
	checkEvidence(vs, f+"evidence_uris", l.EvidenceURIs, maxEvidence)
}

// checkEvidence checks a list of evidence links: at most limit, each an
// https URI.
func checkEvidence(vs *Violations, field string, uris []string, limit int) {
	if len(uris) > limit {
		vs.Add(field, "TOO_MANY", "at most %d evidence links", limit)
	}
	for i, u := range uris {
		parsed, err := url.Parse(u)
		if err != nil || parsed.Scheme != "https" || parsed.Host == "" || len(u) > 2000 {
			vs.Add(fmt.Sprintf("%s[%d]", field, i), "EVIDENCE_URI", "evidence is referenced by an https URI")
		}
	}
}

// LineEdit is one line's change in an edit of a claim's lines.
type LineEdit struct {
	// PostID names the line by its post; or, when empty, Registration
	// names it by the professional registration of the post's staff
	// member (how a payroll export knows them).
	PostID       string
	Registration string
	// Etag, when set, must be the line's current etag.
	Etag string
	// Change changes the line's costs, WTE or evidence; the rest is kept.
	Change func(*ClaimLine)
}

// UpdateClaimLine applies change to a line of a DRAFT or QUERIED claim under
// the line's etag, and works its cap and reimbursable amount out again.
func (s *Store) UpdateClaimLine(ctx context.Context, pcn, id, postID, etag string, change func(*ClaimLine)) (ClaimLine, error) {
	var out ClaimLine
	err := s.editLines(ctx, pcn, id, []LineEdit{{PostID: postID, Etag: etag, Change: change}}, "claim_line.",
		func(tx *txn, _ Claim, before, after []ClaimLine) error {
			out = after[0]
			return s.appendAudit(ctx, tx, out.Name(), "update", pcn, before[0], out)
		})
	return out, err
}

// BatchUpdateClaimLines applies every edit to the lines of a DRAFT or
// QUERIED claim at once (a month's payroll): all of them or none. Every bad
// field of every line is reported together, named requests[i].claim_line.…;
// the lines are read, priced and written with a statement each for the whole
// batch, not one per line, and the claim's history records one event
// listing the lines changed.
func (s *Store) BatchUpdateClaimLines(ctx context.Context, pcn, id string, edits []LineEdit) ([]ClaimLine, error) {
	if len(edits) == 0 {
		return nil, Invalid("requests", "REQUIRED", "at least one line to update")
	}
	if len(edits) > maxBatchLines {
		return nil, Invalid("requests", "TOO_MANY", "at most %d lines in one request", maxBatchLines)
	}
	var out []ClaimLine
	err := s.editLines(ctx, pcn, id, edits, "",
		func(tx *txn, claim Claim, before, after []ClaimLine) error {
			out = after
			type lines struct {
				Lines []ClaimLine `json:"lines"`
			}
			return s.appendAudit(ctx, tx, claim.Name(), "update_lines", pcn, lines{before}, lines{after})
		})
	return out, err
}

// maxBatchLines bounds a batch: a PCN has tens of posts, not thousands.
const maxBatchLines = 500

// editLines is the one path by which a claim's lines change: in one
// transaction it locks the PCN's entitlement (a queried claim counts against
// it while edited) and the claim, checks the claim's state allows editing,
// locks the lines, checks their etags, applies the edits, validates each
// against its post (fields named with prefix, or requests[i].claim_line.
// for a batch), prices it from the rates in force, writes them all, and
// hands before and after to record for the audit trail.
func (s *Store) editLines(ctx context.Context, pcn, id string, edits []LineEdit, prefix string,
	record func(tx *txn, claim Claim, before, after []ClaimLine) error) error {
	if err := mayAct(ctx, ActionEdit); err != nil {
		return err
	}
	month, err := monthOfClaim(pcn, id)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *txn) error {
		// A PCN without an entitlement yet can still prepare drafts.
		entitlement, err := lockEntitlement(ctx, tx, claimName(pcn, id), pcn, month.FinancialYear())
		if err != nil && !IsKind(err, KindFailedPrecondition) {
			return err
		}
		claim, err := touchClaim(ctx, tx, pcn, id, ActionEdit)
		if err != nil {
			return err
		}
		var keys postKeys
		for _, e := range edits {
			if e.PostID != "" {
				keys.ids = append(keys.ids, e.PostID)
			} else {
				keys.registrations = append(keys.registrations, normalRegistration(e.Registration))
			}
		}
		cc, err := loadPricing(ctx, tx, pcn, &keys)
		if err != nil {
			return err
		}
		edits = resolvePosts(edits, cc.posts)
		posts := make([]string, len(edits))
		for i, e := range edits {
			posts[i] = e.PostID
		}
		var locked []ClaimLine
		if err := tx.SelectContext(ctx, &locked, `SELECT `+lineColumns+` FROM claim_lines
			WHERE pcn_code = $1 AND claim_id = $2 AND post_id = ANY($3) ORDER BY post_id FOR UPDATE`,
			pcn, id, pq.Array(posts)); err != nil {
			return err
		}
		current := make(map[string]ClaimLine, len(locked))
		for _, l := range locked {
			current[l.PostID] = l
		}
		before, after, err := cc.applyEdits(claim, edits, current, s.today(), func(i int) string {
			if prefix != "" {
				return prefix
			}
			return fmt.Sprintf("requests[%d].claim_line.", i)
		})
		if err != nil {
			return err
		}
		if after, err = writeLines(ctx, tx, after); err != nil {
			return err
		}
		if claim.State == ClaimQueried {
			// A queried claim counts against the entitlement while edited.
			// Rare, so its sum is read here rather than its lines at the lock.
			var claimed int64
			if err := tx.GetContext(ctx, &claimed, `SELECT COALESCE(SUM(reimbursable_pence), 0)::bigint FROM claim_lines
				WHERE pcn_code = $1 AND claim_id = $2`, pcn, id); err != nil {
				return err
			}
			if err := checkWithinEntitlement(ctx, tx, entitlement.Entitlement, id, claimed); err != nil {
				return err
			}
		}
		return record(tx, claim, before, after)
	})
}

// applyEdits applies edits to the claim's current lines (by post), checks
// each against its post (the i-th edit's fields named after fields(i)) and
// prices it from the rates in force. A supplementary line's arrears are
// checked too, their paid date against today.
// Every bad field of every line comes back together; a stale etag, or an
// edit naming no line of a one-line request, fails at once.
func (cc claimContext) applyEdits(claim Claim, edits []LineEdit, current map[string]ClaimLine, today Date, fields func(int) string) (before, after []ClaimLine, err error) {
	before, after = make([]ClaimLine, len(edits)), make([]ClaimLine, len(edits))
	var vs Violations
	for i, e := range edits {
		f := fields(i)
		cur, ok := current[e.PostID]
		name := claimLineName(claim.PCNCode, claim.ID, e.PostID)
		switch {
		case e.PostID == "":
			vs.Add(f+"registration_number", "UNKNOWN_PERSON", "no post of %s is held by %s", pcnName(claim.PCNCode), e.Registration)
			continue
		case !ok:
			if len(edits) == 1 {
				return nil, nil, NotFound(name)
			}
			vs.Add(f+"name", "UNKNOWN_LINE", "%s has no line for post %s", claim.Name(), e.PostID)
			continue
		case seen(edits[:i], e.PostID):
			vs.Add(f+"name", "DUPLICATE", "the line is updated twice in one request")
			continue
		}
		if err := checkEtag(name, e.Etag, cur.Revision); err != nil {
			return nil, nil, err
		}
		next := cur
		next.EvidenceURIs = append(pq.StringArray(nil), cur.EvidenceURIs...)
		e.Change(&next)
		next.PCNCode, next.ClaimID, next.PostID, next.RoleID = cur.PCNCode, cur.ClaimID, cur.PostID, cur.RoleID
		next.AlreadyPaidPence, next.LegacyTopUp = cur.AlreadyPaidPence, cur.LegacyTopUp
		if claim.Kind == SupplementaryClaim && (next.WTE != cur.WTE || next.Costs() != cur.Costs()) {
			return nil, nil, FailedPrecondition(name, "TOP_UP_COSTS_FIXED",
				"a supplementary line tops up the approved monthly line at its costs and WTE; only the arrears paid and its evidence may change")
		}
		post, _ := cc.post(e.PostID)
		n := len(vs)
		next.validate(&vs, f, post)
		next.Arrears.validate(&vs, f, claim, today)
		if next.LegacyTopUp && (next.Arrears.Paid() || next.Arrears.Pence() != 0) {
			vs.Add(f+"arrears", "LEGACY_TOP_UP", "this top-up was claimed before arrears were recorded, by the rule then in force")
		}
		if len(vs) > n {
			continue
		}
		c, err := cc.lineCap(claim.Month, post, next.WTE)
		if err != nil {
			return nil, nil, err
		}
		next.applyCap(c, claim.Kind)
		before[i], after[i] = cur, next
	}
	return before, after, vs.Err()
}

// seen reports whether an earlier edit names post.
func seen(edits []LineEdit, post string) bool {
	for _, e := range edits {
		if e.PostID == post {
			return true
		}
	}
	return false
}

// resolvePosts names by post the edits that name their line by the staff
// member's registration number; one no post holds is left unnamed.
func resolvePosts(edits []LineEdit, posts []Post) []LineEdit {
	out := slices.Clone(edits)
	for i, e := range out {
		if e.PostID != "" || e.Registration == "" {
			continue
		}
		number := normalRegistration(e.Registration)
		for _, p := range posts {
			if p.Staffed() && p.RegistrationNumber == number {
				out[i].PostID = p.ID
			}
		}
	}
	return out
}
