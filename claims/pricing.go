package claims

import (
	"context"
	"slices"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Pricing a PCN's lines: the posts, roles and rates a cap is worked out from.

// claimContext is what working out a PCN's lines needs: its zone, posts, and
// their roles and rates.
type claimContext struct {
	zone  WeightingZone
	posts []Post
	roles map[string]Role
	rates map[string][]Rate
}

// loadClaimContext loads what pricing needs for every post of a PCN.
func loadClaimContext(ctx context.Context, q sqlx.QueryerContext, pcn string) (claimContext, error) {
	return loadPricing(ctx, q, pcn, nil)
}

// loadPricing loads what pricing needs for some of a PCN's posts: those
// with the ids or registration numbers only names, or all of them when
// only is nil. Editing a few lines prices those lines' posts alone, not the
// whole PCN's.
func loadPricing(ctx context.Context, q sqlx.QueryerContext, pcn string, only *postKeys) (claimContext, error) {
	cc := claimContext{roles: map[string]Role{}, rates: map[string][]Rate{}}
	all := only == nil
	if all {
		only = &postKeys{}
	}
	// The zone and the role come with each post rather than by statements
	// of their own: two round trips saved on every line edit, and a PCN
	// without posts has nothing to price in any zone. Pricing reads a
	// role's dates, not its headcount caps (submitting checks those in
	// SQL), so they are not loaded here.
	var posts []struct {
		Post
		Zone WeightingZone `db:"zone"`
		Role Role          `db:"role"`
	}
	// The whole PCN and some of its posts are two statements, not one
	// with a flag: with "$2 OR …" PostgreSQL could not plan the statement
	// once for every call, and planned it again on each (see loadLines).
	query, args := `SELECT z.weighting_zone AS zone, `+prefixed("p.", postColumns)+`, `+aliased("r.", "role.", roleColumns)+`
		FROM posts p JOIN pcns z ON z.code = p.pcn_code JOIN roles r ON r.id = p.role_id WHERE p.pcn_code = $1`, []any{pcn}
	if !all {
		query += ` AND (p.id = ANY($2) OR p.registration_number = ANY($3))`
		args = append(args, pq.Array(only.ids), pq.Array(only.registrations))
	}
	if err := sqlx.SelectContext(ctx, q, &posts, query+` ORDER BY p.id`, args...); err != nil {
		return cc, err
	}
	if len(posts) == 0 {
		return cc, nil
	}
	cc.zone = posts[0].Zone
	roleIDs := make([]string, 0, len(posts))
	for _, p := range posts {
		cc.posts = append(cc.posts, p.Post)
		if !slices.Contains(roleIDs, p.RoleID) {
			roleIDs = append(roleIDs, p.RoleID)
			cc.roles[p.RoleID] = p.Role
		}
	}
	// A semi-join on the roles, not "= ANY($1)": against a small rates
	// table PostgreSQL planned the ANY form afresh on every call, as it
	// did the posts' flag (TestHotStatementsArePlannedOncePerConnection).
	var rates []Rate
	if err := sqlx.SelectContext(ctx, q, &rates, `SELECT `+rateColumns+` FROM rates
		WHERE role_id IN (SELECT unnest($1::text[])) ORDER BY role_id, effective_date`, pq.Array(roleIDs)); err != nil {
		return cc, err
	}
	for _, r := range rates {
		cc.rates[r.RoleID] = append(cc.rates[r.RoleID], r)
	}
	return cc, nil
}

// postKeys names posts by id or by their staff member's registration.
type postKeys struct {
	ids, registrations []string
}

func (cc claimContext) post(id string) (Post, bool) {
	for _, p := range cc.posts {
		if p.ID == id {
			return p, true
		}
	}
	return Post{}, false
}

// lineCap works out a line's cap at wte from the rates in force now; a day
// with no rate in force fails RATE_NOT_IN_FORCE: the catalogue lacks a figure.
func (cc claimContext) lineCap(month Month, p Post, wte Decimal) (LineCap, error) {
	return ComputeCap(month, p, cc.roles[p.RoleID], cc.rates[p.RoleID], cc.zone, wte)
}
