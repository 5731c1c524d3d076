package server

import (
	"context"
	"sync"

	middleware "github.com/grpc-ecosystem/go-grpc-middleware/v2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	encodingproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"
)

// requestCodec is the gRPC server's codec: protobuf, as ever, except that a
// request that does not parse (truncated, random bytes, a string that is
// not UTF-8) becomes INVALID_ARGUMENT, the caller's fault, rather than the
// INTERNAL that gRPC makes of any codec error.
//
// gRPC decodes a unary request before any interceptor runs and wraps a
// codec error as INTERNAL, so the codec cannot refuse the message itself.
// Instead it hands the handler chain an empty message and notes the error
// against that message; decodeUnary and decodeStream, early in the chain,
// take the note and refuse the call. Each server has its own codec and so
// its own notes.
type requestCodec struct {
	base encoding.CodecV2

	mu     sync.Mutex
	failed map[proto.Message]error
}

func newRequestCodec() *requestCodec {
	return &requestCodec{base: encoding.GetCodecV2(encodingproto.Name), failed: map[proto.Message]error{}}
}

// Name is the content subtype the codec serves: protobuf's own, which it
// replaces on this server.
func (c *requestCodec) Name() string { return encodingproto.Name }

func (c *requestCodec) Marshal(v any) (mem.BufferSlice, error) { return c.base.Marshal(v) }

func (c *requestCodec) Unmarshal(data mem.BufferSlice, v any) error {
	err := c.base.Unmarshal(data, v)
	m, ok := v.(proto.Message)
	if err == nil || !ok {
		return err
	}
	// What was decoded before the error is dropped: no handler may act on
	// half a message.
	proto.Reset(m)
	c.mu.Lock()
	c.failed[m] = err
	c.mu.Unlock()
	return nil
}

// take returns and forgets the error noted against m, if any.
func (c *requestCodec) take(m any) (error, bool) {
	pm, ok := m.(proto.Message)
	if !ok {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	err, ok := c.failed[pm]
	delete(c.failed, pm)
	return err, ok
}

// malformedStatus says why the message did not parse: protobuf's reason
// names the wire problem, never anything of the server's.
func malformedStatus(err error) error {
	return withInfo(codes.InvalidArgument, "the request message does not parse: "+err.Error(), "MALFORMED_MESSAGE").Err()
}

// decodeUnary refuses a unary call whose request did not parse. It must
// run for every call the codec decoded, or a note would be kept for ever,
// so it sits before anything that can refuse a call (access) and after
// the logging and metrics that should count it.
func decodeUnary(c *requestCodec) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if err, failed := c.take(req); failed {
			return nil, malformedStatus(err)
		}
		return handler(ctx, req)
	}
}

// decodeStream does the same for each message a stream receives.
func decodeStream(c *requestCodec) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return handler(srv, &decodedStream{WrappedServerStream: middleware.WrapServerStream(ss), codec: c})
	}
}

type decodedStream struct {
	*middleware.WrappedServerStream
	codec *requestCodec
}

func (s *decodedStream) RecvMsg(m any) error {
	if err := s.WrappedServerStream.RecvMsg(m); err != nil {
		return err
	}
	if err, failed := s.codec.take(m); failed {
		return malformedStatus(err)
	}
	return nil
}
