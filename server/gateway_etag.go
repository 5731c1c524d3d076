package server

import (
	"context"
	"net/http"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// ifMatch is a request's If-Match header (RFC 9110 §13.1.1).
type ifMatch struct {
	present bool
	// any is "*": any current representation, which every existing
	// resource has, so it constrains nothing here.
	any bool
	// tags are the entity tags listed, unquoted; a weak tag (W/"…") is
	// kept with its prefix, so it never equals an etag: If-Match compares
	// strongly.
	tags []string
}

func parseIfMatch(values []string) ifMatch {
	var m ifMatch
	for _, v := range values {
		for _, t := range strings.Split(v, ",") {
			t = strings.TrimSpace(t)
			switch {
			case t == "":
				continue
			case t == "*":
				m.any = true
			case strings.HasPrefix(t, `"`) && strings.HasSuffix(t, `"`) && len(t) >= 2:
				t = t[1 : len(t)-1]
			}
			m.present = true
			if t != "*" {
				m.tags = append(m.tags, t)
			}
		}
	}
	return m
}

// matches reports whether etag satisfies the condition.
func (m ifMatch) matches(etag string) bool {
	if !m.present || m.any {
		return true
	}
	for _, t := range m.tags {
		if t == etag {
			return true
		}
	}
	return false
}

// etagHeader sends a resource's etag as the ETag header of the response
// that carries it, and answers a read whose If-Match the resource does not
// satisfy with 412 (a write has had its If-Match checked by the server; see
// ifMatchUnary). It runs for every successful REST response.
func etagHeader(ctx context.Context, w http.ResponseWriter, resp proto.Message) error {
	etag, ok := etagOf(resp.ProtoReflect())
	if !ok || etag == "" {
		return nil
	}
	if req := restRequestFrom(ctx); req != nil && !req.etagApplied && !req.ifMatch.matches(etag) {
		if method, _ := runtime.RPCMethod(ctx); strings.HasPrefix(method[strings.LastIndex(method, "/")+1:], "Get") {
			return withInfo(codes.Aborted, "the resource's etag is not the one If-Match names", "ETAG_MISMATCH").Err()
		}
	}
	w.Header().Set("ETag", `"`+etag+`"`)
	return nil
}

// etagOf returns a message's own etag field.
func etagOf(m protoreflect.Message) (string, bool) {
	fd := m.Descriptor().Fields().ByName("etag")
	if fd == nil || fd.Kind() != protoreflect.StringKind || fd.IsList() {
		return "", false
	}
	return m.Get(fd).String(), true
}

// ifMatchUnary is the gateway connection's client interceptor that honours
// If-Match on writes: it puts the entity tag in the request message as its
// etag (the request's own, or for an update the resource's), so the server
// checks it as it checks any etag, under the same row lock. A stale one
// comes back ABORTED ETAG_MISMATCH, which the front turns into 412. An
// etag already in the body must agree with If-Match.
func ifMatchUnary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	state := restRequestFrom(ctx)
	msg, ok := req.(proto.Message)
	if state == nil || !ok || !state.ifMatch.present || state.ifMatch.any {
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	target, fd := etagTarget(msg.ProtoReflect())
	if fd == nil {
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	if len(state.ifMatch.tags) != 1 {
		return withInfo(codes.InvalidArgument, "If-Match on a write names one entity tag", "IF_MATCH_LIST").Err()
	}
	tag := state.ifMatch.tags[0]
	if current := target.Get(fd).String(); current != "" && current != tag {
		return withInfo(codes.Aborted, "the etag in the body is not the one If-Match names", "ETAG_MISMATCH").Err()
	}
	target.Set(fd, protoreflect.ValueOfString(tag))
	state.etagApplied = true
	return invoker(ctx, method, req, reply, cc, opts...)
}

// etagTarget finds where a request carries the etag to check: its own etag
// field (custom methods), or the etag of the resource it updates (the one
// message field that has one, and is set).
func etagTarget(m protoreflect.Message) (protoreflect.Message, protoreflect.FieldDescriptor) {
	if _, ok := etagOf(m); ok {
		return m, m.Descriptor().Fields().ByName("etag")
	}
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if fd.Message() == nil || fd.IsList() || fd.IsMap() || !m.Has(fd) {
			continue
		}
		sub := m.Mutable(fd).Message()
		if _, ok := etagOf(sub); ok {
			return sub, sub.Descriptor().Fields().ByName("etag")
		}
	}
	return nil, nil
}
