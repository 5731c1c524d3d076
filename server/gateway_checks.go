package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/elnormous/contenttype"
	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// The media types a REST response can be: JSON always, and CSV for
// ExportClaimLines. Accept is matched against these (with their
// parameters), and the gateway then picks its marshaler by the bare type.
var (
	jsonOffer = contenttype.NewMediaType("application/json; charset=utf-8")
	csvOffer  = contenttype.NewMediaType(csvMIME + "; charset=utf-8; header=present")
)

// checkRequest is the gateway middleware that runs once the mux has matched
// a route, and before its handler decodes anything or calls the gRPC server
// (and so before authentication). For the RPC the route is bound to it:
//
//   - negotiates Accept (406 when neither JSON nor, for the export, CSV is
//     acceptable);
//   - refuses a body that is not application/json (415) and reads the body,
//     at most the front's limit (413);
//   - refuses unknown fields, in the body or the query, naming each (400,
//     google.rpc.BadRequest), and a body that is not JSON for the RPC (400).
//
// The gateway's own decoding is lenient about what it does not know, so a
// misspelt field would otherwise be dropped silently.
func (f *restFront) checkRequest(next runtime.HandlerFunc) runtime.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, params map[string]string) {
		if p, ok := r.Context().Value(probeKey{}).(*routeProbe); ok {
			p.matched = true
			return
		}
		pattern, _ := runtime.HTTPPattern(r.Context())
		b, ok := f.bindings[bindingKey(r.Method, pattern.String())]
		if !ok {
			// /healthz, /openapi.json, the JWKS: reads without parameters.
			next(w, r, params)
			return
		}
		if err := negotiate(r, b); err != nil {
			f.fail(w, r, err)
			return
		}
		body, err := readBody(r)
		if err != nil {
			f.fail(w, r, err)
			return
		}
		if err := checkFields(b, r.URL.Query(), body); err != nil {
			f.fail(w, r, err)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next(w, r, params)
	}
}

// negotiate picks the response's media type from Accept (RFC 9110 §12.5.1:
// lists, q-values, parameters, wildcards, any case) and leaves Accept naming
// exactly that type, which is how the gateway chooses its marshaler. An
// Accept header that does not parse is ignored, as the RFC allows.
func negotiate(r *http.Request, b binding) error {
	offers := []contenttype.MediaType{jsonOffer}
	if b.offersCSV() {
		offers = append(offers, csvOffer)
	}
	chosen := jsonOffer
	if accept := strings.Join(r.Header.Values("Accept"), ", "); accept != "" {
		mt, _, err := contenttype.GetAcceptableMediaTypeFromHeader(accept, offers)
		switch {
		case errors.Is(err, contenttype.ErrNoAcceptableTypeFound):
			names := make([]string, len(offers))
			for i, o := range offers {
				names[i] = o.MIME()
			}
			return &runtime.HTTPStatusError{HTTPStatus: http.StatusNotAcceptable, Err: withInfo(codes.InvalidArgument,
				"this method answers only "+strings.Join(names, " or "), "NOT_ACCEPTABLE").Err()}
		case err == nil:
			chosen = mt
		}
	}
	if chosen.MIME() == csvMIME {
		r.Header.Set("Accept", csvMIME)
		if b.asksForCSV() {
			q := r.URL.Query()
			q.Set("includeCsv", "true")
			r.URL.RawQuery = q.Encode()
		}
	} else {
		r.Header.Del("Accept")
	}
	return nil
}

// readBody reads the request body, which the front has limited, after
// checking that a body present is JSON.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	if r.ContentLength != 0 {
		if err := checkJSONMediaType(r.Header.Get("Content-Type")); err != nil {
			return nil, err
		}
	}
	body, err := io.ReadAll(r.Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, tooLarge(tooBig.Limit)
	}
	if err != nil {
		return nil, status.Error(codes.Canceled, "the request body could not be read")
	}
	return body, nil
}

// checkJSONMediaType accepts application/json, in UTF-8 if a charset is
// given (RFC 8259 §8.1).
func checkJSONMediaType(contentType string) error {
	mt, params, err := mime.ParseMediaType(contentType)
	charset, hasCharset := params["charset"]
	if err == nil && mt == "application/json" && (!hasCharset || strings.EqualFold(charset, "utf-8")) {
		return nil
	}
	got := contentType
	if got == "" {
		got = "none"
	}
	return &runtime.HTTPStatusError{HTTPStatus: http.StatusUnsupportedMediaType, Err: withInfo(codes.InvalidArgument,
		"request bodies are application/json (UTF-8); Content-Type was "+got, "UNSUPPORTED_MEDIA_TYPE").Err()}
}

// checkFields refuses query parameters and body fields the RPC does not
// have, and a body that is not valid JSON for it.
func checkFields(b binding, query url.Values, body []byte) error {
	var vs []*errdetails.BadRequest_FieldViolation
	for _, key := range sortedKeys(query) {
		if !queryField(b, key) {
			vs = append(vs, &errdetails.BadRequest_FieldViolation{Field: key, Reason: "UNKNOWN_FIELD",
				Description: fmt.Sprintf("%s is not a query parameter of %s", key, b.rpc.Name())})
		}
	}
	target := b.bodyMessage()
	prefix := ""
	if b.body != "*" && b.body != "" {
		prefix = b.body + "."
	}
	if len(bytes.TrimSpace(body)) > 0 {
		var doc any
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&doc); err != nil {
			return invalidJSON("the request body is not JSON: " + err.Error())
		}
		if _, err := dec.Token(); err != io.EOF {
			return invalidJSON("the request body has more than one JSON value")
		}
		if target == nil {
			// A method without a body takes at most an empty object.
			if obj, ok := doc.(map[string]any); !ok || len(obj) > 0 {
				vs = append(vs, &errdetails.BadRequest_FieldViolation{Field: "body", Reason: "UNKNOWN_FIELD",
					Description: string(b.rpc.Name()) + " takes no request body"})
			}
		} else {
			vs = append(vs, unknownFields(prefix, target, doc)...)
		}
	}
	if len(vs) > 0 {
		return mustWithDetails(status.New(codes.InvalidArgument, "the request has unknown fields"),
			&errdetails.ErrorInfo{Reason: "INVALID_ARGUMENT", Domain: errorDomain},
			&errdetails.BadRequest{FieldViolations: vs}).Err()
	}
	if target != nil && len(bytes.TrimSpace(body)) > 0 {
		mt, err := protoregistry.GlobalTypes.FindMessageByName(target.FullName())
		if err != nil {
			return err
		}
		if err := protojson.Unmarshal(body, mt.New().Interface()); err != nil {
			return invalidJSON("the request body does not fit " + string(target.Name()) + ": " + err.Error())
		}
	}
	return nil
}

func invalidJSON(msg string) error {
	return withInfo(codes.InvalidArgument, msg, "INVALID_JSON").Err()
}

// queryField says whether key names a field the gateway fills from the
// query: a (dotted) path of proto or JSON names in the request, outside the
// path and the body. A method whose body is the whole request ("*") takes
// no query parameters.
func queryField(b binding, key string) bool {
	if b.body == "*" {
		return false
	}
	md := b.rpc.Input()
	segments := strings.Split(key, ".")
	for i, seg := range segments {
		fd := fieldByName(md, seg)
		if fd == nil {
			return false
		}
		if i == 0 && (b.pathFields[fd.Name()] || string(fd.Name()) == b.body) {
			return false
		}
		if i == len(segments)-1 {
			return true
		}
		if fd.Message() == nil || fd.IsList() || fd.IsMap() || isWellKnown(fd.Message()) {
			return false
		}
		md = fd.Message()
	}
	return false
}

// unknownFields walks a JSON value against the message it decodes into and
// names every member the message does not have, as path + member. Well-known
// types (Timestamp, FieldMask, ...) have JSON forms of their own and are not
// walked.
func unknownFields(path string, md protoreflect.MessageDescriptor, v any) []*errdetails.BadRequest_FieldViolation {
	obj, ok := v.(map[string]any)
	if !ok || isWellKnown(md) {
		return nil
	}
	var out []*errdetails.BadRequest_FieldViolation
	for _, key := range sortedKeys(obj) {
		fd := fieldByName(md, key)
		if fd == nil {
			out = append(out, &errdetails.BadRequest_FieldViolation{Field: path + key, Reason: "UNKNOWN_FIELD",
				Description: fmt.Sprintf("%s has no field %q", md.Name(), key)})
			continue
		}
		child := fd.Message()
		switch {
		case child == nil:
		case fd.IsMap():
			if m, ok := obj[key].(map[string]any); ok && fd.MapValue().Message() != nil {
				for _, k := range sortedKeys(m) {
					out = append(out, unknownFields(fmt.Sprintf("%s%s[%s].", path, key, k), fd.MapValue().Message(), m[k])...)
				}
			}
		case fd.IsList():
			if items, ok := obj[key].([]any); ok {
				for i, item := range items {
					out = append(out, unknownFields(fmt.Sprintf("%s%s[%d].", path, key, i), child, item)...)
				}
			}
		default:
			out = append(out, unknownFields(path+key+".", child, obj[key])...)
		}
	}
	return out
}

// fieldByName finds a field by its JSON name or its proto name, as protojson
// and the gateway's query parser both accept.
func fieldByName(md protoreflect.MessageDescriptor, name string) protoreflect.FieldDescriptor {
	if fd := md.Fields().ByJSONName(name); fd != nil {
		return fd
	}
	return md.Fields().ByName(protoreflect.Name(name))
}

func isWellKnown(md protoreflect.MessageDescriptor) bool {
	return md.ParentFile().Package() == "google.protobuf"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
