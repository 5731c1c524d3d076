package server

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/test/bufconn"
)

// Client addresses. A call's log line names the client it came from: the
// TCP peer, unless that peer is a trusted proxy (Config.TrustedProxies),
// when X-Forwarded-For says whom the proxy was forwarding for. The rule is
// the same over REST (the X-Forwarded-For header) and gRPC (the
// x-forwarded-for metadata that L7 proxies such as Envoy add); an untrusted
// peer's X-Forwarded-For is ignored, since anyone can send one.
//
// REST calls reach the gRPC server over the gateway's in-memory
// connection, whose peer is the gateway itself. So the gateway works the
// REST client's address out from the HTTP request and sends it in
// clientAddrHeader, which the gRPC side believes only on that connection
// (recognised by gatewayAddr, a type nothing on the network can produce).
// The gateway never forwards the header from an HTTP request (see
// incomingHeader), and a direct gRPC caller sending it is ignored.

// clientAddrHeader carries a REST caller's address from the gateway to the
// gRPC server.
const clientAddrHeader = "x-arrs-client-addr"

// How a call arrived, as logged.
const (
	viaGRPC = "grpc"
	viaREST = "rest"
)

// ParseTrustedProxies parses a comma-separated list of CIDR prefixes
// ("10.0.0.0/8") and single addresses ("192.0.2.7", meaning /32 or /128).
func ParseTrustedProxies(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if strings.Contains(item, "/") {
			p, err := netip.ParsePrefix(item)
			if err != nil {
				return nil, fmt.Errorf("trusted proxies: %w", err)
			}
			if p.Addr().Is4In6() {
				return nil, fmt.Errorf("trusted proxies: %q: write an IPv4 prefix as IPv4", item)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(item)
		if err != nil {
			return nil, fmt.Errorf("trusted proxies: %w", err)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// proxies are the trusted proxies.
type proxies []netip.Prefix

func (ps proxies) trusted(a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientAddr returns the client a request came from, given its TCP peer and
// its X-Forwarded-For values in the order received. Each proxy appends the
// address it received the request from, so the chain is read from the
// right: while the hop nearest arrs is a trusted proxy, the one before it
// is believed; the first untrusted hop is the client. A malformed entry
// ends the walk at the last hop believed, and when every hop is trusted the
// leftmost is the client.
func (ps proxies) clientAddr(peerAddr netip.Addr, forwardedFor []string) netip.Addr {
	client := peerAddr.Unmap()
	if !client.IsValid() || !ps.trusted(client) {
		return client
	}
	var hops []string
	for _, v := range forwardedFor {
		hops = append(hops, strings.Split(v, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		hop, ok := parseHop(hops[i])
		if !ok {
			break
		}
		client = hop
		if !ps.trusted(hop) {
			break
		}
	}
	return client
}

// parseHop reads one X-Forwarded-For entry: an address, perhaps with a
// port ("192.0.2.1:5678", "[2001:db8::1]:80").
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

// httpClientAddr is a REST request's client.
func (ps proxies) httpClientAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return ps.clientAddr(ap.Addr(), r.Header.Values("X-Forwarded-For"))
}

// gatewayMetadata is the gateway's metadata annotator: it sends the REST
// client's address with the call.
func (ps proxies) gatewayMetadata(_ context.Context, r *http.Request) metadata.MD {
	if a := ps.httpClientAddr(r); a.IsValid() {
		return metadata.Pairs(clientAddrHeader, a.String())
	}
	return nil
}

// callOrigin says how a call arrived (viaGRPC or viaREST) and from which
// client; the address is invalid when it cannot be told.
func (ps proxies) callOrigin(ctx context.Context) (string, netip.Addr) {
	p, ok := peer.FromContext(ctx)
	if !ok || p.Addr == nil {
		return viaGRPC, netip.Addr{}
	}
	md, _ := metadata.FromIncomingContext(ctx)
	if _, ok := p.Addr.(gatewayAddr); ok {
		// One value, as the gateway sends; anything else is not the
		// gateway's doing.
		if vs := md.Get(clientAddrHeader); len(vs) == 1 {
			if a, err := netip.ParseAddr(vs[0]); err == nil {
				return viaREST, a
			}
		}
		return viaREST, netip.Addr{}
	}
	return viaGRPC, ps.clientAddr(addrOf(p.Addr), md.Get("x-forwarded-for"))
}

// addrOf is a network address's IP, if it has one.
func addrOf(a net.Addr) netip.Addr {
	if tcp, ok := a.(*net.TCPAddr); ok {
		return tcp.AddrPort().Addr().Unmap()
	}
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

// gatewayAddr is the peer address of every connection the gateway makes to
// the gRPC server.
type gatewayAddr struct{}

func (gatewayAddr) Network() string { return "arrs-gateway" }
func (gatewayAddr) String() string  { return "arrs-gateway" }

// gatewayListener is the in-memory listener the gateway dials; the
// connections it accepts report gatewayAddr as their peer.
type gatewayListener struct{ *bufconn.Listener }

func (l gatewayListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return gatewayConn{c}, nil
}

type gatewayConn struct{ net.Conn }

func (gatewayConn) RemoteAddr() net.Addr { return gatewayAddr{} }
