package claims

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// A claim's life is one table: every change to an existing claim is an
// action, and claimTransitions says, for each state, which actions may be
// taken, who may take them, and the state they lead to. lockClaim is the only
// way a write reaches a claim, and it asks this table; no other code decides
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
//	APPROVED    pay       PAID        commissioner finance
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
)

// ClaimActions lists every action, in the order of the table above.
var ClaimActions = []ClaimAction{ActionEdit, ActionSubmit, ActionWithdraw, ActionApprove, ActionReject, ActionQuery, ActionPay}

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
// claim as it was and the state the action leads to, or FAILED_PRECONDITION
// (CLAIM_STATE) naming the state.
func lockClaim(ctx context.Context, tx *sqlx.Tx, pcn, id, etag string, action ClaimAction) (Claim, ClaimState, error) {
	name := claimName(pcn, id)
	a := args{pcn, id}
	var rev int64
	if err := getOne(ctx, tx, &rev, name, `SELECT revision FROM claims WHERE pcn_code = $1 AND id = $2 AND `+
		claimCondition(ctx, &a)+` FOR UPDATE`, a...); err != nil {
		return Claim{}, "", err
	}
	if err := checkEtag(name, etag, rev); err != nil {
		return Claim{}, "", err
	}
	c, err := getClaim(ctx, tx, name)
	if err != nil {
		return c, "", err
	}
	to, ok := NextClaimState(c.State, action)
	if !ok {
		return c, "", FailedPrecondition(name, "CLAIM_STATE",
			fmt.Sprintf("a %s claim cannot be %s", c.State, claimActors[action].done))
	}
	return c, to, nil
}
