package server

import (
	"context"
	"encoding/csv"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"arrs.nhs.uk/arrs/claims"
	arrsv1 "arrs.nhs.uk/arrs/gen/arrs/v1"
)

// reportingService serves arrs.v1.ReportingService.
type reportingService struct {
	arrsv1.UnimplementedReportingServiceServer
	store *claims.Store
}

// positionOrders are the PcnPosition fields a position may be ordered by,
// each with how to compare two PCNs by it.
var positionOrders = map[string]func(a, b *arrsv1.PcnPosition) int{
	"pcn":          func(a, b *arrsv1.PcnPosition) int { return strings.Compare(a.GetPcn(), b.GetPcn()) },
	"display_name": func(a, b *arrsv1.PcnPosition) int { return strings.Compare(a.GetDisplayName(), b.GetDisplayName()) },
	"sub_icb_location": func(a, b *arrsv1.PcnPosition) int {
		return strings.Compare(a.GetSubIcbLocation(), b.GetSubIcbLocation())
	},
	"entitlement_pence": func(a, b *arrsv1.PcnPosition) int { return cmpInt(a.GetEntitlementPence(), b.GetEntitlementPence()) },
	"submitted_pence":   func(a, b *arrsv1.PcnPosition) int { return cmpInt(a.GetSubmittedPence(), b.GetSubmittedPence()) },
	"approved_pence":    func(a, b *arrsv1.PcnPosition) int { return cmpInt(a.GetApprovedPence(), b.GetApprovedPence()) },
	"paid_pence":        func(a, b *arrsv1.PcnPosition) int { return cmpInt(a.GetPaidPence(), b.GetPaidPence()) },
	"remaining_pence":   func(a, b *arrsv1.PcnPosition) int { return cmpInt(a.GetRemainingPence(), b.GetRemainingPence()) },
	"forecast_pence":    func(a, b *arrsv1.PcnPosition) int { return cmpInt(a.GetForecastPence(), b.GetForecastPence()) },
	"forecast_underspend_pence": func(a, b *arrsv1.PcnPosition) int {
		return cmpInt(a.GetForecastUnderspendPence(), b.GetForecastUnderspendPence())
	},
	"claims_waiting": func(a, b *arrsv1.PcnPosition) int {
		return cmpInt(int64(a.GetClaimsWaiting()), int64(b.GetClaimsWaiting()))
	},
	"oldest_waiting_days": func(a, b *arrsv1.PcnPosition) int {
		return cmpInt(int64(a.GetOldestWaitingDays()), int64(b.GetOldestWaitingDays()))
	},
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// parseOrderBy reads an AIP-132 order_by of one field: "field" or
// "field desc".
func parseOrderBy(orderBy string) (func(a, b *arrsv1.PcnPosition) int, error) {
	if strings.TrimSpace(orderBy) == "" {
		return positionOrders["pcn"], nil
	}
	fields := strings.Fields(orderBy)
	cmp, ok := positionOrders[fields[0]]
	desc := len(fields) == 2 && fields[1] == "desc"
	if !ok || len(fields) > 2 || (len(fields) == 2 && !desc && fields[1] != "asc") {
		names := make([]string, 0, len(positionOrders))
		for n := range positionOrders {
			names = append(names, n)
		}
		slices.Sort(names)
		return nil, claims.Invalid("order_by", "ORDER_BY", "order by one of %s, optionally followed by \" desc\"", strings.Join(names, ", "))
	}
	if desc {
		return func(a, b *arrsv1.PcnPosition) int { return cmp(b, a) }, nil
	}
	return cmp, nil
}

func (h *reportingService) GetCommissionerPosition(ctx context.Context, req *arrsv1.GetCommissionerPositionRequest) (*arrsv1.CommissionerPosition, error) {
	var vs claims.Violations
	commissioner, year, err := claims.ParsePositionName("name", req.GetName())
	vs.Take(err)
	order, err := parseOrderBy(req.GetOrderBy())
	vs.Take(err)
	if err := vs.Err(); err != nil {
		return nil, err
	}
	pos, err := h.store.GetCommissionerPosition(ctx, commissioner, year)
	if err != nil {
		return nil, err
	}
	today := claims.DateOf(h.store.Now())
	out := &arrsv1.CommissionerPosition{Name: pos.Name(), ReadTime: timestamp(pos.ReadTime), Total: pcnPositionProto(pos.Total, today)}
	for _, p := range pos.PCNs {
		out.Pcns = append(out.Pcns, pcnPositionProto(p, today))
	}
	// Stable, so ties keep PCN code order.
	slices.SortStableFunc(out.Pcns, order)
	if req.GetIncludeCsv() {
		if out.Csv, err = positionCSV(out); err != nil {
			return nil, err
		}
		setExportFilename(ctx, fmt.Sprintf("arrs-position-%s-%s.csv", commissionerLabel(commissioner), year))
	}
	return out, nil
}

func pcnPositionProto(p claims.PCNPosition, today claims.Date) *arrsv1.PcnPosition {
	out := &arrsv1.PcnPosition{
		DisplayName:             p.DisplayName,
		HasEntitlement:          p.HasEntitlement,
		EntitlementPence:        p.EntitlementPence,
		SubmittedPence:          p.SubmittedPence,
		ApprovedPence:           p.ApprovedPence,
		PaidPence:               p.PaidPence,
		RemainingPence:          p.RemainingPence(),
		ForecastPence:           p.ForecastPence,
		ForecastUnderspendPence: p.UnderspendPence(),
		ClaimsWaiting:           int32(p.ClaimsWaiting),
		MissingRateMonths:       int32(p.MissingRateMonths),
	}
	if p.PCNCode != "" {
		out.Pcn = "pcns/" + p.PCNCode
		out.Commissioner = "commissioners/" + p.CommissionerCode
		out.SubIcbLocation = claims.SubICBLocationName(p.CommissionerCode, p.SubICBLocationCode)
	}
	if !p.OldestWaitingSince.IsZero() {
		out.OldestWaitingSince = timestamp(p.OldestWaitingSince)
		out.OldestWaitingDays = int32(claims.DateOf(p.OldestWaitingSince).DaysUntil(today))
	}
	return out
}

// positionCSV writes the PCNs and then the total, money in pence as the API
// gives it.
func positionCSV(p *arrsv1.CommissionerPosition) (string, error) {
	var b strings.Builder
	w := csv.NewWriter(&b)
	rows := [][]string{{"pcn", "display_name", "commissioner", "sub_icb_location", "entitlement_pence", "submitted_pence", "approved_pence",
		"paid_pence", "remaining_pence", "forecast_pence", "forecast_underspend_pence", "claims_waiting", "oldest_waiting_days"}}
	for _, r := range append(slices.Clone(p.GetPcns()), p.GetTotal()) {
		pcn, name := strings.TrimPrefix(r.GetPcn(), "pcns/"), r.GetDisplayName()
		if r == p.GetTotal() {
			pcn, name = "TOTAL", "All PCNs"
		}
		rows = append(rows, []string{cell(pcn), cell(name), strings.TrimPrefix(r.GetCommissioner(), "commissioners/"), subICBCode(r.GetSubIcbLocation()),
			i64(r.GetEntitlementPence()), i64(r.GetSubmittedPence()), i64(r.GetApprovedPence()), i64(r.GetPaidPence()),
			i64(r.GetRemainingPence()), i64(r.GetForecastPence()), i64(r.GetForecastUnderspendPence()),
			i64(int64(r.GetClaimsWaiting())), i64(int64(r.GetOldestWaitingDays()))})
	}
	if err := w.WriteAll(rows); err != nil {
		return "", err
	}
	return b.String(), nil
}

func i64(v int64) string { return strconv.FormatInt(v, 10) }

func commissionerLabel(code string) string {
	if code == "-" {
		return "ENGLAND"
	}
	return code
}

func (h *reportingService) ListWorkforceStatistics(ctx context.Context, req *arrsv1.ListWorkforceStatisticsRequest) (*arrsv1.ListWorkforceStatisticsResponse, error) {
	var vs claims.Violations
	commissioner := "-"
	if req.GetParent() != "commissioners/-" {
		c, err := claims.ParseCommissionerName("parent", req.GetParent())
		vs.Take(err)
		commissioner = c
	}
	subICB := ""
	if req.GetSubIcbLocation() != "" {
		owner, code, err := claims.ParseSubICBLocationName("sub_icb_location", req.GetSubIcbLocation())
		switch {
		case err != nil:
			vs.Take(err)
		case commissioner != "-" && commissioner != "" && owner != commissioner:
			vs.Add("sub_icb_location", "SUB_ICB_LOCATION_OF_OTHER_PARENT", "%s is not a location of %s", req.GetSubIcbLocation(), req.GetParent())
		default:
			// Under commissioners/-, the location names its commissioner.
			commissioner, subICB = owner, code
		}
	}
	year, err := claims.ParseFinancialYear(req.GetFinancialYear())
	if err != nil {
		vs.Add("financial_year", "FINANCIAL_YEAR_FORMAT", "the financial year is written YYYY-YY, for example 2026-27")
	}
	if err := vs.Err(); err != nil {
		return nil, err
	}
	page, err := parsePage(req.GetPageSize(), req.GetPageToken(), req.GetParent(), req.GetFinancialYear(), req.GetSubIcbLocation())
	if err != nil {
		return nil, err
	}
	rows, next, err := h.store.ListWorkforceStatistics(ctx, commissioner, subICB, year, page.store())
	if err != nil {
		return nil, err
	}
	out := &arrsv1.ListWorkforceStatisticsResponse{
		NextPageToken: tokenFor(next, req.GetParent(), req.GetFinancialYear(), req.GetSubIcbLocation()),
	}
	for _, r := range rows {
		out.WorkforceStatistics = append(out.WorkforceStatistics, &arrsv1.WorkforceStatistic{
			Month: r.Month.String(), Commissioner: "commissioners/" + r.CommissionerCode,
			SubIcbLocation: claims.SubICBLocationName(r.CommissionerCode, r.SubICBLocationCode), Role: claims.Role{ID: r.RoleID}.Name(),
			Headcount: int32(r.Headcount), Fte: r.FTE.String(), SpendPence: r.SpendPence,
			PendingHeadcount: int32(r.PendingHeadcount), PendingFte: r.PendingFTE.String(), PendingSpendPence: r.PendingSpendPence,
		})
	}
	if req.GetIncludeCsv() {
		if out.Csv, err = statisticsCSV(out.GetWorkforceStatistics()); err != nil {
			return nil, err
		}
		label := commissionerLabel(commissioner)
		if subICB != "" {
			label += "-" + subICB
		}
		setExportFilename(ctx, fmt.Sprintf("arrs-workforce-%s-%s.csv", label, year))
	}
	return out, nil
}

// statisticsCSV writes the rows as the API gives them, codes for names;
// sub_icb_location is empty where the PCNs had none.
func statisticsCSV(rows []*arrsv1.WorkforceStatistic) (string, error) {
	var b strings.Builder
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"month", "commissioner", "sub_icb_location", "role", "headcount", "fte", "spend_pence",
		"pending_headcount", "pending_fte", "pending_spend_pence"})
	for _, r := range rows {
		_ = w.Write([]string{r.GetMonth(), strings.TrimPrefix(r.GetCommissioner(), "commissioners/"), subICBCode(r.GetSubIcbLocation()),
			strings.TrimPrefix(r.GetRole(), "roles/"),
			i64(int64(r.GetHeadcount())), r.GetFte(), i64(r.GetSpendPence()),
			i64(int64(r.GetPendingHeadcount())), r.GetPendingFte(), i64(r.GetPendingSpendPence())})
	}
	w.Flush()
	return b.String(), w.Error()
}

// subICBCode is the code a sub-ICB location's name ends with, "" for none.
func subICBCode(name string) string {
	return name[strings.LastIndex(name, "/")+1:]
}

// setExportFilename names the CSV download of a REST call (csvDownload); a
// gRPC caller may ignore it.
func setExportFilename(ctx context.Context, name string) {
	_ = grpc.SetHeader(ctx, metadata.Pairs(exportFilenameHeader, name))
}
