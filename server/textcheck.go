package server

import (
	"context"
	"fmt"
	"unicode/utf8"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"arrs.nhs.uk/arrs/claims"
)

// Every string a request carries is checked here, once, before any handler
// sees it: valid UTF-8, no control characters (NUL above all, which
// PostgreSQL refuses in text and would otherwise turn into an internal
// error), line breaks only in the fields written as prose, and at most a
// field's length. Handlers and package claims then check formats and
// rules; this is the floor under all of them, so a new field is covered
// without anyone remembering to.

// textRule is what one string field accepts.
type textRule struct {
	// max is the most characters (Unicode code points, as JSON Schema's
	// maxLength counts them).
	max int
	// prose fields may hold line breaks and tabs.
	prose bool
}

// defaultTextRule covers every string field not named in textRules: names,
// ids, codes, dates, decimals, display names. None of them is near 200
// characters when valid.
var defaultTextRule = textRule{max: 200}

// textRules are the fields that differ from defaultTextRule, by field name
// (the same limit wherever the name is used) or by full name. The proto
// comments and the OpenAPI description state the same limits.
var textRules = map[protoreflect.FullName]textRule{
	// Prose a person writes: why withdrawn, why adjusted; and a reviewer's
	// note to the PCN, which may say more.
	"reason":                             {max: 1000, prose: true},
	"adjustment_reason":                  {max: 1000, prose: true},
	"arrs.v1.RejectClaimRequest.reason":  {max: 2000, prose: true},
	"arrs.v1.QueryClaimRequest.question": {max: 2000, prose: true},
	// The PCN's reply to a question: as long as the question may be.
	"arrs.v1.ReplyToClaimQueryRequest.text": {max: 2000, prose: true},
	// A CPD need in the appraisal's words.
	"arrs.v1.CpdNeed.need": {max: 2000, prose: true},
	// Where a rate came from: a citation, perhaps a URL.
	"arrs.v1.Rate.source": {max: 500},
	// Links to evidence held elsewhere; URLs can be long.
	"evidence_uris": {max: 2000},
	// Opaque tokens and versions this service issued.
	"page_token": {max: 1000},
	// A payroll export: many lines. The request size limits bound it too.
	"csv_data": {max: 1 << 20, prose: true},
}

// ruleFor returns the rule for field f.
func ruleFor(f protoreflect.FieldDescriptor) textRule {
	if r, ok := textRules[f.FullName()]; ok {
		return r
	}
	if r, ok := textRules[protoreflect.FullName(f.Name())]; ok {
		return r
	}
	return defaultTextRule
}

// checkText returns the violation rule and description for s under r, or
// "" when s is acceptable.
func checkText(s string, r textRule) (rule, description string) {
	if !utf8.ValidString(s) {
		return "UTF8", "must be valid UTF-8"
	}
	for _, c := range s {
		if isControl(c) && !(r.prose && (c == '\n' || c == '\r' || c == '\t')) {
			if r.prose {
				return "CONTROL_CHARACTER", fmt.Sprintf("must not contain control characters (found U+%04X) other than line breaks and tabs", c)
			}
			return "CONTROL_CHARACTER", fmt.Sprintf("must not contain control characters (found U+%04X) or line breaks", c)
		}
	}
	if n := utf8.RuneCountInString(s); n > r.max {
		return "LENGTH", fmt.Sprintf("at most %d characters, not %d", r.max, n)
	}
	return "", ""
}

// isControl reports whether c is a C0 or C1 control character, or DEL.
func isControl(c rune) bool { return c < 0x20 || c >= 0x7f && c <= 0x9f }

// checkMessageText walks m and adds a violation for every string that
// breaks its field's rule, naming it by its path ("post.staff_name",
// "requests[2].claim_line.adjustment_reason").
func checkMessageText(vs *claims.Violations, prefix string, m protoreflect.Message) {
	m.Range(func(f protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		path := prefix + string(f.Name())
		switch {
		case f.IsMap():
			// No arrs request has a map; if one comes, its keys and
			// values are checked like any other strings.
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				key := k.String()
				checkValue(vs, f.MapKey(), path+"["+key+"]", k.Value())
				checkValue(vs, f.MapValue(), path+"["+key+"]", mv)
				return true
			})
		case f.IsList():
			l := v.List()
			for i := range l.Len() {
				checkValue(vs, f, fmt.Sprintf("%s[%d]", path, i), l.Get(i))
			}
		default:
			checkValue(vs, f, path, v)
		}
		return true
	})
}

func checkValue(vs *claims.Violations, f protoreflect.FieldDescriptor, path string, v protoreflect.Value) {
	switch f.Kind() {
	case protoreflect.StringKind:
		if rule, desc := checkText(v.String(), ruleFor(f)); rule != "" {
			vs.Add(path, rule, "%s", desc)
		}
	case protoreflect.MessageKind, protoreflect.GroupKind:
		checkMessageText(vs, path+".", v.Message())
	}
}

// textUnary refuses a request with any string that breaks its rule,
// naming every such field. It runs after access, so an anonymous caller
// learns nothing from it, and before the handler, so nothing is changed.
func textUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if m, ok := req.(proto.Message); ok {
		var vs claims.Violations
		checkMessageText(&vs, "", m.ProtoReflect())
		if err := vs.Err(); err != nil {
			return nil, err
		}
	}
	return handler(ctx, req)
}

// plainText reports whether s is valid UTF-8 free of control characters,
// as the default rule wants, at any length: for text the server decodes
// itself, such as a page token's key.
func plainText(s string) bool {
	rule, _ := checkText(s, textRule{max: len(s)})
	return rule == ""
}
