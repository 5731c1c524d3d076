package claims

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// PostState is where a post is in its life.
type PostState string

// The states of a post. PLANNED and RECRUITING posts are the PCN's workforce
// plan; FILLED posts have a staff member in post.
const (
	PostPlanned    PostState = "planned"
	PostRecruiting PostState = "recruiting"
	PostFilled     PostState = "filled"
	PostEnded      PostState = "ended"
)

// FocusCohort is who a post's work focuses on.
type FocusCohort string

// The focus cohorts.
const (
	CohortUnspecified      FocusCohort = "unspecified"
	CohortFrailOlderPeople FocusCohort = "frail_older_people"
	CohortOffWork          FocusCohort = "off_work"
	CohortMentalHealth     FocusCohort = "mental_health"
	CohortOther            FocusCohort = "other"
)

// Post is one ARRS post in a PCN.
type Post struct {
	PCNCode            string      `db:"pcn_code"`
	ID                 string      `db:"id"`
	RoleID             string      `db:"role_id"`
	State              PostState   `db:"state"`
	StaffName          string      `db:"staff_name"`
	RegistrationNumber string      `db:"registration_number"`
	WTE                Decimal     `db:"wte"`
	StartDate          Date        `db:"start_date"`
	EndDate            Date        `db:"end_date"`
	Employer           string      `db:"employer"`
	FocusCohort        FocusCohort `db:"focus_cohort"`
	Baseline           bool        `db:"baseline"`
	// CCTDate is when the post's GP gained their Certificate of Completion
	// of Training, for roles whose rules ask (zero otherwise).
	CCTDate    Date      `db:"cct_date"`
	Revision   int64     `db:"revision"`
	CreateTime time.Time `db:"create_time"`
	UpdateTime time.Time `db:"update_time"`
}

// Name is the resource name.
func (p Post) Name() string { return postName(p.PCNCode, p.ID) }

// Staffed reports whether the post has, or had, someone in it: FILLED, or
// ENDED with a staff member named. An ENDED post with nobody named was a
// plan that was given up.
func (p Post) Staffed() bool {
	return p.State == PostFilled || (p.State == PostEnded && p.StaffName != "")
}

// validate checks the post on its own and against its role.
func (p Post) validate(vs *Violations, role Role) {
	const f = "post."
	checkWTE(vs, f+"wte", p.WTE)
	if p.StartDate.IsZero() {
		vs.Add(f+"start_date", "REQUIRED", "the first day in post (or planned start) is required")
	}
	if !p.EndDate.IsZero() && p.EndDate.Before(p.StartDate) {
		vs.Add(f+"end_date", "DATE_ORDER", "must not be before start_date")
	}
	if len(p.Employer) > 200 {
		vs.Add(f+"employer", "LENGTH", "at most 200 characters")
	}
	switch p.FocusCohort {
	case CohortUnspecified, CohortFrailOlderPeople, CohortOffWork, CohortMentalHealth, CohortOther:
	default:
		vs.Add(f+"focus_cohort", "UNKNOWN", "unknown focus cohort")
	}
	if !p.Staffed() {
		if p.StaffName != "" || p.RegistrationNumber != "" {
			vs.Add(f+"staff_name", "NOT_FILLED", "a %s post has no staff member yet; fill it to name one", p.State)
		}
		return
	}
	if strings.TrimSpace(p.StaffName) == "" || len(p.StaffName) > 200 {
		vs.Add(f+"staff_name", "REQUIRED", "a filled post names its staff member (1 to 200 characters)")
	}
	if role.Register == RegisterNone {
		if p.RegistrationNumber != "" {
			vs.Add(f+"registration_number", "NO_REGISTER", "%s is not a registered role", role.DisplayName)
		}
	} else if err := role.CheckRegistration(p.RegistrationNumber); err != nil {
		vs.Add(f+"registration_number", "REGISTRATION_FORMAT", "%s", err)
	}
	p.checkRules(vs, role)
}

// normalise applies the forms the database keeps: registration numbers in
// upper case without spaces, names without surrounding space.
func (p *Post) normalise() {
	p.StaffName = strings.TrimSpace(p.StaffName)
	p.RegistrationNumber = normalRegistration(p.RegistrationNumber)
	if p.FocusCohort == "" {
		p.FocusCohort = CohortUnspecified
	}
}

const postColumns = `pcn_code, id, role_id, state, staff_name, registration_number, wte, start_date, end_date,
	employer, focus_cohort, baseline, cct_date, revision, create_time, update_time`

// GetPost reads one post.
func (s *Store) GetPost(ctx context.Context, pcn, id string) (Post, error) {
	return getPost(ctx, s.db, postName(pcn, id))
}

func getPost(ctx context.Context, q sqlx.QueryerContext, name string) (Post, error) {
	var out Post
	pcn, id, err := ParsePostName("name", name)
	if err != nil {
		return out, err
	}
	a := args{pcn, id}
	err = getOne(ctx, q, &out, name, `SELECT `+postColumns+` FROM posts WHERE pcn_code = $1 AND id = $2 AND `+
		pcnCondition(ctx, "pcn_code", &a), a...)
	return out, err
}

// PostFilter narrows a listing of posts; empty fields match everything.
type PostFilter struct {
	PCNCode string
	RoleID  string
	State   PostState
}

// ListPosts lists posts in PCN then id order.
func (s *Store) ListPosts(ctx context.Context, filter PostFilter, page Page) ([]Post, string, error) {
	afterPCN, afterID := "", ""
	if page.After != "" {
		var err error
		if afterPCN, afterID, err = ParsePostName("page_token", page.After); err != nil {
			return nil, "", err
		}
	}
	a := args{afterPCN, afterID, filter.PCNCode, filter.RoleID, filter.State, page.Size + 1}
	var rows []Post
	if err := s.db.SelectContext(ctx, &rows, `SELECT `+postColumns+` FROM posts
		WHERE (pcn_code, id) > ($1, $2) AND ($3 = '' OR pcn_code = $3) AND ($4 = '' OR role_id = $4)
		AND ($5 = '' OR state = $5) AND `+pcnCondition(ctx, "pcn_code", &a)+`
		ORDER BY pcn_code, id LIMIT $6`, a...); err != nil {
		return nil, "", err
	}
	rows, next := pageOf(rows, page.Size)
	return rows, next, nil
}

// CreatePost adds a post to a PCN: FILLED when it names a staff member,
// otherwise PLANNED. An empty ID gets a generated one.
func (s *Store) CreatePost(ctx context.Context, req Request, p Post) (Post, error) {
	if err := requirePostWriter(ctx); err != nil {
		return Post{}, err
	}
	if !p.prepareNew() {
		return Post{}, Invalid("post_id", "POST_ID_FORMAT", postIDRule)
	}
	return once(ctx, s, req, func(tx *txn) (Post, string, error) {
		if err := pcnVisible(ctx, tx, p.PCNCode); err != nil {
			return Post{}, "", err
		}
		role, err := roleForNewPost(ctx, tx, p.RoleID, p.PCNCode)
		if err != nil {
			return Post{}, "", err
		}
		var vs Violations
		p.validate(&vs, role)
		if err := vs.Err(); err != nil {
			return Post{}, "", err
		}
		var out Post
		err = tx.GetContext(ctx, &out, `INSERT INTO posts (pcn_code, id, role_id, state, staff_name, registration_number,
			wte, start_date, end_date, employer, focus_cohort, baseline, cct_date)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (pcn_code, id) DO NOTHING
			RETURNING `+postColumns, p.PCNCode, p.ID, p.RoleID, p.State, p.StaffName, p.RegistrationNumber,
			p.WTE, p.StartDate, p.EndDate, p.Employer, p.FocusCohort, p.Baseline, p.CCTDate)
		if isNoRows(err) {
			return out, "", AlreadyExists(p.Name(), p.Name()+" already exists")
		}
		if err != nil {
			return out, "", err
		}
		return out, out.Name(), s.appendAudit(ctx, tx, out.Name(), "create", out.PCNCode, nil, out)
	}, getPost)
}

const postIDRule = "lower-case letters, digits and hyphens, 4 to 63 characters"

// prepareNew makes p ready to be created: an id generated when it has none,
// the forms the database keeps, and its first state, FILLED when it names a
// staff member and otherwise PLANNED. It reports whether a given id is well
// formed.
func (p *Post) prepareNew() bool {
	ok := true
	if p.ID == "" {
		p.ID = uuid.NewString()
	} else {
		ok = postIDPattern.MatchString(p.ID)
	}
	p.normalise()
	p.State = PostPlanned
	if p.StaffName != "" || p.RegistrationNumber != "" {
		p.State = PostFilled
	}
	return ok
}

// roleForNewPost is roleForPost for a post being created: a role its
// commissioner retired takes no new posts.
func roleForNewPost(ctx context.Context, q sqlx.QueryerContext, roleID, pcn string) (Role, error) {
	role, err := roleForPost(ctx, q, roleID, pcn)
	if err == nil && role.RetireTime != nil {
		return role, FailedPrecondition(role.Name(), "ROLE_RETIRED",
			role.Name()+" was retired by its commissioner; no new post may take it")
	}
	return role, err
}

// MaxBatchPosts bounds BatchCreatePosts: a PCN's whole workforce fits (the
// largest have a few dozen ARRS posts) and one call stays one short
// transaction.
const MaxBatchPosts = 200

// BatchCreatePosts adds several posts to one PCN, all or none, as CreatePost
// would one at a time: every post's fields are checked first and every bad
// one reported (named requests[i].post.…), then one INSERT writes them all
// and one audit append records an event per post. The posts come back in
// the order given. A post id given twice, or one that exists already, fails
// the whole batch.
func (s *Store) BatchCreatePosts(ctx context.Context, req Request, pcn string, posts []Post) ([]Post, error) {
	if err := requirePostWriter(ctx); err != nil {
		return nil, err
	}
	if len(posts) == 0 || len(posts) > MaxBatchPosts {
		return nil, Invalid("requests", "BATCH_SIZE", "1 to %d posts", MaxBatchPosts)
	}
	var vs Violations
	seen := make(map[string]int, len(posts))
	for i := range posts {
		p := &posts[i]
		p.PCNCode = pcn
		if !p.prepareNew() {
			vs.Add(fmt.Sprintf("requests[%d].post_id", i), "POST_ID_FORMAT", postIDRule)
		} else if j, dup := seen[p.ID]; dup {
			vs.Add(fmt.Sprintf("requests[%d].post_id", i), "DUPLICATE", "requests[%d] creates %s already", j, p.ID)
		} else {
			seen[p.ID] = i
		}
	}
	// The ids' violations wait for the fields': every bad post is reported
	// at once.
	idViolations := vs
	return once(ctx, s, req, func(tx *txn) ([]Post, string, error) {
		if err := pcnVisible(ctx, tx, pcn); err != nil {
			return nil, "", err
		}
		// A workforce has a handful of roles, each looked up once, as
		// CreatePost would (the catalogue's own rules and scope apply).
		roles := map[string]Role{}
		vs := slices.Clone(idViolations)
		for i, p := range posts {
			role, ok := roles[p.RoleID]
			if !ok {
				var err error
				if role, err = roleForNewPost(ctx, tx, p.RoleID, pcn); IsKind(err, KindInvalid) {
					vs.Add(fmt.Sprintf("requests[%d].post.role", i), "UNKNOWN_ROLE", "%s is not in the role catalogue", roleName(p.RoleID))
					continue
				} else if err != nil {
					return nil, "", err
				}
				roles[p.RoleID] = role
			}
			var one Violations
			p.validate(&one, role)
			for _, v := range one {
				vs.Add(fmt.Sprintf("requests[%d].%s", i, v.Field), v.Rule, "%s", v.Description)
			}
		}
		if err := vs.Err(); err != nil {
			return nil, "", err
		}
		cols := struct {
			ids, roles, states, names, registrations, employers, cohorts []string
			wtes                                                         []Decimal
			starts, ends, ccts                                           []Date
			baselines                                                    []bool
		}{}
		for _, p := range posts {
			cols.ids, cols.roles, cols.states = append(cols.ids, p.ID), append(cols.roles, p.RoleID), append(cols.states, string(p.State))
			cols.names, cols.registrations = append(cols.names, p.StaffName), append(cols.registrations, p.RegistrationNumber)
			cols.employers, cols.cohorts = append(cols.employers, p.Employer), append(cols.cohorts, string(p.FocusCohort))
			cols.wtes, cols.starts, cols.ends = append(cols.wtes, p.WTE), append(cols.starts, p.StartDate), append(cols.ends, p.EndDate)
			cols.baselines, cols.ccts = append(cols.baselines, p.Baseline), append(cols.ccts, p.CCTDate)
		}
		var out []Post
		if err := tx.SelectContext(ctx, &out, `INSERT INTO posts (pcn_code, id, role_id, state, staff_name, registration_number,
			wte, start_date, end_date, employer, focus_cohort, baseline, cct_date)
			SELECT $1, v.* FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
				$7::numeric[], $8::date[], $9::date[], $10::text[], $11::text[], $12::boolean[], $13::date[]) AS v
			ON CONFLICT (pcn_code, id) DO NOTHING
			RETURNING `+postColumns, pcn, pq.Array(cols.ids), pq.Array(cols.roles), pq.Array(cols.states),
			pq.Array(cols.names), pq.Array(cols.registrations), pq.Array(cols.wtes), pq.Array(cols.starts),
			pq.Array(cols.ends), pq.Array(cols.employers), pq.Array(cols.cohorts), pq.Array(cols.baselines), pq.Array(cols.ccts)); err != nil {
			return nil, "", err
		}
		// RETURNING has no order: the caller's is the one promised. A post
		// not returned already existed (ON CONFLICT DO NOTHING).
		byID := make(map[string]Post, len(out))
		for _, p := range out {
			byID[p.ID] = p
		}
		out = make([]Post, len(posts))
		records := make([]AuditRecord, len(posts))
		names := make([]string, len(posts))
		for i, p := range posts {
			created, ok := byID[p.ID]
			if !ok {
				return nil, "", AlreadyExists(p.Name(), p.Name()+" already exists")
			}
			out[i] = created
			names[i] = out[i].Name()
			records[i] = AuditRecord{Resource: names[i], Action: "create", PCNCode: pcn, After: out[i]}
		}
		return out, strings.Join(names, "\n"), s.appendAudits(ctx, tx, records)
	}, getPosts)
}

// getPosts reads the posts a batch created, named one per line as
// BatchCreatePosts records them for a replay, in that order.
func getPosts(ctx context.Context, q sqlx.QueryerContext, names string) ([]Post, error) {
	var out []Post
	for _, name := range strings.Split(names, "\n") {
		p, err := getPost(ctx, q, name)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// changePost runs one post change under a row lock and an etag check, then
// validates and writes the result. Every post write goes through it.
// action names the change in the audit trail.
func (s *Store) changePost(ctx context.Context, action, pcn, id, etag string, change func(cur Post, next *Post) error) (Post, error) {
	if err := requirePostWriter(ctx); err != nil {
		return Post{}, err
	}
	return update(ctx, s, mutation[Post]{
		table: "posts", where: "pcn_code = $1 AND id = $2", scopeCol: "pcn_code", key: []any{pcn, id},
		name: postName(pcn, id), pcn: pcn, action: action, get: getPost,
		apply: func(tx *txn, cur Post, next *Post) error {
			if err := change(cur, next); err != nil {
				return err
			}
			next.PCNCode, next.ID, next.RoleID = cur.PCNCode, cur.ID, cur.RoleID
			next.normalise()
			role, err := roleForPost(ctx, tx, next.RoleID, next.PCNCode)
			if err != nil {
				return err
			}
			return validated(func(vs *Violations) { next.validate(vs, role) })
		},
		write: func(tx *txn, next Post) error {
			_, err := tx.ExecContext(ctx, `UPDATE posts SET state = $3, staff_name = $4, registration_number = $5, wte = $6,
				start_date = $7, end_date = $8, employer = $9, focus_cohort = $10, baseline = $11, cct_date = $12,
				revision = revision + 1, update_time = now() WHERE pcn_code = $1 AND id = $2`,
				pcn, id, next.State, next.StaffName, next.RegistrationNumber, next.WTE, next.StartDate, next.EndDate,
				next.Employer, next.FocusCohort, next.Baseline, next.CCTDate)
			return err
		},
	}, etag)
}

// UpdatePost applies change to a post's fields; its state moves only through
// RecruitPost, FillPost and EndPost.
func (s *Store) UpdatePost(ctx context.Context, pcn, id, etag string, change func(*Post)) (Post, error) {
	return s.changePost(ctx, "update", pcn, id, etag, func(cur Post, next *Post) error {
		change(next)
		next.State = cur.State
		return nil
	})
}

func transitionError(p Post, action string) error {
	return FailedPrecondition(p.Name(), "POST_STATE", "a "+string(p.State)+" post cannot be "+action)
}

// RecruitPost moves a PLANNED post to RECRUITING.
func (s *Store) RecruitPost(ctx context.Context, pcn, id, etag string) (Post, error) {
	return s.changePost(ctx, "recruit", pcn, id, etag, func(cur Post, next *Post) error {
		if cur.State != PostPlanned {
			return transitionError(cur, "recruited to")
		}
		next.State = PostRecruiting
		return nil
	})
}

// FillPost names the staff member of a PLANNED or RECRUITING post; a zero
// start keeps the post's start date.
func (s *Store) FillPost(ctx context.Context, pcn, id, etag, staffName, registration string, start Date) (Post, error) {
	return s.changePost(ctx, "fill", pcn, id, etag, func(cur Post, next *Post) error {
		if cur.State != PostPlanned && cur.State != PostRecruiting {
			return transitionError(cur, "filled")
		}
		next.State, next.StaffName, next.RegistrationNumber = PostFilled, staffName, registration
		if !start.IsZero() {
			next.StartDate = start
		}
		return nil
	})
}

// EndPost ends a post: a FILLED post's staff member left on end (required),
// or a PLANNED or RECRUITING post was dropped from the plan.
func (s *Store) EndPost(ctx context.Context, pcn, id, etag string, end Date) (Post, error) {
	return s.changePost(ctx, "end", pcn, id, etag, func(cur Post, next *Post) error {
		switch cur.State {
		case PostFilled:
			if end.IsZero() {
				return Invalid("end_date", "REQUIRED", "the last day in post is required to end a filled post")
			}
		case PostPlanned, PostRecruiting:
		default:
			return transitionError(cur, "ended")
		}
		next.State = PostEnded
		if !end.IsZero() {
			next.EndDate = end
		}
		return nil
	})
}

// normalRegistration is a registration number in the form kept: upper
// case, without spaces ("ot 071234" is OT071234).
func normalRegistration(number string) string {
	return strings.ToUpper(strings.ReplaceAll(number, " ", ""))
}
