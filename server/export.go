package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"arrs.nhs.uk/arrs/claims"
	arrsv1 "arrs.nhs.uk/arrs/gen/arrs/v1"
)

// ExportClaimLines answers with the approved and paid lines of a
// commissioner's month as CSV (see claims.WriteExportCSV for the columns).
func (h *claimService) ExportClaimLines(ctx context.Context, req *arrsv1.ExportClaimLinesRequest) (*arrsv1.ExportClaimLinesResponse, error) {
	var vs claims.Violations
	commissioner, err := claims.ParseCommissionerName("commissioner", req.GetCommissioner())
	vs.Take(err)
	month, err := claims.ParseMonth(req.GetMonth())
	if err != nil {
		vs.Add("month", "MONTH_FORMAT", "the claim month is written YYYY-MM, for example 2025-05")
	}
	if err := vs.Err(); err != nil {
		return nil, err
	}
	rows, err := h.store.ExportClaimLines(ctx, commissioner, month)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	if err := writeExportCSV(&b, rows); err != nil {
		return nil, err
	}
	// The REST gateway names the download after this (see csvDownload); a
	// gRPC caller may ignore it.
	_ = grpc.SetHeader(ctx, metadata.Pairs(exportFilenameHeader, fmt.Sprintf("arrs-claim-lines-%s-%s.csv", commissioner, month)))
	return &arrsv1.ExportClaimLinesResponse{Csv: b.String()}, nil
}

// csvMIME is the media type a REST caller accepts to receive an export as
// CSV rather than as JSON. grpc-gateway picks the outbound marshaler by
// looking the Accept header's value up as it stands; negotiate
// (gateway_checks.go) first reduces whatever the caller sent (a list,
// q-values, parameters) to exactly this when CSV is the better match.
const csvMIME = "text/csv"

// exportFilenameHeader carries the export's file name from the handler to
// the gateway, as gRPC response metadata. The gateway does not forward it
// as a header (outgoingHeader drops it); csvDownload turns it into
// Content-Disposition.
const exportFilenameHeader = "arrs-export-filename"

// exportFilename is what a file name must look like to be sent on.
var exportFilename = regexp.MustCompile(`^arrs-(claim-lines-[0-9A-Z]{3,5}-[0-9]{4}-[0-9]{2}|position-[0-9A-Z]{3,7}-[0-9]{4}-[0-9]{2}|workforce-[0-9A-Z]{3,7}-[0-9]{4}-[0-9]{2})\.csv$`)

// csvResponse is a response that can be downloaded as CSV: an export, and
// the reports asked for include_csv.
type csvResponse interface {
	proto.Message
	GetCsv() string
}

// withCSVExport lets a REST caller download an export as CSV: accepting
// text/csv, the response body is the export's csv field itself,
// served as text/csv with a Content-Disposition naming the file. Everything
// else answered to such a request (another RPC's response, or an error's
// google.rpc.Status) is written by the gateway's "*" marshaler, as JSON.
func withCSVExport() runtime.ServeMuxOption {
	return func(mux *runtime.ServeMux) {
		m := &csvMarshaler{mux: mux}
		runtime.WithMarshalerOption(csvMIME, m)(mux)
		runtime.WithForwardResponseOption(csvDownload)(mux)
	}
}

// csvMarshaler writes an ExportClaimLinesResponse as its raw CSV and
// delegates everything else, in both directions, to the mux's "*"
// marshaler, looked up once the mux is built (so the order of the options
// does not matter and the JSON settings live in one place).
type csvMarshaler struct {
	mux      *runtime.ServeMux
	once     sync.Once
	fallback runtime.Marshaler
}

func (m *csvMarshaler) json() runtime.Marshaler {
	m.once.Do(func() {
		// A request with no Accept or Content-Type header gets the "*"
		// marshaler.
		m.fallback, _ = runtime.MarshalerForRequest(m.mux, &http.Request{Header: http.Header{}})
	})
	return m.fallback
}

func (m *csvMarshaler) Marshal(v any) ([]byte, error) {
	if r, ok := v.(csvResponse); ok {
		return []byte(r.GetCsv()), nil
	}
	return m.json().Marshal(v)
}

func (m *csvMarshaler) ContentType(v any) string {
	if _, ok := v.(csvResponse); ok {
		return csvMIME + "; charset=utf-8; header=present"
	}
	return m.json().ContentType(v)
}

func (m *csvMarshaler) Unmarshal(data []byte, v any) error { return m.json().Unmarshal(data, v) }

func (m *csvMarshaler) NewDecoder(r io.Reader) runtime.Decoder { return m.json().NewDecoder(r) }

func (m *csvMarshaler) NewEncoder(w io.Writer) runtime.Encoder {
	return runtime.EncoderFunc(func(v any) error {
		b, err := m.Marshal(v)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	})
}

// csvDownload names the file of an export served as CSV, so a browser
// saves it rather than showing it. The gateway has set Content-Type by the
// time it runs.
func csvDownload(ctx context.Context, w http.ResponseWriter, resp proto.Message) error {
	if _, ok := resp.(csvResponse); !ok || !strings.HasPrefix(w.Header().Get("Content-Type"), csvMIME) {
		return nil
	}
	md, ok := runtime.ServerMetadataFromContext(ctx)
	if !ok {
		return nil
	}
	if names := md.HeaderMD.Get(exportFilenameHeader); len(names) == 1 && exportFilename.MatchString(names[0]) {
		w.Header().Set("Content-Disposition", `attachment; filename="`+names[0]+`"`)
	}
	return nil
}
