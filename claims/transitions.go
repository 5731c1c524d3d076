package claims

import (
	"context"
	"fmt"
)

// A claim's life is one table: every change to an existing claim is an
// action, and claimTransitions says, for each state, which actions may be
// taken, who may take them, and the state they lead to. lockClaim (or, for a
// line edit, touchClaim) is the only way a write reaches a claim, and it asks
// this table; no other code decides
// whether a state allows an action, and the writes set the state the table
// names.
//
//	from        action    to          who
//	DRAFT       edit      DRAFT       PCN clinical director, PCN manager
//	QUERIED     edit      QUERIED     PCN clinical director, PCN manager
//	DRAFT       submit    SUBMITTED   PCN clinical director
//	QUERIED     submit    SUBMITTED   PCN clinical director
//	DRAFT       withdraw  WITHDRAWN   PCN clinical director, PCN manager
//	SUBMITTED   withdraw  WITHDRAWN   PCN clinical director, PCN manager
//	SUBMITTED   approve   APPROVED    commissioner approver
//	SUBMITTED   reject    REJECTED    commissioner approver
//	SUBMITTED   query     QUERIED     commissioner approver
//	QUERIED     query     QUERIED     commissioner approver
//	QUERIED     reply     QUERIED     PCN clinical director, PCN manager
//	APPROVED    pay       PAID        commissioner finance
//
// A query is a conversation (claims/messages.go). The approver may ask a
// further question while the claim is QUERIED, without waiting for a
// resubmission: a reply often prompts a follow-up ("which month's
// payslip?"), and making the PCN resubmit an unfinished answer only to be
// queried again would add a round trip and count the wait against the
// commissioner. Resubmission still needs the newest question answered.
//
// arrs itself (RoleSystem) may take any action the table allows: it
// withdraws a draft top-up that is no longer owed. WITHDRAWN, REJECTED and
// PAID are final for the claim; a withdrawn month may be claimed again by
// CreateClaim, which drafts a new claim in its place.

// ClaimAction is something done to an existing claim.
type ClaimAction string

// The actions on a claim.
const (
	ActionEdit     ClaimAction = "edit"
	ActionSubmit   ClaimAction = "submit"
	ActionWithdraw ClaimAction = "withdraw"
	ActionApprove  ClaimAction = "approve"
	ActionReject   ClaimAction = "reject"
	ActionQuery    ClaimAction = "query"
	ActionPay      ClaimAction = "pay"
	// ActionReply adds the PCN's reply to a query's thread.
	ActionReply ClaimAction = "reply"
)

// ClaimActions lists every action, in the order of the table above.
var ClaimActions = []ClaimAction{ActionEdit, ActionSubmit, ActionWithdraw, ActionApprove, ActionReject, ActionQuery, ActionReply, ActionPay}

// ClaimStates lists every state a claim can be in.
var ClaimStates = []ClaimState{ClaimDraft, ClaimSubmitted, ClaimWithdrawn, ClaimApproved, ClaimPaid, ClaimRejected, ClaimQueried}

// claimActor is who may take an action, and how a refusal words it.
type claimActor struct {
	roles []AccessRole
	// done is the action as a past participle: "a paid claim cannot be
	// submitted".
	done string
}

var claimActors = map[ClaimAction]claimActor{
	ActionEdit:     {[]AccessRole{RolePCNClinicalDirector, RolePCNManager}, "edited"},
	ActionSubmit:   {[]AccessRole{RolePCNClinicalDirector}, "submitted"},
	ActionWithdraw: {[]AccessRole{RolePCNClinicalDirector, RolePCNManager}, "withdrawn"},
	ActionApprove:  {[]AccessRole{RoleCommissionerApprover}, "approved"},
	ActionReject:   {[]AccessRole{RoleCommissionerApprover}, "rejected"},
	ActionQuery:    {[]AccessRole{RoleCommissionerApprover}, "queried"},
	ActionReply:    {[]AccessRole{RolePCNClinicalDirector, RolePCNManager}, "replied to"},
	ActionPay:      {[]AccessRole{RoleCommissionerFinance}, "paid"},
}

type stateAction struct {
	from   ClaimState
	action ClaimAction
}

// claimTransitions is the table: (state, action) → next state.
var claimTransitions = map[stateAction]ClaimState{
	{ClaimDraft, ActionEdit}:         ClaimDraft,
	{ClaimQueried, ActionEdit}:       ClaimQueried,
	{ClaimDraft, ActionSubmit}:       ClaimSubmitted,
	{ClaimQueried, ActionSubmit}:     ClaimSubmitted,
	{ClaimDraft, ActionWithdraw}:     ClaimWithdrawn,
	{ClaimSubmitted, ActionWithdraw}: ClaimWithdrawn,
	{ClaimSubmitted, ActionApprove}:  ClaimApproved,
	{ClaimSubmitted, ActionReject}:   ClaimRejected,
	{ClaimSubmitted, ActionQuery}:    ClaimQueried,
	{ClaimQueried, ActionQuery}:      ClaimQueried,
	{ClaimQueried, ActionReply}:      ClaimQueried,
	{ClaimApproved, ActionPay}:       ClaimPaid,
}

// NextClaimState is the state action takes a claim in state from to, and
// whether the action is allowed there at all.
func NextClaimState(from ClaimState, action ClaimAction) (ClaimState, bool) {
	to, ok := claimTransitions[stateAction{from, action}]
	return to, ok
}

// mayAct checks the actor may take action at all, before any claim is read.
func mayAct(ctx context.Context, action ClaimAction) error {
	a := claimActors[action]
	return requireRole(ctx, string(action)+" claims", a.roles...)
}

// lockClaim locks a claim (within the actor's scope), checks the caller's
// etag, and asks the table whether its state allows action: it returns the
// claim as it was, with its lines, and the state the action leads to, or
// FAILED_PRECONDITION (CLAIM_STATE) naming the state.
func lockClaim(ctx context.Context, tx *txn, pcn, id, etag string, action ClaimAction) (Claim, ClaimState, error) {
	c, to, err := lockClaimRow(ctx, tx, pcn, id, etag, action)
	if err != nil {
		return c, to, err
	}
	return c, to, loadLines(ctx, tx, &c)
}

// lockClaimRow is lockClaim without the lines: the lock reads the claim's
// own columns, so a caller that needs no lines (a line edit) spends one
// statement on the claim, not three.
func lockClaimRow(ctx context.Context, tx *txn, pcn, id, etag string, action ClaimAction) (Claim, ClaimState, error) {
	name := claimName(pcn, id)
	a := args{pcn, id}
	var c Claim
	if err := getOne(ctx, tx, &c, name, `SELECT `+claimColumns+` FROM claims WHERE pcn_code = $1 AND id = $2 AND `+
		claimCondition(ctx, &a)+` FOR UPDATE`, a...); err != nil {
		return Claim{}, "", err
	}
	if err := checkEtag(name, etag, c.Revision); err != nil {
		return Claim{}, "", err
	}
	to, err := allowed(c, action)
	return c, to, err
}

// touchClaim locks a claim (within the actor's scope) for an edit of its
// lines by moving its revision on, since its etag covers its lines, and
// reads its own columns as it does. Writing is locking: the transaction
// rolls back if the table refuses the edit, and the update's lock queues
// the claim's other writers as FOR UPDATE would.
func touchClaim(ctx context.Context, tx *txn, pcn, id string, action ClaimAction) (Claim, error) {
	name := claimName(pcn, id)
	a := args{pcn, id}
	var c Claim
	if err := getOne(ctx, tx, &c, name, `UPDATE claims SET revision = revision + 1, update_time = now()
		WHERE pcn_code = $1 AND id = $2 AND `+claimCondition(ctx, &a)+` RETURNING `+claimColumns, a...); err != nil {
		return Claim{}, err
	}
	_, err := allowed(c, action)
	return c, err
}

// allowed asks the table whether c's state allows action.
func allowed(c Claim, action ClaimAction) (ClaimState, error) {
	to, ok := NextClaimState(c.State, action)
	if !ok {
		return "", FailedPrecondition(c.Name(), "CLAIM_STATE",
			fmt.Sprintf("a %s claim cannot be %s", c.State, claimActors[action].done))
	}
	return to, nil
}
