package server

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"arrs.nhs.uk/arrs/claims"
	arrsv1 "arrs.nhs.uk/arrs/gen/arrs/v1"
)

// A payroll export as a claim's lines: the CSV format ImportClaimLines
// reads (documented on ImportClaimLinesRequest). The server owns formats;
// the store sees a BatchUpdateClaimLines.

// importAmounts are the money columns, in pounds, and the line field each
// sets.
var importAmounts = map[string]func(l *claims.ClaimLine, pence int64){
	"gross_salary":       func(l *claims.ClaimLine, p int64) { l.GrossSalary = p },
	"employer_ni":        func(l *claims.ClaimLine, p int64) { l.EmployerNI = p },
	"employer_pension":   func(l *claims.ClaimLine, p int64) { l.EmployerPension = p },
	"overtime":           func(l *claims.ClaimLine, p int64) { l.Overtime = p },
	"absence_adjustment": func(l *claims.ClaimLine, p int64) { l.AbsenceAdjustment = p },
}

// maxImportRows bounds an import as BatchUpdateClaimLines is bounded.
const maxImportRows = 500

func (h *claimService) ImportClaimLines(ctx context.Context, req *arrsv1.ImportClaimLinesRequest) (*arrsv1.BatchUpdateClaimLinesResponse, error) {
	var vs claims.Violations
	pcn, id, err := claims.ParseClaimName("parent", req.GetParent())
	vs.Take(err)
	edits := readPayroll(&vs, req.GetCsvData())
	if err := vs.Err(); err != nil {
		return nil, err
	}
	lines, err := h.store.BatchUpdateClaimLines(ctx, pcn, id, edits)
	if err != nil {
		return nil, rowViolations(err)
	}
	out := &arrsv1.BatchUpdateClaimLinesResponse{ClaimLines: make([]*arrsv1.ClaimLine, len(lines))}
	for i, l := range lines {
		out.ClaimLines[i] = claimLineProto(l)
	}
	return out, nil
}

// readPayroll reads the CSV into one edit per row, recording a violation
// (csv_data, naming the row and column) for each cell that does not read.
func readPayroll(vs *claims.Violations, data string) []claims.LineEdit {
	r := csv.NewReader(strings.NewReader(data))
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if err != nil {
		vs.Add("csv_data", "CSV_HEADER", "the first row names the columns: post or registration_number, then the amounts")
		return nil
	}
	column := map[string]int{}
	for i, name := range header {
		name = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(name, "\ufeff")))
		if _, known := importAmounts[name]; !known && name != "post" && name != "registration_number" && name != "wte" {
			vs.Add("csv_data", "CSV_COLUMN", "row 1: %q is not a column this import reads", name)
			continue
		}
		column[name] = i
	}
	_, byPost := column["post"]
	_, byRegistration := column["registration_number"]
	if byPost == byRegistration {
		vs.Add("csv_data", "CSV_HEADER", "name each line by one column: post or registration_number")
		return nil
	}
	var edits []claims.LineEdit
	for row := 2; ; row++ {
		record, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			vs.Add("csv_data", "CSV_SYNTAX", "row %d: %v", row, err)
			return nil
		}
		if len(edits) == maxImportRows {
			vs.Add("csv_data", "TOO_MANY", "at most %d rows", maxImportRows)
			return nil
		}
		edits = append(edits, payrollRow(vs, row, column, record))
	}
	if len(edits) == 0 {
		vs.Add("csv_data", "REQUIRED", "no rows below the header")
	}
	return edits
}

// payrollRow reads one row into an edit.
func payrollRow(vs *claims.Violations, row int, column map[string]int, record []string) claims.LineEdit {
	cell := func(name string) string { return strings.TrimSpace(record[column[name]]) }
	var e claims.LineEdit
	if _, ok := column["post"]; ok {
		e.PostID = cell("post")
	} else {
		e.Registration = cell("registration_number")
	}
	var sets []func(*claims.ClaimLine)
	for name, set := range importAmounts {
		if _, ok := column[name]; !ok {
			continue
		}
		pence := int64(0)
		if v := cell(name); v != "" {
			var err error
			if pence, err = claims.ParsePounds(v); err != nil {
				vs.Add("csv_data", "CSV_AMOUNT", "row %d, %s: %v", row, name, err)
				continue
			}
		}
		sets = append(sets, func(l *claims.ClaimLine) { set(l, pence) })
	}
	if _, ok := column["wte"]; ok {
		wte, err := claims.ParseDecimal(cell("wte"))
		if err != nil {
			vs.Add("csv_data", "CSV_WTE", "row %d, wte: %q is not a decimal like 0.6", row, cell("wte"))
		}
		sets = append(sets, func(l *claims.ClaimLine) { l.WTE = wte })
	}
	e.Change = func(l *claims.ClaimLine) {
		for _, set := range sets {
			set(l)
		}
	}
	return e
}

// batchField matches a BatchUpdateClaimLines violation's field.
var batchField = regexp.MustCompile(`^requests\[(\d+)\]\.claim_line\.(.+)$`)

// rowViolations names the store's per-request violations by CSV row, the
// header being row 1.
func rowViolations(err error) error {
	e, ok := claims.AsError(err)
	if !ok || len(e.Violations) == 0 {
		return err
	}
	out := *e
	out.Violations = make(claims.Violations, len(e.Violations))
	for i, v := range e.Violations {
		if m := batchField.FindStringSubmatch(v.Field); m != nil {
			n, _ := strconv.Atoi(m[1]) // the pattern admits only digits
			v.Description = fmt.Sprintf("row %d, %s: %s", n+2, m[2], v.Description)
			v.Field = "csv_data"
		}
		out.Violations[i] = v
	}
	return &out
}
