package cpd

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"arrs.nhs.uk/arrs/claims"
)

func (h Hub) validate(vs *claims.Violations) {
	if !ValidID(h.ID) {
		vs.Add("training_hub_id", "ID_FORMAT", "must be lower-case letters, digits and hyphens (up to 63)")
	}
	checkText(vs, "training_hub.display_name", h.DisplayName, 1, 200)
	h.validatePractices(vs)
}

func (h Hub) validatePractices(vs *claims.Violations) {
	for i, p := range h.Practices {
		f := fmt.Sprintf("training_hub.practices[%d]", i)
		if !claims.ValidPracticeCode(p.ODSCode) {
			vs.Add(f+".practice", "PRACTICE_CODE_FORMAT", "must be a practice ODS code: a letter and 5 digits")
		}
		if p.ValidFrom.IsZero() {
			vs.Add(f+".start_date", "REQUIRED", "the date the hub starts serving the practice is required")
		} else if !p.ValidTo.IsZero() && p.ValidTo.Before(p.ValidFrom) {
			vs.Add(f+".end_date", "DATE_ORDER", "must not be before the start date")
		}
	}
}

// CreateHub records a Training Hub and the practices it serves, each from
// a date (and until one, if known). National administrators only.
func (s *Store) CreateHub(ctx context.Context, req claims.Request, h Hub) (Hub, error) {
	if err := claims.RequireRole(ctx, "create a Training Hub", claims.RoleNationalAdministrator); err != nil {
		return Hub{}, err
	}
	var vs claims.Violations
	h.validate(&vs)
	if err := vs.Err(); err != nil {
		return Hub{}, err
	}
	return once(ctx, s, req, func(tx *sqlx.Tx) (Hub, string, error) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO training_hubs (id, display_name) VALUES ($1, $2)`,
			h.ID, h.DisplayName); err != nil {
			return Hub{}, "", err
		}
		if err := s.replacePractices(ctx, tx, h); err != nil {
			return Hub{}, "", err
		}
		out, err := s.getHub(ctx, tx, h.Name())
		if err != nil {
			return Hub{}, "", err
		}
		return out, out.Name(), s.cs.AppendAudit(ctx, tx, claims.AuditRecord{Resource: out.Name(), Action: "create", After: out})
	}, s.getHub)
}

// UpdateHub changes a hub's name and, when practices is set, replaces the
// practices it serves with h.Practices (their whole history, each with its
// dates): a practice moving to another hub is ended here and started there.
// National administrators only; a non-empty etag must match.
func (s *Store) UpdateHub(ctx context.Context, h Hub, etag string, displayName, practices bool) (Hub, error) {
	if err := claims.RequireRole(ctx, "change a Training Hub", claims.RoleNationalAdministrator); err != nil {
		return Hub{}, err
	}
	var vs claims.Violations
	if displayName {
		checkText(&vs, "training_hub.display_name", h.DisplayName, 1, 200)
	}
	if practices {
		h.validatePractices(&vs)
	}
	if err := vs.Err(); err != nil {
		return Hub{}, err
	}
	var out Hub
	err := s.cs.WithTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := s.lockRow(ctx, tx, h.Name(), etag, "training_hubs", "id = $1", "id", true, h.ID); err != nil {
			return err
		}
		cur, err := s.getHub(ctx, tx, h.Name())
		if err != nil {
			return err
		}
		if practices {
			if err := s.replacePractices(ctx, tx, h); err != nil {
				return dbError(err)
			}
		}
		name := cur.DisplayName
		if displayName {
			name = h.DisplayName
		}
		if _, err := tx.ExecContext(ctx, `UPDATE training_hubs SET display_name = $2, revision = revision + 1,
			update_time = now() WHERE id = $1`, h.ID, name); err != nil {
			return err
		}
		if out, err = s.getHub(ctx, tx, h.Name()); err != nil {
			return err
		}
		return s.cs.AppendAudit(ctx, tx, claims.AuditRecord{Resource: out.Name(), Action: "update", Before: cur, After: out})
	})
	return out, err
}

func (s *Store) replacePractices(ctx context.Context, tx *sqlx.Tx, h Hub) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM training_hub_practices WHERE hub_id = $1`, h.ID); err != nil {
		return err
	}
	var vs claims.Violations
	for i, p := range h.Practices {
		pcn, err := pcnOf(ctx, tx, p.ODSCode)
		if err != nil {
			return err
		}
		if pcn == "" {
			vs.Add(fmt.Sprintf("training_hub.practices[%d].practice", i), "PRACTICE_UNKNOWN",
				"%s is not a member practice of any PCN", p.ODSCode)
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO training_hub_practices (hub_id, ods_code, valid_from, valid_to)
			VALUES ($1, $2, $3, $4)`, h.ID, p.ODSCode, p.ValidFrom, p.ValidTo); err != nil {
			return err
		}
	}
	return vs.Err()
}

// GetHub returns a hub the caller may see.
func (s *Store) GetHub(ctx context.Context, name string) (Hub, error) {
	return claims.Snapshot(ctx, s.cs, func(q sqlx.QueryerContext) (Hub, error) { return s.getHub(ctx, q, name) })
}

func (s *Store) getHub(ctx context.Context, q sqlx.QueryerContext, name string) (Hub, error) {
	id, err := ParseHubName("name", name)
	if err != nil {
		return Hub{}, err
	}
	a := args{id}
	var h Hub
	if err := claims.GetOne(ctx, q, &h, name, `SELECT id, display_name, revision, create_time, update_time
		FROM training_hubs WHERE id = $1 AND `+s.hubCondition(ctx, "id", &a), a...); err != nil {
		return Hub{}, err
	}
	hubs := []Hub{h}
	if err := s.attachPractices(ctx, q, hubs); err != nil {
		return Hub{}, err
	}
	return hubs[0], nil
}

func (s *Store) attachPractices(ctx context.Context, q sqlx.QueryerContext, hubs []Hub) error {
	ids := make([]string, len(hubs))
	at := map[string]int{}
	for i, h := range hubs {
		ids[i], at[h.ID] = h.ID, i
	}
	var rows []struct {
		HubID string `db:"hub_id"`
		HubPractice
	}
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT hub_id, ods_code, valid_from, valid_to
		FROM training_hub_practices WHERE hub_id = ANY($1) ORDER BY hub_id, ods_code, valid_from`, pq.Array(ids)); err != nil {
		return err
	}
	for _, r := range rows {
		hubs[at[r.HubID]].Practices = append(hubs[at[r.HubID]].Practices, r.HubPractice)
	}
	return nil
}

// ListHubs lists the hubs the caller may see, by id.
func (s *Store) ListHubs(ctx context.Context, page claims.Page) ([]Hub, string, error) {
	type out struct {
		rows []Hub
		next string
	}
	o, err := claims.Snapshot(ctx, s.cs, func(q sqlx.QueryerContext) (out, error) {
		a := args{page.After, page.Size + 1}
		var hubs []Hub
		if err := sqlx.SelectContext(ctx, q, &hubs, `SELECT id, display_name, revision, create_time, update_time
			FROM training_hubs WHERE 'trainingHubs/' || id > $1 AND `+s.hubCondition(ctx, "id", &a)+`
			ORDER BY id LIMIT $2`, a...); err != nil {
			return out{}, err
		}
		rows, next := claims.PageOf(hubs, page.Size)
		return out{rows, next}, s.attachPractices(ctx, q, rows)
	})
	return o.rows, o.next, err
}
